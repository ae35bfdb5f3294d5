"""fit's own host time per training step, measured with a model that costs almost nothing.

Where a model's step is launch-bound (the small CNNs on a large GPU), the host's time per step
and not the arithmetic sets the speed. In that case fit's bookkeeping decides b/a in
benchmarks/throughput.py: batch gather, uint8 conversion, augmentation, normalisation, LR
schedule, autocast and running metrics. This script times, in interleaved rounds on random
48x48 faces:
  bare        forward + loss + backward + optimiser step (as fit builds it) of a linear model
              that reads one pixel, on a fixed batch already on the device
  fit         fer-studio's fit with that model and fit's defaults, without augmentation
  fit + aug   the same with the default augmentation
It prints us/step (median and minimum over the rounds) and fit's own time, fit - bare.

    python benchmarks/step_overhead.py                   # CPU or GPU, whichever is there
    python benchmarks/step_overhead.py --batch 2 --rounds 9
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import fer_engine.models
from fer_engine.classes import FER2013_CLASSES
from fer_engine.config import RunConfig
from fer_engine.data.arrays import DatasetArrays
from fer_engine.training.events import StepProgress
from fer_engine.training.run import fit
from fer_engine.training.precision import amp_dtype
from fer_engine.training.rundir import RunDir
from fer_engine.utils.machine import machine_line
from fer_engine.recipe.optim import build_optimizer

NO_AUGMENT = {f"augment.{k}": 0.0 for k in ("hflip", "rotation", "translate", "scale", "brightness", "contrast")}


class OnePixel(nn.Module):
    """A model whose step costs a few tiny kernels: what remains is the loop around it."""

    input_size = 48

    def __init__(self, num_classes: int = 7, in_chans: int = 1):
        super().__init__()
        self.fc = nn.Linear(1, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x[:, :1, 0, :1].flatten(1))


def random_faces(n: int, seed: int = 0) -> DatasetArrays:
    rng = np.random.default_rng(seed)
    return DatasetArrays(images=rng.integers(0, 256, (n, 48, 48, 1), dtype=np.uint8),
                         labels=rng.integers(0, 7, n), class_names=list(FER2013_CLASSES),
                         splits={"train": np.arange(n)}, sources=[""] * n, layout="synthetic")


def bare_us(cfg: RunConfig, device: torch.device, steps: int) -> float:
    model = OnePixel().to(device)
    opt = build_optimizer(model, cfg.optim)
    dtype = amp_dtype(device, cfg.train.amp)
    x = torch.rand(cfg.train.batch_size, 1, 48, 48, device=device)
    y = torch.randint(0, 7, (cfg.train.batch_size,), device=device)

    def step():
        with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
            loss = F.cross_entropy(model(x).float(), y)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    for _ in range(20):
        step()
    _sync(device)
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    _sync(device)
    return (time.perf_counter() - t0) / steps * 1e6


def fit_us(cfg: RunConfig, data: DatasetArrays, warmup: int) -> float:
    """us/step between fit's step events after `warmup` steps (each event reads the loss back)."""
    stamps: list[tuple[int, float]] = []

    def emit(event):
        if isinstance(event, StepProgress):
            stamps.append((event.global_step, time.perf_counter()))

    with tempfile.TemporaryDirectory() as tmp:
        summary = fit(cfg, RunDir.create(Path(tmp), cfg), emit, lambda: False, dataset=data)
    if summary["status"] != "finished":
        raise SystemExit(f"fit {summary['status']}: {summary.get('error')}")
    after = [(s, t) for s, t in stamps if s >= warmup]
    (s0, t0), (s1, t1) = after[0], after[-1]
    return (t1 - t0) / (s1 - s0) * 1e6


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batch", type=int, default=0, help="0 = 2 on CPU (its kernels then cost little), 256 on GPU")
    ap.add_argument("--steps", type=int, default=1500, help="steps per timing")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = ap.parse_args()
    device = torch.device(args.device)
    batch = args.batch or (256 if device.type == "cuda" else 2)
    if device.type == "cpu":
        torch.set_num_threads(1)  # kernels this small only pay for waking a second thread
    warmup = 50
    data = random_faces(batch * (args.steps + warmup))
    fer_engine.models.create_model = lambda cfg, num_classes, in_chans: OnePixel(num_classes, in_chans)
    base = RunConfig().replace(**{
        "data.path": "synthetic", "train.epochs": 1, "train.batch_size": batch, "train.device": str(device),
        "eval.splits": []})
    loops = {"bare": lambda: bare_us(base, device, args.steps),
             "fit": lambda: fit_us(base.replace(**NO_AUGMENT), data, warmup),
             "fit + aug": lambda: fit_us(base, data, warmup)}
    times: dict[str, list[float]] = {name: [] for name in loops}
    for _ in range(args.rounds):
        for name, loop in loops.items():
            times[name].append(loop())
    where = (torch.cuda.get_device_name(device) if device.type == "cuda"
             else f"{machine_line()}, {torch.get_num_threads()} threads")
    print(f"device: {where}; batch {batch}; {args.rounds} rounds of {args.steps} steps; "
          f"AMP dtype {amp_dtype(device, base.train.amp)}; torch {torch.__version__}")
    bare_med, bare_min = statistics.median(times["bare"]), min(times["bare"])
    print(f"{'loop':12}{'us/step median':>16}{'min':>8}{'fit own (median)':>18}{'fit own (min)':>15}")
    for name, values in times.items():
        med, low = statistics.median(values), min(values)
        own = "" if name == "bare" else f"{med - bare_med:18.0f}{low - bare_min:15.0f}"
        print(f"{name:12}{med:16.0f}{low:8.0f}{own}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
