"""Run `fit` in a separate `spawn` process and watch it from the parent.

The worker writes every event to the run's `events.jsonl` itself (the run directory is
complete even if nobody listens) and also puts it on a multiprocessing queue for the
parent. `RunHandle.poll` drains that queue without blocking; when the process is gone
without a terminal event it first recovers any events the queue lost from the log, then
reports `RunCrashed` (once) and marks the run crashed. Stop is a shared flag the loop
checks every batch.
"""
from __future__ import annotations

import multiprocessing as mp
import queue as queue_mod
import signal
import time
from pathlib import Path
from typing import Any, Callable

from ..config import RunConfig
from . import events as ev
from .rundir import RunDir

_CTX = mp.get_context("spawn")


def _worker_main(config_json: str, run_path: str, resume: bool, events_q, stop_flag) -> None:
    """Entry point of the worker process (module level, so `spawn` can import it)."""
    # Ctrl-C in a terminal reaches the whole process group: the parent decides (stop/kill).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Never block exit on undelivered queue items: the parent recovers them from the log.
    events_q.cancel_join_thread()
    config = RunConfig.from_json(config_json)
    plan = _device_plan(config)
    if plan is not None and plan.distributed:  # several processes: torchrun runs them
        from .torchrun import run_torchrun

        run_torchrun(plan, RunDir(run_path), resume, events_q.put, stop_flag.is_set)
        return
    from .run import fit

    fit(config, RunDir(run_path), events_q.put, stop_flag.is_set, resume=resume)


def _device_plan(config: RunConfig):
    """The run's DevicePlan; None for one process or a plan `fit` will refuse with its message."""
    from .. import devices

    if not devices.wants_several(config):
        return None
    try:
        return devices.plan_for(config)
    except ValueError:
        return None


