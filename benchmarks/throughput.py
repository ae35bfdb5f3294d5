"""Training throughput, measured side by side in one run on the same machine.

For each model it prints img/s of
  (a) the bare model step on tensors already on the device (no data work at all),
  (b) fer-studio's `fit` loop with the default augmentations (uint8 cache on the device,
      batched augmentation), timed between step events after a warm-up,
  (c) the conventional torchvision ImageFolder + PIL transforms + DataLoader loop over
      the FER2013 image folders with the equivalent augmentations,
and the ratios b/a (how close fit gets to the bare model) and b/c (gain over the usual loop).

    python benchmarks/throughput.py                       # CPU or GPU, whichever is there
    python benchmarks/throughput.py --models fer_cnn --rounds 5
    python benchmarks/throughput.py --variants plain amp+cl amp+cl+compile
    python benchmarks/throughput.py --no-bf16             # float32 on a bfloat16 CPU too
    ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 python benchmarks/throughput.py --no-bf16
                                                          # as an AVX2-only CPU computes

Each model is measured under each variant of the options: "plain" (float32, default
memory format), "amp+cl" (fit's defaults: AMP, i.e. bfloat16 autocast where the GPU or CPU
computes it natively, float16 with loss scaling on older GPUs, and channels_last) and
optionally "amp+cl+compile" (torch.compile); `--no-bf16` turns AMP off in every variant,
so a bfloat16 machine measures the float32 case too (the header then says "float32 (forced)").
The three loops of one row share the variant, the optimiser settings (SGD, momentum 0.9)
and the batch size; (a) and (b) use the optimiser as fit builds it (torch's fused
implementation), (c) torch's default one, as usual code does.

Shared machines change speed by a factor of two within seconds (measured on the 2-core
CI machine: the same bare step took 62 to 147 ms), so one timing of each loop cannot
resolve a few percent. The loops are timed in `--rounds` rounds, each timing lasting about
`--seconds`, and a row prints the median img/s of each loop and the medians of the
per-round ratios b/a and b/c, with their range. `--pairing steps` (the default on CPU)
interleaves (a) and (b) step by step: fit checks its stop callback once at the top of every
batch, and the benchmark's callback runs one bare step there, so every fit step has a bare
step beside it under the same load. `--pairing blocks` (the default on GPU, where a per-step
synchronisation would hide the CPU running ahead of the GPU) times (a) and (b) one after
the other in each round. (c) is always a block of its own, since its DataLoader workers
would otherwise prepare batches during the other loops' steps.

Targets (issue 7): b/a >= 0.95 on CPU, >= 0.90 on GPU; b/c >= 1.2 on CPU, >= 5 on GPU; the
lines on fit as shipped against the conventional float32 loop, and the last lines on each row,
say whether they are met.
Each row also counts the aten ops that do work in one step of (a) and of (b): on a GPU, a
small model's kernels finish faster than the host launches them, so there the ratio of
the counts, not the arithmetic, bounds b/a.
Each row prints its fit runs' peak host and GPU memory (what a run directory records),
and the last line the benchmark process's peak host memory.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from torch.utils._python_dispatch import TorchDispatchMode

from fer_engine.config import OptimConfig, RunConfig
from fer_engine.data import load_dataset
from fer_engine.models import create_model
from fer_engine.paths import shared_data_dir
from fer_engine.recipe.optim import build_optimizer
from fer_engine.training.precision import amp_dtype
from fer_engine.training.precision import training_precision
from fer_engine.utils.machine import machine_line

VARIANTS = {  # label -> (amp, channels_last, compile)
    "plain": (False, False, False),
    "amp+cl": (True, True, False),
    "amp+cl+compile": (True, True, True),
}
MODELS = {  # label -> (backbone, input size)
    "fer_cnn": ("fer_cnn", 48),
    "fer_cnn_small": ("fer_cnn_small", 48),
    "fer_cnn_lite": ("fer_cnn_lite", 48),
    "resnet18_48": ("resnet18_48", 48),
    "resnet18_96": ("resnet18_48", 96),
}


# fit's optimiser in (a) and (b); (c) builds torch.optim.SGD with the same settings, as usual code does
FIT_SGD = OptimConfig(name="sgd", lr=0.01, momentum=0.9, nesterov=False, weight_decay=0.0)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _prepare_model(backbone: str, size: int, device, channels_last: bool, compile_: bool):
    cfg = RunConfig().replace(**{"model.backbone": backbone, "model.input_size": size})
    model = create_model(cfg.model, num_classes=7, in_chans=1).to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    return torch.compile(model) if compile_ else model


class SteppedModel:
    """A model with its SGD optimiser: `rate` times forward + backward + step on `next_batch()`."""

    def __init__(self, backbone, size, batch, device, amp, channels_last, compile_):
        self.model = _prepare_model(backbone, size, device, channels_last, compile_)
        self.opt = torch.optim.SGD(self.model.parameters(), lr=0.01, momentum=0.9)
        self.dtype = amp_dtype(device, amp)
        self.scaler = torch.amp.GradScaler(enabled=self.dtype == torch.float16)
        self.device, self.batch = device, batch

    def next_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def step(self) -> None:
        x, y = self.next_batch()
        with torch.autocast(self.device.type, dtype=self.dtype, enabled=self.dtype is not None):
            loss = F.cross_entropy(self.model(x), y)
        self.opt.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.opt)
        self.scaler.update()

    def rate(self, steps: int, warmup: int) -> float:
        """img/s of `steps` steps after `warmup` untimed ones."""
        for _ in range(warmup):
            self.step()
        _sync(self.device)
        t0 = time.perf_counter()
        for _ in range(steps):
            self.step()
        _sync(self.device)
        return self.batch * steps / (time.perf_counter() - t0)


_VIEW_OPS = {"view", "_unsafe_view", "_reshape_alias", "as_strided", "alias", "slice", "select", "expand",
             "permute", "transpose", "t", "unsqueeze", "squeeze", "unbind", "split", "detach", "lift_fresh"}


class OpCounter(TorchDispatchMode):
    """Counts the aten ops that do work (views excluded): on a GPU each is a kernel launch or
    a copy, whose host-side cost bounds a step whose kernels are short."""

    def __init__(self):
        super().__init__()
        self.ops = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func.overloadpacket.__name__ not in _VIEW_OPS:
            self.ops += 1
        return func(*args, **(kwargs or {}))


class BareLoop(SteppedModel):
    """(a) forward + backward + SGD step on a fixed batch already on the device, with the
    optimiser fit builds (fused where torch has it), so b/a is the cost of fit's loop alone."""

    def __init__(self, backbone, size, batch, device, amp, channels_last, compile_):
        super().__init__(backbone, size, batch, device, amp, channels_last, compile_)
        self.opt = build_optimizer(self.model, FIT_SGD)
        x = torch.randn(batch, 1, size, size, device=device)
        self.x = x.to(memory_format=torch.channels_last) if channels_last else x
        self.y = torch.randint(0, 7, (batch,), device=device)

    def next_batch(self):
        return self.x, self.y

    def ops_per_step(self) -> int:
        self.step()
        with OpCounter() as counter:
            self.step()
        return counter.ops


