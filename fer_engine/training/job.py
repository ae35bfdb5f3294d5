"""What every training job shares: the `TrainingJob` protocol `fit` runs, the `Recorder`
its events go through, and the dataset loading with progress and stop.

`run.make_job` chooses the job (one run, `loop.Training`; k folds,
`cross_validation.KFoldRun`), so neither job module imports the other.
"""
from __future__ import annotations

import resource
import time
from typing import Any, Callable, Protocol

import torch

from ..config import RunConfig
from ..data.arrays import DatasetArrays
from ..progress import StopFn, check_stop
from . import events as ev
from .rundir import RunDir

Emit = Callable[[ev.Event], None]
#: fit(config, run_dir, emit, should_stop, resume=..., dataset=...) -> summary: how a job trains a child run
FitFn = Callable[..., dict[str, Any]]
EVENTS_PER_SECOND = 10  # throttle of StepProgress / Phase progress events


class TrainingJob(Protocol):
    """A job `fit` runs: `run(resume)` returns the summary, or raises `Cancelled` on a stop;
    `epoch` and `step` say where a stopped job was."""

    @property
    def epoch(self) -> int: ...

    @property
    def step(self) -> int: ...

    def run(self, resume: bool) -> dict[str, Any]: ...


class Recorder:
    """Writes each event to the run's log, then hands it on; throttles progress events."""

    def __init__(self, run_dir: RunDir, emit: Emit):
        self.run_dir, self.emit = run_dir, emit
        self._last_progress = 0.0

    def __call__(self, event: ev.Event) -> None:
        self.run_dir.append_event(event)
        self.emit(event)

    def due(self, force: bool = False) -> bool:
        """True at most EVENTS_PER_SECOND times a second (always when `force`)."""
        now = time.perf_counter()
        if force or now - self._last_progress >= 1.0 / EVENTS_PER_SECOND:
            self._last_progress = now
            return True
        return False

    def phase(self, phase: str, detail: str = "", fraction: float = -1.0, force: bool = True) -> None:
        if self.due(force):
            self(ev.Phase(run_id=self.run_dir.run_id, phase=phase, detail=detail, fraction=fraction))


def load_data(config: RunConfig, rec: Recorder, should_stop: StopFn) -> DatasetArrays:
    """`data.load_dataset` with Phase progress events; a stop interrupts it."""
    from ..data import load_dataset

    rec.phase("loading_data", f"reading {config.data.path}", 0.0)

    def progress(fraction: float, detail: str = "") -> None:
        check_stop(should_stop)
        rec.phase("loading_data", detail, float(fraction), force=False)

    data = load_dataset(config.data, progress, should_stop)
    check_stop(should_stop)
    return data


def peak_memory() -> dict[str, float]:
    """Peak host RSS of this process and peak CUDA memory allocated, in MiB."""
    out = {"peak_host_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        out["peak_gpu_mb"] = torch.cuda.max_memory_allocated() / 2**20
    return out
