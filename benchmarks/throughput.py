"""Training throughput, measured side by side in one run on the same machine.

For each model it prints img/s of
  (a) the bare model step on tensors already on the device (no data work at all),
  (b) fer-studio's `fit` loop with the default augmentations (uint8 cache on the device,
      batched augmentation), timed between step events after a warm-up,
  (c) the conventional torchvision ImageFolder + PIL transforms + DataLoader loop over
      the FER2013 image folders with the equivalent augmentations,
and the ratios b/a (how close fit gets to the bare model) and b/c (gain over the usual loop).

    python benchmarks/throughput.py                       # CPU or GPU, whichever is there
    python benchmarks/throughput.py --models fer_cnn --steps 30
    python benchmarks/throughput.py --variants plain amp+cl amp+cl+compile

Each model is measured under each variant of the options: "plain" (float32, default
memory format), "amp+cl" (fit's defaults: AMP, i.e. bfloat16 (float16 on pre-Ampere GPUs)
with native bf16, and channels_last) and optionally "amp+cl+compile" (torch.compile).
The three loops of one row share the variant, the optimiser (SGD) and the batch size.

Targets (issue 7): b/a >= 0.95 on CPU, >= 0.90 on GPU; b/c >= 1.2 on CPU, >= 5 on GPU.
Peak host RSS and peak GPU memory are printed at the end.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from fer_engine.config import RunConfig
from fer_engine.models import create_model
from fer_engine.paths import shared_data_dir
from fer_engine.training.precision import amp_dtype

VARIANTS = {  # label -> (amp, channels_last, compile)
    "plain": (False, False, False),
    "amp+cl": (True, True, False),
    "amp+cl+compile": (True, True, True),
}
MODELS = {  # label -> (backbone, input size)
    "fer_cnn": ("fer_cnn", 48),
    "fer_cnn_small": ("fer_cnn_small", 48),
    "resnet18_48": ("resnet18_48", 48),
    "resnet18_96": ("resnet18_48", 96),
}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _prepare_model(backbone: str, size: int, device, channels_last: bool, compile_: bool):
    cfg = RunConfig().replace(**{"model.backbone": backbone, "model.input_size": size})
    model = create_model(cfg.model, num_classes=7, in_chans=1).to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    return torch.compile(model) if compile_ else model


def timed_steps(model, next_batch, device, amp, steps, warmup, batch) -> float:
    """img/s of forward + backward + SGD steps on `next_batch()`, after `warmup` untimed steps."""
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    dtype = amp_dtype(device, amp)
    scaler = torch.amp.GradScaler(enabled=dtype == torch.float16)
    for i in range(warmup + steps):
        if i == warmup:
            _sync(device)
            t0 = time.perf_counter()
        x, y = next_batch()
        with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
            loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
    _sync(device)
    return batch * steps / (time.perf_counter() - t0)


def bare_step_rate(backbone, size, batch, steps, warmup, device, amp, channels_last, compile_):
    """(a) forward + backward + SGD step on a fixed batch already on the device."""
    model = _prepare_model(backbone, size, device, channels_last, compile_)
    x = torch.randn(batch, 1, size, size, device=device)
    if channels_last:
        x = x.to(memory_format=torch.channels_last)
    y = torch.randint(0, 7, (batch,), device=device)
    return timed_steps(model, lambda: (x, y), device, amp, steps, warmup, batch)


def fit_rate(backbone, size, batch, steps, warmup, device, amp, channels_last, compile_, data):
    """(b) fer-studio's fit with default augmentations, timed between step events."""
    from fer_engine.training.loop import fit
    from fer_engine.training.rundir import RunDir
    from fer_engine.training.events import StepProgress

    cfg = RunConfig().replace(**{
        "data.path": str(data), "model.backbone": backbone, "model.input_size": size,
        "train.epochs": 1, "train.batch_size": batch, "train.max_steps_per_epoch": warmup + steps,
        "train.amp": amp, "train.channels_last": channels_last, "train.compile": compile_,
        "train.device": str(device), "eval.splits": [], "optim.name": "sgd", "optim.lr": 0.01,
        "optim.momentum": 0.9, "optim.nesterov": False, "optim.weight_decay": 0.0,
    })
    stamps: list[tuple[int, float]] = []

    def emit(event):
        if isinstance(event, StepProgress):
            stamps.append((event.global_step, time.perf_counter()))

    with tempfile.TemporaryDirectory() as tmp:
        run_dir = RunDir.create(Path(tmp), cfg)
        fit(cfg, run_dir, emit, lambda: False)
    after = [(s, t) for s, t in stamps if s >= warmup]
    (s0, t0), (s1, t1) = after[0], after[-1]
    return batch * (s1 - s0) / (t1 - t0)