class FitLoop:
    """(b) fer-studio's fit with default augmentations, timed between step events.

    The FER2013 training split is decoded once (fit reads it from the uint8 cache) and handed
    to every fit without its validation split, so each timing is training steps only.
    """

    def __init__(self, backbone, size, batch, device, amp, channels_last, compile_, data, dataset):
        self.cfg = RunConfig().replace(**{
            "data.path": str(data), "model.backbone": backbone, "model.input_size": size,
            "train.epochs": 1, "train.batch_size": batch, "train.amp": amp,
            "train.channels_last": channels_last, "train.compile": compile_,
            "train.device": str(device), "eval.splits": [], "optim": dataclasses.asdict(FIT_SGD),
        })
        self.dataset, self.batch, self.device = dataset, batch, device
        self.peaks: dict[str, float] = {}

    def _fit(self, steps: int, emit, should_stop) -> None:
        from fer_engine.training.run import fit
        from fer_engine.training.rundir import RunDir

        cfg = self.cfg.replace(**{"train.max_steps_per_epoch": steps})
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)
        with tempfile.TemporaryDirectory() as tmp:
            summary = fit(cfg, RunDir.create(Path(tmp), cfg), emit, should_stop, dataset=self.dataset)
        if summary["status"] != "finished":
            raise SystemExit(f"fit {summary['status']}: {summary.get('error')}")
        for key in ("peak_host_mb", "peak_gpu_mb"):
            if key in summary:
                self.peaks[key] = max(self.peaks.get(key, 0.0), summary[key])

    def rate(self, steps: int, warmup: int) -> float:
        """img/s between the step events after `warmup` steps (the events read the loss back,
        so on a GPU each stamp follows the work it covers)."""
        from fer_engine.training.events import StepProgress

        stamps: list[tuple[int, float]] = []

        def emit(event):
            if isinstance(event, StepProgress):
                stamps.append((event.global_step, time.perf_counter()))

        self._fit(warmup + steps, emit, lambda: False)
        after = [(s, t) for s, t in stamps if s >= warmup]
        (s0, t0), (s1, t1) = after[0], after[-1]
        return self.batch * (s1 - s0) / (t1 - t0)

    def ops_per_step(self) -> int:
        """Ops of fit's third training step (the first ones set up lazily), counted from
        one stop check to the next."""
        counter = OpCounter()
        calls = 0

        def should_stop() -> bool:
            nonlocal calls
            calls += 1
            if calls == 3:
                counter.__enter__()
            elif calls == 4:
                counter.__exit__(None, None, None)
            return False

        self._fit(4, lambda event: None, should_stop)
        return counter.ops

    def paired_rates(self, bare: BareLoop, steps: int, warmup: int) -> tuple[float, float]:
        """(a, b) img/s with one bare step run at each of fit's per-batch stop checks.

        Call k of the stop check opens batch k, so the time from the end of call k to the
        start of call k + 1 is fit's step k; the bare step inside call k + 1 follows it.
        The last batch is not timed: the call after it comes after the epoch's checkpoint.
        """
        n = warmup + steps + 1
        calls: list[tuple[float, float]] = []  # (entered, left) of each stop check
        bare_s: list[float] = []

        def should_stop() -> bool:
            _sync(self.device)  # on a GPU: fit's queued work is its own, the bare step's is not
            entered = time.perf_counter()
            if len(calls) < n:
                bare.step()
                _sync(self.device)
                bare_s.append(time.perf_counter() - entered)
            calls.append((entered, time.perf_counter()))
            return False

        self._fit(n, lambda event: None, should_stop)
        fit_s = [calls[k + 1][0] - calls[k][1] for k in range(warmup, n - 1)]
        return self.batch * steps / sum(bare_s[warmup + 1:n]), self.batch * steps / sum(fit_s)


