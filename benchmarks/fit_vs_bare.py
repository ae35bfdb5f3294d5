"""Training img/s through `fit` versus the bare model step, side by side in one run.

(a) bare: forward + backward + optimiser step of the same model on one batch of float
    tensors already in memory, in the same (channels_last) layout fit feeds (no data work);
(b) fit: fer-studio's whole loop on uint8 faces (batch slicing, on-device augmentation
    with the default strengths, loss, optimiser, LR schedule, progress events), timed
    between its step events after a warm-up, so data loading and validation are excluded.
The ratio b/a says how much the training loop costs on top of the model.

    python benchmarks/fit_vs_bare.py                          # resnet18_48 at 48x48, CPU
    python benchmarks/fit_vs_bare.py --backbone fer_cnn --steps 20 --device cuda
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from fer_engine.config import RunConfig
from fer_engine.data.arrays import DatasetArrays
from fer_engine.models import create_model
from fer_engine.training.events import StepProgress
from fer_engine.training.loop import fit, resolve_device
from fer_engine.training.rundir import RunDir


def bare_rate(cfg: RunConfig, steps: int, warmup: int) -> float:
    """(a) img/s of the model step alone, on the same device, optimiser and batch size."""
    from fer_engine.tricks.optim import build_optimizer

    dev = resolve_device(cfg.train.device)
    model = create_model(cfg.model, num_classes=7, in_chans=1).to(dev).train()
    opt = build_optimizer(model, cfg.optim)
    bs, size = cfg.train.batch_size, model.input_size
    # the layout fit's batches have: prepare_batch permutes (B, H, W, C) faces, so its float
    # input is channels_last in memory, which also picks the faster CPU convolution kernels
    x = torch.randn(bs, 1, size, size, device=dev).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 7, (bs,), device=dev)
    for i in range(warmup + steps):
        if i == warmup:
            _sync(dev)
            t0 = time.perf_counter()
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    _sync(dev)
    return bs * steps / (time.perf_counter() - t0)


def fit_rate(cfg: RunConfig, steps: int, warmup: int) -> tuple[float, dict]:
    """(b) img/s of `fit` between step events (every step reported), plus its summary."""
    import fer_engine.training.loop as loop

    n = cfg.train.batch_size * (warmup + steps)
    rng = np.random.default_rng(0)
    size = cfg.data.image_size
    data = DatasetArrays(
        images=rng.integers(0, 256, (n, size, size, 1), dtype=np.uint8),
        labels=np.arange(n, dtype=np.int64) % 7,
        class_names=["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"],
        splits={"train": np.arange(n)}, sources=[""] * n, layout="synthetic")
    stamps: list[tuple[int, float]] = []

    def emit(event) -> None:
        if isinstance(event, StepProgress):
            stamps.append((event.global_step, time.perf_counter()))

    loop.EVENTS_PER_SECOND = 1e9  # a stamp at every step (the cost of events is included)
    with tempfile.TemporaryDirectory() as tmp:
        summary = fit(cfg, RunDir.create(Path(tmp), cfg), emit, lambda: False, dataset=data)
    after = [(s, t) for s, t in stamps if s >= warmup]
    (s0, t0), (s1, t1) = after[0], after[-1]
    return cfg.train.batch_size * (s1 - s0) / (t1 - t0), summary


def _sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--backbone", default="resnet18_48")
    p.add_argument("--size", type=int, default=48, help="input size (the faces are 48x48)")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--steps", type=int, default=15)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--device", default="cpu")
    args = p.parse_args()
    cfg = RunConfig().replace(**{
        "model.backbone": args.backbone, "model.input_size": args.size, "train.batch_size": args.batch,
        "train.epochs": 1, "train.device": args.device, "eval.splits": [],
        "schedule.name": "constant", "normalize.mode": "fixed",
    })
    print(f"{args.backbone} at {args.size}x{args.size}, batch {args.batch}, device "
          f"{resolve_device(args.device)}, {torch.get_num_threads()} threads, {args.steps} timed steps")
    a = bare_rate(cfg, args.steps, args.warmup)
    b, summary = fit_rate(cfg, args.steps, args.warmup)
    print(f"(a) bare model step   {a:9.1f} img/s")
    print(f"(b) fit (default aug) {b:9.1f} img/s")
    print(f"b/a = {b / a:.3f}")
    print(f"peak host RSS {summary.get('peak_host_mb', 0):.0f} MiB"
          + (f", peak GPU memory {summary['peak_gpu_mb']:.0f} MiB" if "peak_gpu_mb" in summary else ""))


if __name__ == "__main__":
    main()
