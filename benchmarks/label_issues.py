"""Finding wrong labels on real faces: a FER2013 subset with 5% of its labels flipped on purpose.

    python benchmarks/label_issues.py                                  # 700 faces per class, k=3, 6 epochs
    python benchmarks/label_issues.py --per-class 200 --epochs 3       # a shorter run
    python benchmarks/label_issues.py --oof hog-lda --per-class 436     # no training: HOG + LDA out-of-fold

The subset (`--per-class` Training faces of each class, seeded) is laid out as class folders of
symbolic links in a temporary folder, and `--flip` of the faces are linked under a wrong class
(uniform over the other six). A k-fold run of the `quick-cpu` preset (the machine's CPU backbone, `--k` folds,
`--epochs` each) gives out-of-fold probabilities for every face, `fer_engine.eval.label_issues`
ranks them with cleanlab, and the flagged faces are scored against the flips: precision, recall,
and the precision of the top-N ranked faces (N = the number of flips). Printed with the
out-of-fold accuracy against the given labels, wall time, device and precision. `--oof hog-lda`
replaces the k-fold CNN by HOG features and a linear discriminant (scikit-learn, `--k`-fold
cross_val_predict): a weaker classifier in a minute, to see how the ranking depends on it.
FER2013's own label noise counts against precision here: a flagged face that was not flipped
may still be wrongly labelled.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from fer_engine.classes import FER2013_CLASSES
from fer_engine.eval.label_issues import label_issues_for_run
from fer_engine.scoring.predictions import Predictions
from fer_engine.paths import shared_data_dir
from fer_engine.presets import load_preset
from fer_engine.training.run import fit
from fer_engine.training.precision import amp_dtype, describe
from fer_engine.training.rundir import RunDir


def flipped_subset(fer2013: Path, out: Path, per_class: int, flip: float, seed: int) -> dict[str, str]:
    """Class folders of links to `per_class` Training faces per class; returns {link: true class}
    for the links placed under a wrong class."""
    rng = np.random.default_rng(seed)
    picked = []
    for name in FER2013_CLASSES:
        files = sorted((fer2013 / "train" / name).iterdir())
        for f in rng.choice(files, min(per_class, len(files)), replace=False):
            picked.append((f, name))
    wrong = set(rng.choice(len(picked), int(round(flip * len(picked))), replace=False).tolist())
    flipped = {}
    for i, (f, name) in enumerate(picked):
        label = name
        if i in wrong:
            label = [c for c in FER2013_CLASSES if c != name][rng.integers(len(FER2013_CLASSES) - 1)]
        link = out / label / f.name
        link.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(f, link)
        if label != name:
            flipped[str(link)] = name
    return flipped


def hog_lda(folder: Path, flipped: dict[str, str], args) -> int:
    """Out-of-fold probabilities from HOG + LDA, ranked by the same cleanlab code."""
    import cv2
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    from fer_engine.config import DataConfig
    from fer_engine.data import load_dataset
    from fer_engine.eval.label_issues import rank_label_issues

    t0 = time.perf_counter()
    data = load_dataset(DataConfig(path=str(folder), test_fraction=0.0, val_fraction=0.0,
                                   cache_dir=str(folder.parent / "cache")))
    hog = cv2.HOGDescriptor((48, 48), (16, 16), (8, 8), (8, 8), 9)
    x = np.stack([hog.compute(np.ascontiguousarray(im[..., 0])).ravel() for im in data.images])
    probs = cross_val_predict(LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto"), x, data.labels,
                              cv=StratifiedKFold(args.k, shuffle=True, random_state=args.seed), method="predict_proba")
    flagged, scores = rank_label_issues(data.labels, probs)
    elapsed = time.perf_counter() - t0
    wrong = np.array([s in flipped for s in data.sources])
    hits = int((flagged & wrong).sum())
    top = np.argsort(scores)[:int(wrong.sum())]
    print(f"FER2013 subset: {len(data.labels)} faces ({args.per_class} per class at most), {int(wrong.sum())} labels "
          f"flipped ({args.flip:.0%}); HOG + LDA, {args.k}-fold out-of-fold probabilities")
    print(f"out-of-fold accuracy against the given labels: {(probs.argmax(1) == data.labels).mean():.3f}")
    print(f"flagged {int(flagged.sum())}: precision {hits / max(int(flagged.sum()), 1):.3f}, "
          f"recall {hits / max(int(wrong.sum()), 1):.3f}; precision of the top {int(wrong.sum())}: "
          f"{wrong[top].mean():.3f}")
    print(f"features, cross-validation and ranking {elapsed:.0f} s on the CPU")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=None, help="FER2013 image folders (default: the shared data)")
    ap.add_argument("--per-class", type=int, default=700)
    ap.add_argument("--flip", type=float, default=0.05)
    ap.add_argument("--k", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--preset", default="quick-cpu")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--oof", choices=("kfold", "hog-lda"), default="kfold",
                    help="out-of-fold probabilities from a k-fold run (default) or HOG + LDA")
    args = ap.parse_args(argv)
    shared = shared_data_dir()
    fer2013 = Path(args.data) if args.data else (shared / "fer2013" if shared else None)
    if fer2013 is None or not (fer2013 / "train").is_dir():
        print("FER2013 image folders not found (set --data or FER_SHARED_DATA)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="fer-label-issues-") as tmp:
        tmp = Path(tmp)
        flipped = flipped_subset(fer2013, tmp / "faces", args.per_class, args.flip, args.seed)
        if args.oof == "hog-lda":
            return hog_lda(tmp / "faces", flipped, args)
        cfg = load_preset(args.preset).replace(**{
            "data.path": str(tmp / "faces"), "data.test_fraction": 0.0, "kfold.k": args.k,
            "train.time_budget_min": 0,  # folds train a fixed number of epochs, not to a clock
            "train.epochs": args.epochs, "train.device": args.device, "eval.splits": ["val"],
            "eval.tta": "none", "name": "label-issues-benchmark"})
        run = RunDir.create(tmp / "runs", cfg)
        t0 = time.perf_counter()
        summary = fit(cfg, run, lambda e: None, lambda: False)
        train_s = time.perf_counter() - t0
        if summary["status"] != "finished":
            print(f"training failed: {summary.get('error')}", file=sys.stderr)
            return 1
        t0 = time.perf_counter()
        report = label_issues_for_run(run.path)
        rank_s = time.perf_counter() - t0
        oof = Predictions.load(run.predictions_path("oof"))
    flagged = [i.source for i in report.issues]
    hits = len(set(flagged) & set(flipped))
    top = [i.source for i in report.issues[:len(flipped)]]
    import torch

    device = torch.device("cuda" if args.device == "auto" and torch.cuda.is_available() else
                          "cpu" if args.device == "auto" else args.device)
    print(f"FER2013 subset: {report.faces} faces ({args.per_class} per class), {len(flipped)} labels flipped "
          f"({args.flip:.0%}); {args.k}-fold {args.preset}, {args.epochs} epochs per fold")
    print(f"out-of-fold accuracy against the given labels: {(oof.y_pred == oof.y_true).mean():.3f}")
    print(f"flagged {len(flagged)}: precision {hits / max(len(flagged), 1):.3f}, "
          f"recall {hits / max(len(flipped), 1):.3f}; "
          f"precision of the top {len(flipped)}: {len(set(top) & set(flipped)) / max(len(flipped), 1):.3f}")
    print(f"training {train_s / 60:.1f} min, ranking {rank_s:.1f} s; "
          f"{describe(device, amp_dtype(device, cfg.train.amp), cfg.train.channels_last)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