class ImageFolderLoop(SteppedModel):
    """(c) the conventional loop: ImageFolder + PIL transforms + DataLoader."""

    def __init__(self, backbone, size, batch, device, amp, channels_last, compile_, data, workers):
        from torchvision import datasets, transforms

        super().__init__(backbone, size, batch, device, amp, channels_last, compile_)
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
        self.loader = torch.utils.data.DataLoader(
            ds, batch_size=batch, shuffle=True, num_workers=workers, drop_last=True,
            pin_memory=device.type == "cuda", persistent_workers=workers > 0)
        self.it = iter(self.loader)
        self.channels_last = channels_last

    def next_batch(self):
        try:
            x, y = next(self.it)
        except StopIteration:  # an epoch boundary, as in any conventional loop
            self.it = iter(self.loader)
            x, y = next(self.it)
        x, y = x.to(self.device, non_blocking=True), y.to(self.device, non_blocking=True)
        return (x.to(memory_format=torch.channels_last) if self.channels_last else x), y


def steps_for(seconds: float, rate: float, batch: int, min_steps: int, max_steps: int) -> int:
    """Steps that take about `seconds` at `rate` img/s, clamped."""
    return int(min(max(round(seconds * rate / batch), min_steps), max_steps))


def median_and_range(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def measure_row(label, variant, opts, args, data, dataset) -> dict:
    """Rounds of (a), (b), (c) for one model and variant; medians and per-round ratios."""
    backbone, size = MODELS[label]
    amp, cl, comp = VARIANTS[variant]
    amp = amp and not args.no_bf16
    common = dict(backbone=backbone, size=size, batch=opts["batch"], device=opts["device"],
                  amp=amp, channels_last=cl, compile_=comp)
    bare = BareLoop(**common)
    fit_loop = FitLoop(**common, data=data, dataset=dataset)
    conventional = ImageFolderLoop(**common, data=data, workers=args.workers)
    warmup = opts["warmup"]

    def steps_lasting_seconds(loop) -> int:  # probe timing, which also warms the loop up
        probe = loop.rate(opts["min_steps"], warmup)
        return steps_for(opts["seconds"], probe, opts["batch"], opts["min_steps"], opts["max_steps"])

    steps, c_steps = steps_lasting_seconds(bare), steps_lasting_seconds(conventional)
    rates: dict[str, list[float]] = {"a": [], "b": [], "c": []}
    for _ in range(args.rounds):
        if opts["pairing"] == "steps":
            a, b = fit_loop.paired_rates(bare, steps, warmup)
        else:
            a, b = bare.rate(steps, warmup), fit_loop.rate(steps, warmup)
        rates["a"].append(a)
        rates["b"].append(b)
        rates["c"].append(conventional.rate(c_steps, warmup))
    ops = "-" if comp else f"{bare.ops_per_step()}/{fit_loop.ops_per_step()}"
    b_a = [b / a for a, b in zip(rates["a"], rates["b"])]
    b_c = [b / c for b, c in zip(rates["b"], rates["c"])]
    return {"a": statistics.median(rates["a"]), "b": statistics.median(rates["b"]),
            "c": statistics.median(rates["c"]), "b/a": b_a, "b/c": b_c,
            "b_rounds": rates["b"], "c_rounds": rates["c"], "peaks": fit_loop.peaks, "ops": ops}


TARGETS = {False: (0.95, 1.2), True: (0.90, 5.0)}  # gpu -> (b/a, b/c), issue 7


def verdict(values: list[float], want: float) -> str:
    """The median of `values` to three decimals, and whether it reaches `want`."""
    median = statistics.median(values)
    return f"{median:.3f} {'met' if median >= want else 'NOT met'}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    ap.add_argument("--batch", type=int, default=0, help="0 = 64 on CPU, 256 on GPU")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved timings of each loop per row")
    ap.add_argument("--seconds", type=float, default=0, help="length of one timing (0 = 8 CPU / 3 GPU)")
    ap.add_argument("--warmup", type=int, default=0, help="untimed steps per timing (0 = 1 CPU / 20 GPU)")
    ap.add_argument("--pairing", choices=["steps", "blocks"], default=None,
                    help="(a)/(b) interleaved step by step or timed in blocks (default: steps on CPU, "
                         "blocks on GPU)")
    ap.add_argument("--workers", type=int, default=min(8, os.cpu_count() or 1),
                    help="DataLoader workers of the conventional loop")
    ap.add_argument("--data", default=None, help="FER2013 image folders (default ../shared/data/fer2013)")
    ap.add_argument("--variants", nargs="+", default=["plain", "amp+cl"], choices=list(VARIANTS))
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--no-bf16", action="store_true", help="force float32: AMP off in every variant")
    args = ap.parse_args(argv)

    data = Path(args.data) if args.data else (shared_data_dir() or Path("missing")) / "fer2013"
    if not (data / "train").is_dir():
        print(f"FER2013 image folders not found at {data}; pass --data", file=sys.stderr)
        return 2
    device = torch.device(args.device)
    gpu = device.type == "cuda"
    torch.backends.cudnn.benchmark = gpu  # as fit sets it: all three loops choose cuDNN algorithms alike
    opts = dict(device=device, batch=args.batch or (256 if gpu else 64),
                seconds=args.seconds or (3.0 if gpu else 8.0), warmup=args.warmup or (20 if gpu else 1),
                pairing=args.pairing or ("blocks" if gpu else "steps"),
                min_steps=20 if gpu else 3, max_steps=2000 if gpu else 200)
    full = load_dataset(RunConfig().replace(**{"data.path": str(data)}).data)
    dataset = dataclasses.replace(full, splits={"train": full.splits["train"]})
    name = torch.cuda.get_device_name(device) if gpu else f"{machine_line()}, {torch.get_num_threads()} threads"
    print(f"device: {name}; batch {opts['batch']}; {args.rounds} rounds of ~{opts['seconds']:.0f} s timings "
          f"after {opts['warmup']} warm-up steps, (a)/(b) paired in {opts['pairing']}; "
          f"AMP: {training_precision(args.device, args.no_bf16)}; "
          f"DataLoader workers {args.workers}; torch {torch.__version__}")
    print(f"{'model':<15}{'variant':<16}{'(a) bare':>10}{'(b) fit':>10}{'(c) ImageFolder':>17}"
          f"{'b/a median (range)':>22}{'b/c median (range)':>22}{'ops/step a/b':>14}{'fit peak MiB':>16}")
    results: dict[tuple[str, str], dict] = {}
    for label in args.models:
        for variant in args.variants:
            r = results[label, variant] = measure_row(label, variant, opts, args, data, dataset)
            peaks = "/".join(f"{r['peaks'][k]:.0f}" for k in ("peak_host_mb", "peak_gpu_mb") if k in r["peaks"])
            print(f"{label:<15}{variant:<16}{r['a']:>8.0f}/s{r['b']:>8.0f}/s{r['c']:>15.0f}/s"
                  f"{median_and_range(r['b/a']):>22}{median_and_range(r['b/c']):>22}{r['ops']:>14}{peaks:>16}",
                  flush=True)
    print("(ops/step: aten ops that do work, views excluded, in one step of (a) and of (b); where kernels are "
          "shorter than their launch, as for small models on a GPU, b/a cannot exceed ops(a)/ops(b))")
    print("(fit peak MiB: host RSS / GPU allocated, as the run directory's status.json records them)")
    defaults = [(label, results[label, "amp+cl"], results[label, "plain"]) for label in args.models
                if (label, "amp+cl") in results and (label, "plain") in results]
    want_ba, want_bc = TARGETS[gpu]
    for label, fit_default, conventional_plain in defaults:
        gain = [b / c for b, c in zip(fit_default["b_rounds"], conventional_plain["c_rounds"])]
        print(f"{label}: fit with its defaults (amp+cl) vs the conventional loop in float32: "
              f"{median_and_range(gain)}x; b/c >= {want_bc}: {verdict(gain, want_bc)}")
    print(f"targets on {'GPU' if gpu else 'CPU'}: b/a >= {want_ba}, b/c >= {want_bc} (medians)")
    for (label, variant), r in results.items():
        print(f"  {label:<15}{variant:<16}b/a {verdict(r['b/a'], want_ba):<14}b/c {verdict(r['b/c'], want_bc)}")
    print(f"benchmark process: peak host RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
