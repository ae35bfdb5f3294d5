"""Follow a run directory written by another process, as an event source for RunMonitor.

Reads `events.jsonl` from where it stopped last time, whole lines only (a line still being
written is left for the next poll). When the writer is gone without a terminal event
(its status says so, or its process no longer exists) a `RunCrashed` is reported.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

from fer_engine.training import events as ev
from fer_engine.training.rundir import RunDir


class EventLogTail:
    """`poll/stop/is_alive/close` over `<run_dir>/events.jsonl`; stop is not possible."""

    MAX_BYTES_PER_READ = 256 * 1024  # keeps one poll short even on a long run's log

    def __init__(self, run_dir: str | Path):
        self.run_dir = Path(run_dir)
        self._run = RunDir(self.run_dir)
        self.path = self._run.events_path
        self._offset = 0
        self._pending: list[ev.Event] = []
        self._terminal = False
        self._next_check = 0.0  # status.json is read at most once per second

    def _read_new(self) -> None:
        try:
            with open(self.path, "rb") as f:
                f.seek(self._offset)
                chunk = f.read(self.MAX_BYTES_PER_READ)
        except FileNotFoundError:
            return
        end = chunk.rfind(b"\n")
        if end < 0:
            return
        self._offset += end + 1
        for line in chunk[: end + 1].splitlines():
            if not line.strip():
                continue
            try:
                event = ev.from_dict(json.loads(line))
            except (ValueError, KeyError, TypeError):
                continue  # a foreign or damaged line: skip it, keep following
            self._pending.append(event)
            self._terminal |= isinstance(event, ev.TERMINAL)

    def poll(self, max_events: int = 100) -> list[ev.Event]:
        if len(self._pending) < max_events:
            self._read_new()
        if not self._pending and not self._terminal and time.monotonic() >= self._next_check \
                and not self._writer_alive():
            self._read_new()  # the writer may have finished between the two looks
            if not self._pending and not self._terminal:
                self._terminal = True
                self._pending.append(ev.RunCrashed(
                    run_id=self.run_dir.name, exitcode=None,
                    message=f"the process writing {self.run_dir} is gone and left no final event"))
        out, self._pending = self._pending[:max_events], self._pending[max_events:]
        return out

    def _writer_alive(self) -> bool:
        """RunDir.status() reads a "running" run whose process is gone as "crashed"."""
        self._next_check = time.monotonic() + 1.0
        return self._run.status().state in ("running", "created")

    def is_alive(self) -> bool:
        return not self._terminal

    def stop(self) -> None:
        """Runs of other processes are not stopped from here."""

    def close(self) -> None:
        self._pending.clear()

