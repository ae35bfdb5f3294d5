"""Typed, small, picklable events a training worker sends to whoever watches it.

Every event carries the run id and a wall-clock time. Big artefacts never travel:
only paths into the run directory do. `to_dict`/`from_dict` give the JSON-lines form
written to the run's event log, so a run reopened from disk replays the same events.
"""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Event:
    run_id: str
    time: float = field(default_factory=time.time, kw_only=True)


@dataclass(frozen=True)
class RunStarted(Event):
    run_dir: str
    device: str
    epochs: int
    steps_per_epoch: int
    num_train: int
    num_val: int
    class_names: tuple[str, ...]
    resumed_from_epoch: int = 0
    notes: tuple[str, ...] = ()  # model notes, e.g. why pretrained weights were not loaded
    devices: tuple[str, ...] = ()  # one per process, e.g. ("cuda:0", "cuda:1"); rank 0 first
    global_batch: int = 0  # images per optimiser step over all processes


@dataclass(frozen=True)
class Phase(Event):
    """What the worker is doing now: loading_data, training, validating, saving, predicting."""
    phase: str
    detail: str = ""
    fraction: float = -1.0  # progress in [0, 1], or -1 when unknown


@dataclass(frozen=True)
class StepProgress(Event):
    """A reported training step. `accuracy` and `f1` (macro) are running figures of the epoch
    so far on the training labels (at the epoch's last step: the epoch's `train_acc`); a
    distributed run reports rank 0's shard. None in logs written before they existed."""
    epoch: int  # 1-based
    step: int  # 1-based within the epoch
    steps_per_epoch: int
    global_step: int
    loss: float
    lr: float
    img_per_s: float
    accuracy: float | None = None
    f1: float | None = None


@dataclass(frozen=True)
class BudgetPlanned(Event):
    """A run with a time budget laid out (or, `epochs_before` set, re-laid out) its epochs
    and learning rates (`lr`: training.budget.BudgetLR.to_json) at optimiser step `at_step`."""
    budget_s: float
    used_s: float  # of the budget, when the plan was made
    epochs: int
    epochs_before: int | None
    steps_per_epoch: int  # optimiser steps
    sec_per_step: float
    reserve_s: float  # kept for the predictions after the last epoch
    reason: str
    at_step: int
    lr: dict[str, Any]


@dataclass(frozen=True)
class EpochMetrics(Event):
    epoch: int
    metrics: dict[str, float]  # train_loss, train_acc, val_loss, val_acc, val_f1, lr, epoch_time
    confusion: list[list[int]] | None = None  # validation confusion matrix (rows: true class)


@dataclass(frozen=True)
class CheckpointSaved(Event):
    epoch: int
    kind: str  # "last" or "best"
    path: str


@dataclass(frozen=True)
class RunFinished(Event):
    best_epoch: int
    best_metric: float
    monitor: str
    summary: dict[str, Any]  # final metrics, e.g. test_acc, early_stopped


@dataclass(frozen=True)
class RunStopped(Event):
    epoch: int
    step: int
    forced: bool = False  # killed at once (a second Ctrl-C), not at a batch boundary


@dataclass(frozen=True)
class RunFailed(Event):
    error: str
    traceback: str
    hint: str = ""


@dataclass(frozen=True)
class RunCrashed(Event):
    """Sent by the parent: the worker process died without a terminal event."""
    exitcode: int | None
    message: str = ""


@dataclass(frozen=True)
class FoldStarted(Event):
    """k-fold parent: fold `fold` of `k` starts; its own events follow, tagged with its run id."""
    fold: int  # 1-based; k + 1 is the final model on train+val
    k: int
    run_dir: str


@dataclass(frozen=True)
class FoldFinished(Event):
    """k-fold parent: a fold run ended (its own terminal event stays in its run directory)."""
    fold: int
    k: int
    run_dir: str
    status: str  # finished, stopped, failed
    summary: dict[str, Any]


TERMINAL = (RunFinished, RunStopped, RunFailed, RunCrashed)
PROGRESS = (Phase, StepProgress)  # up to ten a second, each superseded by the next
_TYPES = {c.__name__: c for c in (RunStarted, Phase, StepProgress, BudgetPlanned, EpochMetrics, CheckpointSaved,
                                  FoldStarted, FoldFinished, RunFinished, RunStopped, RunFailed,
                                  RunCrashed)}


def to_dict(event: Event) -> dict[str, Any]:
    d = dataclasses.asdict(event)
    d["type"] = type(event).__name__
    return d


def from_dict(d: dict[str, Any]) -> Event:
    d = dict(d)
    cls = _TYPES[d.pop("type")]
    for f in dataclasses.fields(cls):  # JSON has lists where the event holds tuples
        if str(f.type).startswith("tuple") and f.name in d:
            d[f.name] = tuple(d[f.name])
    return cls(**d)
