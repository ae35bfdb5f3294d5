"""What a run will do, known before it starts: how many training images it keeps and how many
steps an epoch takes. The training loop and the set-up page's LR preview both use these."""
from __future__ import annotations

from typing import Sequence

from ..config import DataConfig, TrainConfig


def kept_train_count(class_counts: Sequence[int], data: DataConfig) -> int:
    """Training images left after `data.train_fraction` and `data.max_per_class` (the rule of
    `data.splits.stratified_subset` then `cap_per_class`, applied to per-class counts)."""
    total = 0
    for n in (int(c) for c in class_counts):
        if n <= 0:
            continue
        if 0 < data.train_fraction < 1:
            n = max(1, round(data.train_fraction * n))
        if data.max_per_class > 0:
            n = min(n, data.max_per_class)
        total += n
    return total


def steps_per_epoch(num_train: int, train: TrainConfig) -> int:
    """Full batches only (BatchNorm needs more than one sample), capped by `max_steps_per_epoch`."""
    steps = max(1, num_train // max(1, train.batch_size))
    return min(steps, train.max_steps_per_epoch) if train.max_steps_per_epoch > 0 else steps
