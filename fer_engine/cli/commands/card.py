"""`fer-studio card RUN [--out FILE]`: the model card (Markdown) of a run or an ensemble."""
from __future__ import annotations

import argparse
from pathlib import Path

NAME = "card"
HELP = ("Write MODEL_CARD.md for a run or ensemble: data and its known problems, recipe, per-class "
        "metrics, confusion matrix, accuracy with intervals, other datasets, intended use and limits.")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_dir", metavar="RUN", help="a finished run or ensemble directory")
    p.add_argument("--out", metavar="FILE", default="", help="where to write it (default RUN/MODEL_CARD.md)")
    p.add_argument("--no-report", action="store_true", help="skip the dataset report (duplicates, leaks)")


def run(args: argparse.Namespace) -> int:
    from ...export.card import write_model_card

    out = Path(args.out) if args.out else Path(args.run_dir) / "MODEL_CARD.md"
    print(write_model_card(args.run_dir, out, with_report=not args.no_report))
    return 0
