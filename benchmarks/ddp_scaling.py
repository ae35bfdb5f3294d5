"""Training img/s of one run on 1 process and on several (torchrun + DDP), side by side.

    python benchmarks/ddp_scaling.py                        # 1 vs all GPUs, or 1 vs 2 CPU processes
    python benchmarks/ddp_scaling.py --processes 1 2 4 --backbone resnet18_48 --batch-size 128
    python benchmarks/ddp_scaling.py --data ../shared/data/fer2013 --rounds 3

Each configuration is a real `fer-studio` run (the training worker, torchrun for more than one
process) with the same per-process batch (weak scaling, what DDP users do: the global batch
grows with the processes; `--same-global-batch` divides it instead). The figure is the img/s
of the last epoch's training (metrics.csv `img_per_s`: all processes' images over the epoch's
training time, without validation), so the first epoch takes the start-up, cuDNN autotuning
and the first collectives. The configurations alternate within each of `--rounds` rounds
(a shared machine's speed drifts) and the table prints the median of each, the scaling
ratio against one process and the efficiency (ratio / processes).

On CPU the processes share the cores (each gets cores / processes threads), so the ratio
says what the gloo all-reduce costs rather than what more hardware gains. On a loaded
machine a process with several threads collapses (its threads wait for each other at every
parallel region while other jobs hold the cores): `--threads 1` runs one process on one
thread too, which compares the processes at equal threads each.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fer_engine.config import RunConfig  # noqa: E402
from fer_engine.training import events as ev  # noqa: E402
from fer_engine.training.precision import amp_dtype  # noqa: E402
from fer_engine.utils.machine import machine_line  # noqa: E402
from fer_engine.training.worker import run_in_process  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    gpus = torch.cuda.device_count()
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--processes", type=int, nargs="+", default=[1, gpus if gpus > 1 else 2],
                   help="process counts to compare (default: 1 and all GPUs, or 1 and 2 on CPU)")
    p.add_argument("--backbone", default="fer_cnn_small")
    p.add_argument("--data", default="demo", help='dataset (default "demo": 2,100 training faces)')
    p.add_argument("--batch-size", type=int, default=64, help="per process")
    p.add_argument("--same-global-batch", action="store_true",
                   help="divide --batch-size between the processes instead (strong scaling)")
    p.add_argument("--steps", type=int, default=30, help="training steps per epoch (train.max_steps_per_epoch)")
    p.add_argument("--epochs", type=int, default=2, help="the last one is timed")
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--cpu", action="store_true", help="CPU processes (gloo) even when GPUs exist")
    p.add_argument("--threads", type=int, default=0,
                   help="CPU threads of a single-process run (OMP_NUM_THREADS; default all cores)")
    return p.parse_args(argv)


def config_for(args: argparse.Namespace, processes: int) -> RunConfig:
    cpu = args.cpu or torch.cuda.device_count() == 0
    batch = args.batch_size // processes if args.same_global_batch else args.batch_size
    return RunConfig().replace(**{
        "data.path": args.data, "model.backbone": args.backbone, "train.epochs": args.epochs,
        "train.batch_size": max(2, batch), "train.max_steps_per_epoch": args.steps,
        "train.device": "cpu" if cpu else "auto", "train.devices": str(processes),
        "eval.splits": [], "name": f"ddp_scaling {processes}",
    })


def measure(cfg: RunConfig, runs: Path) -> tuple[float, int]:
    """(img/s of the last epoch, global batch) of one run."""
    run_dir, end = run_in_process(cfg, runs)
    if not isinstance(end, ev.RunFinished):
        raise SystemExit(f"run {run_dir.path} ended {type(end).__name__}: {getattr(end, 'error', '')}")
    return run_dir.read_metrics()[-1]["img_per_s"], int(end.summary["global_batch"])


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.threads:  # the training worker inherits it; ranks take cores / processes each
        os.environ["OMP_NUM_THREADS"] = str(args.threads)
        torch.set_num_threads(args.threads)
    cpu = args.cpu or torch.cuda.device_count() == 0
    where = (f"{machine_line()}, {torch.get_num_threads()} threads" if cpu
             else f"{torch.cuda.device_count()} x {torch.cuda.get_device_name(0)}")
    dtype = amp_dtype(torch.device("cpu" if cpu else "cuda"), True)
    print(f"{args.backbone} on {args.data}, {where}, AMP {dtype}, {args.steps} steps/epoch, "
          f"{args.epochs} epochs (last timed), {args.rounds} round(s)", flush=True)
    rates: dict[int, list[float]] = {p: [] for p in args.processes}
    batches: dict[int, int] = {}
    with tempfile.TemporaryDirectory(prefix="ddp_scaling-") as tmp:
        for r in range(args.rounds):
            for p in args.processes:
                rate, batches[p] = measure(config_for(args, p), Path(tmp))
                rates[p].append(rate)
                print(f"  round {r + 1}: {p} process(es): {rate:,.0f} img/s", flush=True)
    base = statistics.median(rates[args.processes[0]])
    print("\n| processes | global batch | img/s | img/s per process | scaling | efficiency |")
    print("|---|---|---|---|---|---|")
    for p in args.processes:
        rate = statistics.median(rates[p])
        ratio = rate / base
        print(f"| {p} | {batches[p]} | {rate:,.0f} | {rate / p:,.0f} | {ratio:.2f} | "
              f"{ratio / (p / args.processes[0]):.2f} |")


if __name__ == "__main__":
    main()
