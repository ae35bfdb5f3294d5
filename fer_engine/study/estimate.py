"""How long a study will take: training images x epochs / throughput, per run.

Throughput comes from past finished runs of the same backbone, input size, batch size,
precision and device (their metrics.csv img/s), else from a short probe: a few training
steps of the base model on random faces of the right shape. Evaluation is counted as one
extra pass over val and test per TTA view (at about three times the training rate).
"""
from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from ..config import RunConfig
from ..training.rundir import RunDir
from .plan import Plan


def _signature(cfg: RunConfig) -> tuple:
    from ..recipe.tricks import input_size

    return (cfg.model.backbone, input_size(cfg), cfg.data.channels, cfg.train.batch_size, cfg.train.amp,
            cfg.train.channels_last, cfg.train.device)


def past_throughput(cfg: RunConfig, roots: Iterable[Path]) -> tuple[float, int]:
    """Mean training img/s of finished runs like `cfg` under the runs folders (and how many)."""
    want, rates = _signature(cfg), []
    for root in roots:
        if not Path(root).is_dir():
            continue
        for path in Path(root).iterdir():
            run = RunDir(path)
            try:
                if run.status().state != "finished" or _signature(run.config()) != want:
                    continue
            except Exception:  # noqa: BLE001 - a run this version cannot read is no evidence
                continue
            r = [m["img_per_s"] for m in run.read_metrics() if "img_per_s" in m]
            if r:
                rates.append(float(np.median(r)))
    return (float(np.mean(rates)) if rates else math.nan), len(rates)


def probe_throughput(cfg: RunConfig, steps: int = 4) -> float:
    """Training img/s of the base model measured on random faces (after one warm-up step)."""
    import torch

    from ..models import create_model
    from ..training.components import resolve_device
    from ..training.precision import amp_dtype
    from ..recipe.tricks import input_size

    device = resolve_device(cfg.train.device)
    size, b = input_size(cfg), cfg.train.batch_size
    model = create_model(cfg.replace(**{"model.pretrained": False, "model.weights_path": ""}).model,
                         num_classes=7, in_chans=cfg.data.channels).to(device).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    x = torch.randn(b, cfg.data.channels, size, size, device=device)
    y = torch.randint(0, 7, (b,), device=device)
    dtype = amp_dtype(device, cfg.train.amp)

    def step() -> None:
        with torch.autocast(device_type=device.type, dtype=dtype, enabled=dtype is not None):
            loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    step()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return steps * b / (time.perf_counter() - t0)


def split_sizes(cfg: RunConfig) -> dict[str, int]:
    from ..data import load_dataset

    data = load_dataset(cfg.data)
    return {k: len(v) for k, v in data.splits.items()}


def estimate(plan: Plan, roots: Iterable[Path] = (), probe: bool = True, parallel: int = 1) -> dict[str, Any]:
    """{"seconds_per_run", "total_seconds" (at `parallel` runs at once), "img_per_s", "source"}."""
    cfg = plan.base
    rate, n = past_throughput(cfg, roots)
    source = f"{n} past run(s) of {cfg.model.backbone}" if n else ""
    if not n and probe:
        rate, source = probe_throughput(cfg), f"a {cfg.model.backbone} throughput probe"
    if not math.isfinite(rate) or rate <= 0:
        return {"source": "none (no past runs; probe skipped)"}
    sizes = split_sizes(cfg)
    steps = math.ceil(sizes.get("train", 0) / cfg.train.batch_size)
    if cfg.train.max_steps_per_epoch:
        steps = min(steps, cfg.train.max_steps_per_epoch)
    train_s = cfg.train.epochs * steps * cfg.train.batch_size / rate
    per_epoch_val = sizes.get("val", 0) / (3 * rate)
    views = 1 + (2 if cfg.eval.tta == "flip" else 10 if cfg.eval.tta == "tencrop" else 0)
    final = views * sum(sizes.get(s, 0) for s in cfg.eval.splits) / (3 * rate)
    per_run = train_s + cfg.train.epochs * per_epoch_val + final
    total = per_run * math.ceil(len(plan.runs) / max(1, parallel))
    return {"seconds_per_run": per_run, "total_seconds": total, "img_per_s": rate, "source": source,
            "parallel": parallel, "train_images": sizes.get("train", 0)}


def duration_text(seconds: float) -> str:
    """"1 h 05 min", "3 min 20 s", or "?" when unknown."""
    if not math.isfinite(seconds):
        return "?"
    m, s = divmod(int(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h} h {m:02d} min" if h else f"{m} min {s:02d} s"


def describe_plan(plan, estimate: dict) -> list[str]:
    """The plan's variants, runs and estimated time, as the CLI prints and the Studies page shows it."""
    seeds = len({r.seed for r in plan.runs})
    lines = [f"{len(plan.variants)} variants \u00d7 {seeds} seeds = {len(plan.runs)} runs"]
    lines += [f"  {v.name}: " + (", ".join(f"{k}={val}" for k, val in v.changes.items()) or "(the base)")
              for v in plan.variants]
    if "total_seconds" in estimate:
        lines.append(f"estimate: {duration_text(estimate['seconds_per_run'])} per run, about "
                     f"{duration_text(estimate['total_seconds'])} in all at {estimate['parallel']} at once "
                     f"({estimate['img_per_s']:.0f} img/s from {estimate['source']}; "
                     f"{estimate['train_images']} training faces)")
    else:
        lines.append(f"estimate: unknown ({estimate.get('source', 'no throughput')})")
    return lines + [f"note: {n}" for n in plan.notes]
