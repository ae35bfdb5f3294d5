"""Time to open the analysis of a run on the FER2013 PrivateTest split (3,589 faces).

Measured, each in this process on the chosen device (CPU by default):
  dataset    load_dataset of the run's data (the uint8 cache; cold when --cold-cache)
  compute    open_analysis with no stored predictions: the model runs over the split
  first      open_analysis of a run whose predictions `fit` stored (what the GUI meets first)
  reopen     open_analysis again (a second page or a re-open)
  pca        the 2-D PCA of the features for the scatter
  tsne       (with --tsne) the t-SNE option

Without RUN_DIR it first trains a small fer_cnn run on ../shared/data/fer2013
(--per-class faces per class, --epochs), so the numbers can be reproduced from scratch:

    python benchmarks/analysis_open.py                    # trains a quick run, then measures
    python benchmarks/analysis_open.py RUN_DIR --tsne     # an existing FER2013 run
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path


def _timed(label: str, fn):
    t0 = time.perf_counter()
    out = fn()
    dt = time.perf_counter() - t0
    print(f"{label:<9} {dt:8.2f} s")
    return out, dt


def train_quick_run(data: Path, runs_root: Path, per_class: int, epochs: int, backbone: str) -> Path:
    from fer_engine.config import RunConfig
    from fer_engine.training.run import fit
    from fer_engine.training.rundir import RunDir

    cfg = RunConfig().replace(**{
        "data.path": str(data), "data.max_per_class": per_class, "model.backbone": backbone,
        "train.epochs": epochs, "train.device": "cpu", "eval.splits": ["test"], "name": "bench"})
    run = RunDir.create(runs_root, cfg)
    print(f"training {backbone} for {epochs} epoch(s), {per_class} faces/class -> {run.path}")
    summary = fit(cfg, run, lambda e: None, lambda: False)
    if summary.get("status") != "finished":
        sys.exit(f"training did not finish: {summary}")
    return run.path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run_dir", nargs="?", help="an existing run trained on FER2013 (default: train one)")
    ap.add_argument("--data", default=None, help="FER2013 folder (default ../shared/data/fer2013)")
    ap.add_argument("--per-class", type=int, default=300)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--backbone", default="fer_cnn")
    ap.add_argument("--runs-root", default=None, help="keep the trained run here (default: a temp folder)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--split", default="test")
    ap.add_argument("--tsne", action="store_true", help="also time the t-SNE embedding")
    ap.add_argument("--cold-cache", action="store_true",
                    help="use an empty dataset cache (times decoding every JPEG once)")
    args = ap.parse_args()

    import torch

    from fer_engine.eval.analysis import open_analysis
    from fer_engine.eval.store import load_eval_data
    from fer_engine.paths import shared_data_dir
    from fer_engine.training.rundir import RunDir

    tmp = Path(tempfile.mkdtemp(prefix="fer-bench-"))
    if args.cold_cache:
        os.environ["FER_STUDIO_CACHE"] = str(tmp / "cache")
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, device {args.device}")
    try:
        if args.run_dir:
            run_path = Path(args.run_dir)
        else:
            shared = shared_data_dir()
            data = Path(args.data) if args.data else (shared / "fer2013" if shared else None)
            if data is None or not data.is_dir():
                sys.exit("FER2013 folder not found: pass --data or set FER_SHARED_DATA")
            runs_root = Path(args.runs_root) if args.runs_root else tmp / "runs"
            run_path = train_quick_run(data, runs_root, args.per_class, args.epochs, args.backbone)
        run = RunDir.open(run_path)
        (_, dataset), _ = _timed("dataset", lambda: load_eval_data(run))
        n = len(dataset.splits[args.split])
        stored = run.predictions_path(args.split)
        kept = tmp / "kept.npz"
        if stored.is_file():
            shutil.copy2(stored, kept)
            stored.unlink()
        _timed("compute", lambda: open_analysis(run, args.split, device=args.device))
        if kept.is_file():  # put back what fit wrote, so "first" opens that file
            shutil.copy2(kept, stored)
        _timed("first", lambda: open_analysis(run, args.split, device=args.device))
        a, _ = _timed("reopen", lambda: open_analysis(run, args.split, device=args.device))
        _timed("pca", lambda: a.embedding("pca"))
        if args.tsne:
            _timed("tsne", lambda: a.embedding("tsne"))
        s = a.summary()
        print(f"{args.split}: {n} faces, accuracy {s['accuracy']:.4f}, macro-F1 {s['macro_f1']:.4f}, "
              f"features {a.predictions.features.shape[1]}-d")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
