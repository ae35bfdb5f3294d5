"""`fer-studio evaluate RUN_DIR`: metrics and confusion matrix of a run or ensemble on a split."""
from __future__ import annotations

import argparse
import json
import sys

NAME = "evaluate"
HELP = ("Evaluate a finished run or ensemble on a split (its own data or another dataset): "
        "accuracy, macro-F1, balanced accuracy, prior-corrected accuracy, per-class table, "
        "confusion matrix. Predictions are stored in the run directory and reused.")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run or ensemble directory")
    p.add_argument("--data", metavar="PATH", default=None,
                   help="evaluate on another dataset (folder or FER2013 CSV); classes are matched by name")
    p.add_argument("--split", default="test",
                   help="split to evaluate: test, val, train, or all (every face of the dataset; default test)")
    p.add_argument("--format", default="auto", help="with --data: the other dataset's format (default: detected)")
    p.add_argument("--label-map", default="", help="with --data: numbering of its digit class folders (e.g. rafdb)")
    p.add_argument("--tta", action="store_true",
                   help="test-time augmentation (the run's eval.tta, else flip); also prints the plain numbers")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, ...")
    p.add_argument("--checkpoint", choices=("best", "last"), default="best",
                   help="weights to evaluate: best.pt (default) or last.pt (e.g. when best.pt is damaged)")
    p.add_argument("--json", action="store_true", help="print the full metrics as JSON")
    p.add_argument("--out", metavar="DIR", default=None,
                   help="also write metrics.json, metrics.csv and confusion-matrix PNG/SVG here")


def progress_printer():
    """Progress on stderr for a terminal; silent when stderr is not one."""
    if not sys.stderr.isatty():
        return None
    last = [-1]

    def show(fraction: float, detail: str) -> None:
        pct = int(fraction * 100)
        if pct != last[0]:
            last[0] = pct
            print(f"\r{detail}: {pct:3d}%", end="", file=sys.stderr, flush=True)
            if pct >= 100:
                print(file=sys.stderr)
    return show


def evaluate_summary(run_dir: str, split: str, data: str | None, tta: bool, device: str,
                     data_options: dict | None = None, checkpoint: str = "best") -> dict:
    from ...scoring.metrics import summary
    from ...eval.source import predictions_for, train_class_counts
    from ...training.rundir import RunDir

    run = RunDir(run_dir)
    if not run.config_path.is_file():
        raise FileNotFoundError(f"not a run directory (no config.json): {run_dir}")
    preds = predictions_for(run, split, data, tta, device=device, progress=progress_printer(),
                            data_options=data_options, checkpoint=checkpoint)
    s = summary(preds, train_class_counts(run))
    s.update(run_dir=str(run.path), data=data or run.config().data.path)
    return s


def write_exports(s: dict, out_dir: str) -> list:
    """Metrics (CSV, JSON) and confusion matrix (PNG, SVG, and a row-normalised PNG) in `out_dir`."""
    from pathlib import Path

    from ...eval.export import ANALYSIS_EXPORTS, write_confusion

    out = Path(out_dir)
    tag = f"{s['split']}{'-tta' if s['tta'] != 'none' else ''}"
    metrics, matrix = ANALYSIS_EXPORTS["metrics"], ANALYSIS_EXPORTS["matrix"]
    return [*(metrics.write(s, out / f"{metrics.stem}-{tag}{sfx}") for sfx in metrics.suffixes),
            *(matrix.write(s, out / f"{matrix.stem}-{tag}{sfx}", title=f"{s['split']} ({tag})")
              for sfx in matrix.suffixes),
            write_confusion(s, out / f"{matrix.stem}-{tag}-normalized.png", normalized=True)]


def _exports_or_nothing(s: dict, out_dir: str) -> list:
    """write_exports; on a disk error a folder it made is removed and the error is one line."""
    import shutil
    from pathlib import Path

    from .. import CliError
    from ...utils.disk import disk_error_message

    made = not Path(out_dir).exists()
    try:
        return write_exports(s, out_dir)
    except OSError as e:
        if made:
            shutil.rmtree(out_dir, ignore_errors=True)
        raise CliError(disk_error_message(e, e.filename or out_dir)) from None


def print_report(s: dict, plain: dict | None = None) -> None:
    from ...eval.report import format_summary

    print(format_summary(s, title=f"run: {s['run_dir']}\ndata: {s['data']}"))
    if plain is not None:
        lo, hi = plain["accuracy_ci95"]
        print(f"\nwithout TTA: accuracy {plain['accuracy']:.4f} [{lo:.4f}, {hi:.4f}], "
              f"macro-F1 {plain['macro_f1']:.4f}, balanced accuracy {plain['balanced_accuracy']:.4f}")


def run(args: argparse.Namespace) -> int:
    options = {"format": args.format, "label_map": args.label_map}
    s = evaluate_summary(args.run_dir, args.split, args.data, args.tta, args.device, options,
                         args.checkpoint)
    plain = (evaluate_summary(args.run_dir, args.split, args.data, False, args.device, options,
                              args.checkpoint) if args.tta else None)
    if args.out:
        for path in _exports_or_nothing(s, args.out):
            print(f"wrote {path}", file=sys.stderr)
    if args.json:
        if plain is not None:
            s["without_tta"] = {k: plain[k] for k in ("accuracy", "accuracy_ci95", "macro_f1", "balanced_accuracy")}
        print(json.dumps(s, indent=1))
    else:
        print_report(s, plain)
    return 0
