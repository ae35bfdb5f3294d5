"""`fit`: run a training job into its run directory and record how it ended.

`make_job` is the one place that chooses the job: k-fold cross-validation
(`cross_validation.KFoldRun`, whose folds are `fit` again) or one run (`loop.Training`,
or what `training` builds: one rank of a distributed run). A stop (`Cancelled`, Ctrl-C)
ends in RunStopped; any other exception in RunFailed with a hint of what to do.
"""
from __future__ import annotations

import time
import traceback
from functools import partial
from typing import Any, Callable

import torch

from ..config import RunConfig
from ..data.arrays import DatasetArrays
from ..progress import Cancelled, StopFn
from ..utils.disk import UNWRITABLE, disk_error_message
from . import events as ev
from .budget import BudgetError
from .cross_validation import KFoldRun
from .job import Emit, Recorder, TrainingJob, peak_memory
from .loop import Diverged, Training
from .rundir import RunDir

OOM_HINT = ("out of memory: reduce the batch size (train.batch_size), use gradient "
            "accumulation (train.accumulate_steps) or a smaller input size (model.input_size)")
DISK_HINT = ("the runs folder is full or read-only: free some space or choose another runs "
             "folder (--out); checkpoints written before this point are intact")
BUDGET_HINT = ("give a longer time budget (train.time_budget_min, --budget), or train on fewer images "
               "(data.max_per_class) or a smaller backbone")
DIVERGED_HINT = ("lower the learning rate (optim.lr) or enable gradient clipping (train.grad_clip, "
                 "e.g. 1.0); checkpoints already saved hold the last finite epoch")


def failure_hint(exc: BaseException) -> str:
    """What the user can do about a failure (OOM, full or read-only disk), or ""."""
    if isinstance(exc, (torch.OutOfMemoryError, MemoryError)) or (
            isinstance(exc, RuntimeError) and ("out of memory" in str(exc)
                                               or "can't allocate memory" in str(exc))):
        return OOM_HINT
    if isinstance(exc, Diverged):
        return DIVERGED_HINT
    if isinstance(exc, BudgetError):
        return BUDGET_HINT
    if isinstance(exc, OSError) and exc.errno in UNWRITABLE:
        return DISK_HINT
    return ""


def make_job(config: RunConfig, run_dir: RunDir, rec: Recorder, should_stop: StopFn,
             dataset: DatasetArrays | None = None,
             training: Callable[..., Training] | None = None) -> TrainingJob:
    """The job that trains `config`: its folds when kfold.k >= 2, else one run."""
    if config.kfold.k >= 2:
        return KFoldRun(config, run_dir, rec, should_stop, fit_fold=partial(fit, training=training))
    return (training or Training)(config, run_dir, rec, should_stop, dataset)


def fit(config: RunConfig, run_dir: RunDir, emit: Emit, should_stop: StopFn,
        resume: bool = False, dataset: DatasetArrays | None = None,
        training: Callable[..., Training] | None = None) -> dict[str, Any]:
    """Train `config` into `run_dir`; returns the summary (also in status.json).

    Never raises for a training problem: a stop ends in RunStopped, any exception in
    RunFailed (error, traceback, hint) and the status says so. `dataset` (already loaded,
    e.g. one k-fold split) replaces loading `config.data`. `training` builds the job in
    place of `Training` (one rank of a distributed run, `ddp_fit.DistributedTraining`).
    """
    from .tensorboard import with_tensorboard

    rec = Recorder(run_dir, with_tensorboard(config, run_dir, emit))
    started = time.time()
    run_dir.repair()
    job = make_job(config, run_dir, rec, should_stop, dataset, training)
    try:
        run_dir.write_status("running")
        return job.run(resume)
    except (Cancelled, KeyboardInterrupt):
        return _stopped(run_dir, rec, job, started)
    except Exception as e:  # noqa: BLE001 - every failure becomes a RunFailed event
        return _failed(run_dir, rec, e, started)
    except BaseException as e:  # SystemExit and the like: record the failure, then let it go on
        _failed(run_dir, rec, e, started)
        raise


def _stopped(run_dir: RunDir, rec: Recorder, job: TrainingJob, started: float) -> dict[str, Any]:
    summary = {"status": "stopped", "epoch": job.epoch, "step": job.step,
               "resumable": run_dir.checkpoint_path("last").is_file(),
               "wall_time_s": time.time() - started, **peak_memory()}
    # status first: whoever sees the terminal event reads the final status
    _best_effort(lambda: run_dir.write_status("stopped", summary=summary))
    _best_effort(lambda: rec(ev.RunStopped(run_id=run_dir.run_id, epoch=job.epoch, step=job.step)))
    return summary


def _failed(run_dir: RunDir, rec: Recorder, e: BaseException, started: float) -> dict[str, Any]:
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    hint = failure_hint(e)
    error = str(e) if isinstance(e, (Diverged, BudgetError)) else f"{type(e).__name__}: {e}"
    if isinstance(e, OSError) and hint == DISK_HINT:
        error = disk_error_message(e, e.filename or run_dir.path)
    summary = {"status": "failed", "error": error, "hint": hint,
               "wall_time_s": time.time() - started, **peak_memory()}
    failed = ev.RunFailed(run_id=run_dir.run_id, error=error, traceback=traceback.format_exc(), hint=hint)
    _best_effort(lambda: run_dir.write_status("failed", error=error, hint=hint, summary=summary))
    try:
        rec(failed)
    except Exception:  # noqa: BLE001 - the disk itself failed: the watcher still gets the event
        _best_effort(lambda: rec.emit(failed))
    return summary


def _best_effort(action: Callable[[], Any]) -> None:
    try:
        action()
    except Exception:  # noqa: BLE001 - reporting must not mask the original outcome
        pass
