"""`fer-studio inspect-data PATH [--json]`: the dataset report in the terminal (progress on stderr)."""
from __future__ import annotations

import argparse
import json
import sys

from .train import ProgressBar

NAME = "inspect-data"
HELP = ("Report on a dataset (folder, FER2013 CSV or 'demo'): counts, imbalance, mean/std, sizes "
        "and modes, unreadable files, byte-identical and conflicting copies, near-blank images.")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", metavar="PATH", help="dataset folder, FER2013 CSV file, or 'demo'")
    p.add_argument("--json", action="store_true", help="print the full report as JSON on stdout")
    p.add_argument("--image-size", type=int, default=48, help="decode size for mean/std (default 48)")
    p.add_argument("--channels", type=int, choices=(1, 3), default=1, help="1 = grayscale, 3 = RGB")
    p.add_argument("--val-fraction", type=float, default=0.1, help="when the layout has no val split")
    p.add_argument("--test-fraction", type=float, default=0.1,
                   help="test share of a single folder of class folders or a CSV without Usage")
    p.add_argument("--split-seed", type=int, default=0, help="seed of the stratified split")
    p.add_argument("--format", default="auto", help="dataset format (default: detected), e.g. ferplus, rafdb, "
                   "affectnet, ckplus, jaffe, expw, folders, fer2013_csv")
    p.add_argument("--label-map", default="",
                   help="numbering of digit class folders: fer2013, rafdb, affectnet, ckplus")
    p.add_argument("--label-mode", default="majority", choices=("majority", "plurality", "probability"),
                   help="faces with annotator votes (FERPlus)")
    p.add_argument("--subject-regex", default="", help="subject id from file names (group 1), for subject-wise splits")
    p.add_argument("--split-by", default="auto", choices=("auto", "subject", "image"))
    p.add_argument("--max-listed", type=int, default=10, metavar="N",
                   help="list at most N entries per finding in the text report (default 10)")


def run(args: argparse.Namespace) -> int:
    from ...data.report import dataset_report

    bar = ProgressBar(sys.stderr)
    try:
        report = dataset_report(args.path, progress=lambda f, message: bar.update(message, f),
                                image_size=args.image_size, channels=args.channels,
                                val_fraction=args.val_fraction, test_fraction=args.test_fraction,
                                split_seed=args.split_seed, format=args.format, label_map=args.label_map,
                                label_mode=args.label_mode, subject_regex=args.subject_regex,
                                split_by=args.split_by)
    finally:
        bar.done()
    if args.json:
        json.dump(report.to_dict(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(report.format_text(max_listed=args.max_listed))
    return 0
