"""`fer-studio label-issues RUN [--json]`: the faces whose given label is most likely wrong."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

NAME = "label-issues"
HELP = ("Rank the faces whose given label is most likely wrong (cleanlab), from a k-fold run's "
        "out-of-fold predictions or a run's predictions on a split; optionally write a new version "
        "of the label-overrides file that excludes or relabels the top ones (the dataset is never modified).")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_dir", metavar="RUN", help="a finished run (best: a k-fold parent run)")
    p.add_argument("--split", default="auto", choices=("auto", "oof", "val", "test"),
                   help="predictions to rank from (default: out-of-fold when the run has them, else val, else test)")
    p.add_argument("--json", action="store_true", help="print every flagged face as JSON")
    p.add_argument("--top", type=int, default=20, metavar="N", help="faces listed in the text output (default 20)")
    p.add_argument("--mark-top", type=int, default=0, metavar="N",
                   help="write a label-overrides version marking the N most likely wrong faces")
    p.add_argument("--action", choices=("exclude", "relabel"), default="exclude",
                   help="with --mark-top: leave those faces out, or relabel them to the suggested class")
    p.add_argument("--overrides", metavar="FILE", default="",
                   help="with --mark-top: the overrides file to start from (default: the run's data.label_overrides)")


def run(args: argparse.Namespace) -> int:
    from ...data.overrides import LabelOverrides, load_overrides
    from ...eval.label_issues import label_issues_for_run
    from ...training.rundir import RunDir
    from .. import CliError

    if args.mark_top < 0 or args.top < 0:
        raise CliError("--top and --mark-top must be 0 or more")
    report = label_issues_for_run(args.run_dir, args.split)
    doc = report.to_dict()
    if args.mark_top:
        cfg = RunDir.open(args.run_dir).config()
        base = args.overrides or cfg.data.label_overrides
        ov = load_overrides(base) if base else LabelOverrides(dataset=cfg.data.path)
        ov.based_on = base
        for issue in report.issues[:args.mark_top]:
            ov.mark(issue.source, args.action, issue.suggested)
        folder = Path(args.run_dir).resolve().parent / "label-overrides"
        path = ov.save_new_version(folder)
        doc["overrides_written"] = str(path)
        print(f"wrote {path}: use it with --set data.label_overrides={path}", file=sys.stderr)
    if args.json:
        json.dump(doc, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        print(report.format_text(args.top))
    return 0
