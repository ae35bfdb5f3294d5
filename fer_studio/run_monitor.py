"""Watch one run: drain its events on a timer in bounded batches, throttle redraws.

A source is either a live `RunHandle` from `fer_engine.training.worker.start_run` or an
`EventLogTail` of a run directory written by another process (a CLI run, or a run left
going when the app was closed). Both offer `poll(max_events)`, `stop()`, `is_alive()`,
`close()`. The GUI thread only folds small events into `RunCurves`; redraw requests
(`updated`) are emitted at most `1000 / redraw_ms` times per second.
"""
from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import QElapsedTimer, QObject, QTimer, Signal

from fer_engine.training import events as ev

from .run_curves import RunCurves


class EventSource(Protocol):
    def poll(self, max_events: int = ...) -> list: ...
    def stop(self) -> None: ...
    def is_alive(self) -> bool: ...
    def close(self) -> None: ...


class RunMonitor(QObject):
    updated = Signal()  # curves changed; redraw (throttled)
    eventReceived = Signal(object)  # every event, in order (for logs and tests)
    ended = Signal(str)  # terminal status: finished, stopped, failed, crashed

    POLL_MS = 40
    REDRAW_MS = 100
    MAX_EVENTS_PER_TICK = 200
    REAP_MS = 200  # how often a worker exiting after its final event is looked at
    REAP_WAIT_MS = 300_000  # one not gone after this long is left (the next run's start reaps it)

    def __init__(self, source: EventSource, curves: RunCurves, run_dir: str,
                 parent: QObject | None = None, can_stop: bool = True):
        super().__init__(parent)
        self.source, self.curves, self.run_dir, self.can_stop = source, curves, run_dir, can_stop
        self._dirty = False
        self._poll = QTimer(self, interval=self.POLL_MS, timeout=self._drain)
        self._redraw = QTimer(self, interval=self.REDRAW_MS, timeout=self._flush)
        self._reaper = QTimer(self, interval=self.REAP_MS, timeout=self._release)
        self._reaping = QElapsedTimer()
        self._poll.start()
        self._redraw.start()

    @property
    def active(self) -> bool:
        return self._poll.isActive()

    def stop_run(self) -> None:
        if self.active and self.can_stop:
            self.source.stop()

    def _drain(self) -> None:
        try:
            batch = self.source.poll(self.MAX_EVENTS_PER_TICK)
        except Exception as e:  # noqa: BLE001 - a broken source must not take the window down
            batch = [ev.RunCrashed(run_id=self.curves.run_id, exitcode=None,
                                   message=f"lost contact with the run: {e}")]
        for event in batch:
            self.curves.apply(event)
            self.eventReceived.emit(event)
            self._dirty = True
            if isinstance(event, ev.TERMINAL) and event.run_id == self.curves.run_id:
                self._finish(self.curves.status)
                return

    def _flush(self) -> None:
        if self._dirty:
            self._dirty = False
            self.updated.emit()

    def _finish(self, status: str) -> None:
        self._poll.stop()
        self._redraw.stop()
        self._flush()
        self._release()
        self.ended.emit(status)

    def _release(self) -> None:
        """Close the source; a worker still exiting after its final event is reaped first
        (polled, never waited for on this thread), so it is not left a zombie."""
        if not self.source.is_alive() or (self._reaping.isValid() and self._reaping.elapsed() > self.REAP_WAIT_MS):
            self._reaper.stop()
            self.source.close()
        elif not self._reaper.isActive():
            self._reaping.start()
            self._reaper.start()

    def detach(self) -> None:
        """Stop watching without stopping the run (it keeps writing its run directory)."""
        if self.active:
            self._poll.stop()
            self._redraw.stop()
            detach = getattr(self.source, "detach", None)
            (detach or self.source.close)()
