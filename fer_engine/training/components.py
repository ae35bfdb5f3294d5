"""The parts of one training run, built once from its config and training split.

`build_components` is the factory: model (and the callable the loop runs, compiled or
DDP-wrapped), loss, optimiser, LR schedule, AMP scaler, augmentation stream, batches and
early stopper, with the normalisation and step counts they agree on. It touches no run
directory; the loop steps them and `state` saves and restores their states.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch

from ..config import RunConfig
from .batches import TrainBatches, to_device
from .plan import steps_per_epoch
from .precision import amp_dtype
from .run_files import Preprocess


def resolve_device(name: str) -> torch.device:
    """"auto" = CUDA when present, else CPU; an explicit CUDA device must exist."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"train.device is {name!r} but no CUDA device is available; use 'auto' or 'cpu'")
    return dev


@dataclass(frozen=True)
class TrainSplit:
    """The training split the components are built for."""

    images: np.ndarray  # (N, H, W, C) uint8
    labels: np.ndarray  # (N,) int
    soft: np.ndarray | None  # (N, K) vote distributions (data.label_mode "probability"), else None
    class_names: list[str]


@dataclass(frozen=True)
class Components:
    """Everything one run trains with; `forward` is what the loop calls (the model, compiled or wrapped)."""

    device: torch.device
    model: torch.nn.Module
    forward: Callable[[torch.Tensor], torch.Tensor]
    criterion: Callable[..., torch.Tensor]
    optimizer: torch.optim.Optimizer
    schedule: Any  # recipe.schedule.LRSchedule
    scaler: torch.amp.GradScaler
    augment: Any  # recipe.augment.AugmentStream, or None for no augmentation
    aug_gen: torch.Generator  # the augmentation and mixing draws on the device
    batches: TrainBatches
    soft_targets: torch.Tensor | None  # the split's vote distributions on the device
    stopper: Any  # recipe.early_stopping.EarlyStopping
    mean: list[float]
    std: list[float]
    input_size: int
    channels_last: bool
    amp_dtype: torch.dtype | None
    steps_per_epoch: int
    accum: int  # batches per optimiser step
    monitor: str

    @property
    def opt_steps_per_epoch(self) -> int:
        return math.ceil(self.steps_per_epoch / self.accum)

    def preprocess(self, split: TrainSplit, backbone: str) -> Preprocess:
        """What preprocess.json records: how a face becomes the model's input."""
        return Preprocess(class_names=list(split.class_names), channels=int(split.images.shape[-1]),
                          image_size=int(split.images.shape[1]), input_size=self.input_size,
                          mean=list(self.mean), std=list(self.std), backbone=backbone)


def build_components(cfg: RunConfig, split: TrainSplit, device: torch.device, samples_per_epoch: int,
                     np_rng: np.random.Generator) -> Components:
    """The parts of a run of `cfg` on `split`; `samples_per_epoch` is what this process visits
    an epoch (a DDP rank: its shard). The model's initial weights draw on torch's seeded RNG."""
    from ..models import create_model
    from ..recipe.augment import AugmentStream, BatchAugment
    from ..recipe.early_stopping import EarlyStopping, monitor_mode
    from ..recipe.losses import build_loss
    from ..recipe.normalize import resolve_mean_std
    from ..recipe.optim import build_optimizer
    from ..recipe.schedule import LRSchedule

    k = len(split.class_names)
    model = create_model(cfg.model, num_classes=k, in_chans=int(split.images.shape[-1]))
    spec = getattr(model, "spec", None)
    backbone_stats = (spec.mean, spec.std) if spec is not None and getattr(spec, "mean", None) else None
    mean, std = resolve_mean_std(cfg, split.images, backbone_stats)
    if device.type == "cuda":  # every training batch has one shape: let cuDNN time its algorithms once
        torch.backends.cudnn.benchmark = True
    model.to(device)
    if cfg.train.channels_last:
        model.to(memory_format=torch.channels_last)
    aug_gen = torch.Generator(device=device).manual_seed(cfg.train.seed + 1)
    criterion = build_loss(cfg.loss, np.bincount(split.labels, minlength=k))
    if isinstance(criterion, torch.nn.Module):
        criterion.to(device)
    n_steps = steps_per_epoch(samples_per_epoch, cfg.train)
    accum = max(1, cfg.train.accumulate_steps)
    aug = BatchAugment(cfg.augment)
    mode = monitor_mode(cfg.train.monitor)
    dtype = amp_dtype(device, cfg.train.amp)
    return Components(
        device=device, model=model, forward=torch.compile(model) if cfg.train.compile else model,
        criterion=criterion, optimizer=build_optimizer(model, cfg.optim),
        schedule=LRSchedule(cfg.schedule, cfg.optim.lr, cfg.train.epochs, math.ceil(n_steps / accum), mode=mode),
        scaler=torch.amp.GradScaler("cuda", enabled=dtype == torch.float16),
        augment=None if aug.is_identity else AugmentStream(aug, np_rng, aug_gen, chunk=min(64, n_steps)),
        aug_gen=aug_gen, batches=TrainBatches(split.images, split.labels, device),
        soft_targets=None if split.soft is None else to_device(split.soft, device),
        stopper=EarlyStopping(cfg.train.early_stopping_patience, cfg.train.early_stopping_min_delta, mode),
        mean=mean, std=std, input_size=int(model.input_size),
        channels_last=cfg.train.channels_last, amp_dtype=dtype, steps_per_epoch=n_steps, accum=accum,
        monitor=cfg.train.monitor)