class RunHandle:
    """The parent's view of one worker: poll events, stop, kill, join, close."""

    _target = staticmethod(_worker_main)  # what the process runs (a test may wrap it)

    def __init__(self, run_dir: RunDir, config: RunConfig, resume: bool):
        self.run_dir = run_dir
        self.config = config
        self._queue: mp.queues.Queue | None = _CTX.Queue()
        self._stop: mp.synchronize.Event | None = _CTX.Event()
        self._log_offset = len(run_dir.read_events())  # events of earlier sessions (resume)
        self._received = 0
        self._terminal = False
        self._forced = False  # kill() ended it: a forced stop, not a crash
        self._process: mp.process.BaseProcess | None = _CTX.Process(
            target=self._target, name=f"fer-run-{run_dir.run_id}",
            args=(config.to_json(), str(run_dir.path), resume, self._queue, self._stop),
        )
        self._process.start()  # the worker itself marks the run "running" with its pid

    @property
    def run_id(self) -> str:
        return self.run_dir.run_id

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def finished(self) -> bool:
        """A terminal event (finished, stopped, failed, crashed) has been returned."""
        return self._terminal

    def poll(self, max_events: int = 200) -> list[ev.Event]:
        """Up to `max_events` new events, without blocking; RunCrashed when the worker died."""
        out: list[ev.Event] = []
        if self._queue is None:
            return out
        alive = self.is_alive()
        while len(out) < max_events:
            try:
                out.append(self._queue.get_nowait())
            except (queue_mod.Empty, EOFError, OSError):
                break
        self._received += len(out)
        self._terminal = self._terminal or any(isinstance(e, ev.TERMINAL) for e in out)
        if not alive and not self._terminal and len(out) < max_events:
            out.extend(self._after_death(max_events - len(out)))
        return out

    def _after_death(self, room: int) -> list[ev.Event]:
        """Events the queue lost (read back from the log), else a synthesized RunCrashed."""
        logged = self.run_dir.read_events()[self._log_offset + self._received:]
        lost = logged[:room]
        self._received += len(lost)
        self._terminal = any(isinstance(e, ev.TERMINAL) for e in lost)
        if self._terminal or len(lost) == room:
            return lost
        code = self._process.exitcode if self._process is not None else None
        fields: dict[str, Any]
        if self._forced:
            stop = self._forced_stop()
            end: ev.Event = stop
            state, fields = "stopped", {"summary": {"status": "stopped", "forced": True, "epoch": stop.epoch,
                                                    "resumable": self.run_dir.checkpoint_path("last").is_file()}}
        else:
            how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit code {code}"
            crash = ev.RunCrashed(run_id=self.run_id, exitcode=code,
                                  message=f"the training process ended without a final event ({how})")
            end, state, fields = crash, "crashed", {"exitcode": code, "message": crash.message}
        for action in (lambda: self.run_dir.append_event(end),
                       lambda: self.run_dir.write_status(state, **fields)):
            try:
                action()
            except OSError:  # a read-only or full disk: the event still reaches the caller
                pass
        self._terminal = True
        return [*lost, end]

    def _forced_stop(self) -> ev.RunStopped:
        """The stop a kill() ended with: after the last epoch the log has metrics for."""
        logged = self.run_dir.read_events()
        epochs = [e.epoch for e in logged if isinstance(e, ev.EpochMetrics) and e.run_id == self.run_id]
        steps = [e.step for e in logged if isinstance(e, ev.StepProgress) and e.run_id == self.run_id]
        return ev.RunStopped(run_id=self.run_id, epoch=max(epochs, default=0), step=steps[-1] if steps else 0,
                             forced=True)

    def stop(self) -> None:
        """Ask the worker to stop after the current batch (cooperative)."""
        if self._stop is not None:
            self._stop.set()

    def kill(self) -> None:
        """SIGKILL the worker: a forced stop (the next poll reports RunStopped(forced=True);
        the run resumes from its last checkpoint)."""
        if self._process is not None and self._process.is_alive():
            self._forced = True
            self._process.kill()

    def is_alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the worker to end; True when it has."""
        if self._process is None:
            return True
        self._process.join(timeout)
        return not self._process.is_alive()

    def close(self) -> None:
        """Release the queue, flag and process handles (the worker must have ended, else it is left running)."""
        if self._process is not None and not self._process.is_alive():
            self._process.join()
            self._process.close()
            self._process = None
        if self._queue is not None:
            self._queue.close()
            self._queue = None
        self._stop = None


def start_run(config: RunConfig | None, runs_root: str | Path, resume_dir: str | Path | None = None,
              name: str | None = None, devices: str | None = None) -> RunHandle:
    """Start a new run under `runs_root`, or resume `resume_dir` (its own config is used;
    `devices` continues it on another number of devices, recorded in its config.json).

    Raises OSError naming the folder when the runs folder cannot be written, RunDirError
    when `resume_dir` is not a run directory or is still running, and ConfigError when
    `devices` cannot be used here.
    """
    if resume_dir is not None:
        run_dir = RunDir.open(resume_dir)
        if run_dir.is_running():
            from .rundir import RunDirError

            raise RunDirError(f"run {run_dir.run_id} is still running (pid {run_dir.status().pid})")
        config = run_dir.config()
        if devices is not None and devices != config.train.devices:
            from ..recipe.checks import raise_on_errors

            config = config.replace(**{"train.devices": devices})
            raise_on_errors(config)
            config.save(run_dir.config_path)
        return RunHandle(run_dir, config, resume=True)
    if config is None:
        raise ValueError("start_run needs a config (or resume_dir)")
    if config.model.weights_path:  # an unsafe or unreadable file is refused before a run folder exists
        from ..models.weights import load_state_dict_file

        load_state_dict_file(config.model.weights_path)
    return RunHandle(RunDir.create(runs_root, config, name=name), config, resume=False)


def run_in_process(config: RunConfig | None, runs_root: str | Path, resume_dir: str | Path | None = None,
                   name: str | None = None, on_event: Callable[[ev.Event], None] | None = None,
                   poll_interval: float = 0.05, devices: str | None = None) -> tuple[RunDir, ev.Event]:
    """Run in a worker and wait for it, handing each event to `on_event`; the terminal event.

    Ctrl-C asks the worker to stop cleanly (its last checkpoint stays resumable); a second
    Ctrl-C kills it.
    """
    handle = start_run(config, runs_root, resume_dir=resume_dir, name=name, devices=devices)
    interrupts = 0
    terminal: ev.Event | None = None
    try:
        while terminal is None:
            try:
                for event in handle.poll():
                    if on_event is not None:
                        on_event(event)
                    if isinstance(event, ev.TERMINAL) and event.run_id == handle.run_id:
                        terminal = event
                if terminal is None:
                    time.sleep(poll_interval)
            except KeyboardInterrupt:
                interrupts += 1
                handle.stop() if interrupts == 1 else handle.kill()
        handle.join(timeout=30)
    finally:
        if handle.is_alive():
            handle.kill()
            handle.join(timeout=5)
        handle.close()
    return handle.run_dir, terminal

