"""The local backend: up to N runs of a study at once, each in the usual `spawn` training worker.

Default parallelism is one run per GPU (each pinned to its own device), one on a CPU; N runs
on a CPU get the cores shared out between them.
`should_stop()` (or a first Ctrl-C) stops every active run cooperatively, leaving them
resumable; a second Ctrl-C kills them (the study's resume reruns them from their last
checkpoint). A crashed worker is recorded in its run directory and the study goes on.
"""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Iterator

from ..training import events as ev
from ..training.worker import RunHandle
from .spec import StudyError
from .studydir import StudyDir

#: on_event(run key, event) for every event of every run
StudyEventFn = Callable[[str, ev.Event], None]


def gpu_count() -> int:
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def default_parallel() -> int:
    return max(1, gpu_count())


@contextlib.contextmanager
def _threads_per_run(threads: int | None) -> Iterator[None]:
    """OMP_NUM_THREADS for the workers started inside (a spawn child reads it when torch starts),
    so N runs on a CPU share its cores instead of each taking all of them."""
    if threads is None:
        yield
        return
    old = os.environ.get("OMP_NUM_THREADS")
    os.environ["OMP_NUM_THREADS"] = str(threads)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("OMP_NUM_THREADS", None)
        else:
            os.environ["OMP_NUM_THREADS"] = old


def run_local(study: StudyDir, parallel: int | None = None, on_event: StudyEventFn | None = None,
              should_stop: Callable[[], bool] = lambda: False, poll_interval: float = 0.1) -> dict[str, str]:
    """Train every unfinished run of `study`; returns {run key: final status} of those it ran."""
    gpus = gpu_count()
    parallel = parallel or default_parallel()
    if parallel < 1:
        raise ValueError(f"--parallel must be >= 1, got {parallel}")
    threads = max(1, (os.cpu_count() or 1) // parallel) if not gpus and parallel > 1 else None
    queue = list(study.todo())
    active: dict[str, tuple[RunHandle, int]] = {}
    done: dict[str, str] = {}
    stopping, interrupts = False, 0

    def emit(key: str, event: ev.Event) -> None:
        if on_event is not None:
            on_event(key, event)

    try:
        while queue or active:
            try:
                stopping = stopping or should_stop()
                if stopping:
                    for handle, _ in active.values():
                        handle.stop()
                free = [s for s in range(parallel) if s not in {slot for _, slot in active.values()}]
                while queue and free and not stopping:
                    planned, slot = queue.pop(0), free.pop(0)
                    pin = gpus and planned.config.train.device == "auto"
                    run_dir, resume = study.ensure_run_dir(
                        planned, {"train.device": f"cuda:{slot % gpus}"} if pin else None)
                    if run_dir.is_running():
                        raise StudyError(f"run {run_dir.path} is already running (another study process?)")
                    with _threads_per_run(threads):
                        active[planned.key] = (RunHandle(run_dir, run_dir.config(), resume=resume), slot)
                for key, (handle, _) in list(active.items()):
                    for event in handle.poll():
                        emit(key, event)
                    if handle.finished:
                        handle.join(timeout=30)
                        if handle.is_alive():
                            handle.kill()
                            handle.join(timeout=5)
                        handle.close()
                        del active[key]
                        done[key] = study.state(key)
                if stopping and not active:
                    break
                time.sleep(poll_interval)
            except KeyboardInterrupt:
                interrupts += 1
                stopping = True
                for handle, _ in active.values():
                    handle.stop() if interrupts == 1 else handle.kill()
    finally:
        for handle, _ in active.values():
            if handle.is_alive():
                handle.kill()
                handle.join(timeout=5)
            handle.close()
    return done


def start_resume_process(study_dir: str | Path) -> subprocess.Popen:
    """`fer-studio study resume DIR` in a process of its own session (Ctrl-C to it stops the
    runs cleanly; it outlives whoever started it), its output appended to `<study>/study.log`."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    with open(Path(study_dir) / "study.log", "ab") as log:
        return subprocess.Popen([sys.executable, "-m", "fer_engine.cli", "study", "resume", str(study_dir)],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
