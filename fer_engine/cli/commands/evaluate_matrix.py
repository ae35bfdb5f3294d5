"""`fer-studio evaluate-matrix --runs R1 R2 --data D1 D2`: accuracy of every run on every dataset."""
from __future__ import annotations

import argparse
import json
import sys

NAME = "evaluate-matrix"
HELP = ("Cross-dataset evaluation: accuracy and macro-F1 of each run on each dataset (all of its "
        "faces by default), classes matched by name; classes outside a model's set are reported.")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--runs", nargs="+", required=True, metavar="RUN", help="run or ensemble directories")
    p.add_argument("--data", nargs="+", required=True, metavar="PATH",
                   help="datasets (folder, CSV, 'demo'); 'own' = each run's own dataset")
    p.add_argument("--split", default="all", help="all (default), test, val or train")
    p.add_argument("--label-map", default="", help="numbering of digit class folders in the datasets (e.g. rafdb)")
    p.add_argument("--device", default="auto")
    p.add_argument("--json", action="store_true", help="print the matrix as JSON")


def run(args: argparse.Namespace) -> int:
    from ...eval.cross_dataset import cross_dataset_matrix
    from .evaluate import progress_printer

    options = {"label_map": args.label_map} if args.label_map else None
    m = cross_dataset_matrix(args.runs, args.data, args.split, device=args.device, data_options=options,
                             progress=progress_printer())
    if args.json:
        json.dump(m.to_dict(), sys.stdout, indent=1, allow_nan=True)
        sys.stdout.write("\n")
    else:
        print(m.format_text())
    return 0 if not all(c.error for c in m.cells) else 2
