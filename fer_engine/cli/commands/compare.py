"""`fer-studio compare RUN_A RUN_B`: two runs on the same test split, and whether they really differ."""
from __future__ import annotations

import argparse
import json
import sys

NAME = "compare"
HELP = ("Compare two runs on the same split: each accuracy with its 95% interval, the difference with "
        "its paired 95% interval, and the exact McNemar test on the faces where they disagree.")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_a", metavar="RUN_A", help="a run or ensemble directory")
    p.add_argument("run_b", metavar="RUN_B", help="another one, evaluated on the same split")
    p.add_argument("--split", default="test", help="split to compare on (default test)")
    p.add_argument("--tta", action="store_true", help="compare the TTA predictions")
    p.add_argument("--device", default="auto", help="where to predict when predictions are not stored yet")
    p.add_argument("--json", action="store_true", help="print the comparison as JSON")


def run(args: argparse.Namespace) -> int:
    from ...eval.compare import compare_runs, describe

    c = compare_runs(args.run_a, args.run_b, args.split, args.tta, args.device)
    if args.json:
        print(json.dumps({"faces": c.n, "accuracy_a": c.accuracy_a,
                          "accuracy_a_ci95": [c.interval_a.low, c.interval_a.high],
                          "accuracy_b": c.accuracy_b, "accuracy_b_ci95": [c.interval_b.low, c.interval_b.high],
                          "difference": c.difference,
                          "difference_ci95": [c.difference_interval.low, c.difference_interval.high],
                          "p_mcnemar": c.p_mcnemar, "significant": c.significant}, indent=1))
        return 0
    out = sys.stdout
    print(f"{args.split}{' (TTA)' if args.tta else ''}: {c.n} faces", file=out)
    print(f"A {args.run_a}\n  accuracy {c.accuracy_a:.4f} {c.interval_a}", file=out)
    print(f"B {args.run_b}\n  accuracy {c.accuracy_b:.4f} {c.interval_b}", file=out)
    print(describe(c), file=out)
    return 0