def imagefolder_rate(size, batch, steps, warmup, device, amp, channels_last, compile_,
                     backbone, data, workers):
    """(c) the conventional loop: ImageFolder + PIL transforms + DataLoader."""
    from torchvision import datasets, transforms

    tf = transforms.Compose([
        transforms.Grayscale(1),
        transforms.Resize(size),
        transforms.RandomHorizontalFlip(),
        transforms.RandomAffine(degrees=10, translate=(0.1, 0.1), scale=(0.9, 1.1)),
        transforms.ColorJitter(brightness=0.2, contrast=0.2),
        transforms.ToTensor(),
        transforms.Normalize([0.5], [0.25]),
    ])
    ds = datasets.ImageFolder(str(Path(data) / "train"), transform=tf)
    loader = torch.utils.data.DataLoader(
        ds, batch_size=batch, shuffle=True, num_workers=workers, drop_last=True,
        pin_memory=device.type == "cuda", persistent_workers=workers > 0)
    model = _prepare_model(backbone, size, device, channels_last, compile_)
    it = iter(loader)

    def next_batch():
        x, y = next(it)
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        return (x.to(memory_format=torch.channels_last) if channels_last else x), y

    return timed_steps(model, next_batch, device, amp, steps, warmup, batch)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    ap.add_argument("--batch", type=int, default=0, help="0 = 64 on CPU, 256 on GPU")
    ap.add_argument("--steps", type=int, default=0, help="timed steps (0 = 20 CPU / 200 GPU)")
    ap.add_argument("--warmup", type=int, default=0, help="untimed steps (0 = 3 CPU / 20 GPU)")
    ap.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 1),
                    help="DataLoader workers of the conventional loop")
    ap.add_argument("--data", default=None, help="FER2013 image folders (default ../shared/data/fer2013)")
    ap.add_argument("--variants", nargs="+", default=["plain", "amp+cl"], choices=list(VARIANTS))
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = ap.parse_args()

    data = Path(args.data) if args.data else (shared_data_dir() or Path("missing")) / "fer2013"
    if not (data / "train").is_dir():
        print(f"FER2013 image folders not found at {data}; pass --data", file=sys.stderr)
        return 2
    device = torch.device(args.device)
    gpu = device.type == "cuda"
    batch = args.batch or (256 if gpu else 64)
    steps = args.steps or (200 if gpu else 20)
    warmup = args.warmup or (20 if gpu else 3)
    name = torch.cuda.get_device_name(device) if gpu else f"CPU x{torch.get_num_threads()} threads"
    print(f"device: {name}; batch {batch}; {steps} timed steps after {warmup} warm-up; "
          f"AMP dtype {amp_dtype(device, True)}; DataLoader workers {args.workers}; torch {torch.__version__}")
    print(f"{'model':<15}{'variant':<16}{'(a) bare':>12}{'(b) fit':>12}{'(c) ImageFolder':>17}{'b/a':>8}{'b/c':>8}")
    for label in args.models:
        backbone, size = MODELS[label]
        for variant in args.variants:
            amp, cl, comp = VARIANTS[variant]
            opts = dict(device=device, amp=amp, channels_last=cl, compile_=comp)
            a = bare_step_rate(backbone, size, batch, steps, warmup, **opts)
            b = fit_rate(backbone, size, batch, steps, warmup, data=data, **opts)
            c = imagefolder_rate(size, batch, steps, warmup, backbone=backbone, data=data,
                                 workers=args.workers, **opts)
            print(f"{label:<15}{variant:<16}{a:>10.0f}/s{b:>10.0f}/s{c:>15.0f}/s{b / a:>8.2f}{b / c:>8.2f}",
                  flush=True)
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    gpu_peak = f"; peak GPU memory {torch.cuda.max_memory_allocated(device) / 2**20:.0f} MiB" if gpu else ""
    print(f"peak host RSS {peak_rss:.0f} MiB{gpu_peak}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
