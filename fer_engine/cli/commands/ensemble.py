"""`fer-studio ensemble RUN_DIR RUN_DIR ... --vote soft|hard --out DIR`: combine finished runs."""
from __future__ import annotations

import argparse
import json

from .evaluate import evaluate_summary, print_report

NAME = "ensemble"
HELP = ("Combine finished runs (any backbones, same classes) into an ensemble run directory "
        "with soft or hard voting, then print its metrics like `evaluate`.")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("runs", metavar="RUN_DIR", nargs="+", help="two or more finished run directories")
    p.add_argument("--vote", choices=("soft", "hard"), default="soft",
                   help="soft: mean probability; hard: majority of predicted classes (default soft)")
    p.add_argument("--out", metavar="DIR", required=True,
                   help="the new ensemble directory (e.g. under the runs folder)")
    p.add_argument("--name", default="", help="name shown in the runs list")
    p.add_argument("--split", default="test", help="split to report (default test)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, ...")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")


def run(args: argparse.Namespace) -> int:
    from ...eval.ensemble import create_ensemble

    ens = create_ensemble(args.runs, args.vote, args.out, args.name)
    s = evaluate_summary(str(ens.path), args.split, None, False, args.device)
    if args.json:
        print(json.dumps(s, indent=1))
    else:
        print_report(s)
        print(f"\nensemble written to {ens.path}")
    return 0
