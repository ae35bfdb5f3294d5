"""Measure how long the GUI event loop is blocked: a 5 ms timer records its longest gap.

    probe = LatencyProbe(); probe.start(); ...; probe.stop(); probe.max_gap_ms

A gap well above the interval means some handler held the GUI thread that long.
"""
from __future__ import annotations

import sys
import threading
import time
import traceback

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer


class LatencyProbe(QObject):
    """`trace_ms > 0`: a watcher thread records the GUI thread's stack whenever a tick is
    that late (`stalls`: list of (late ms, stack text)), to find what blocks the loop."""

    def __init__(self, interval_ms: int = 5, parent: QObject | None = None, trace_ms: float = 0.0):
        super().__init__(parent)
        self.trace_ms = trace_ms
        self.stalls: list[tuple[float, str]] = []
        self._gui_thread = threading.get_ident()
        self._watching = False
        self.interval_ms = interval_ms
        self._timer = QTimer(self, interval=interval_ms, timeout=self._tick)
        self._timer.setTimerType(Qt.PreciseTimer)
        self.gaps_ms: list[float] = []
        self.cpu_ms: list[float] = []  # GUI-thread CPU time within each gap
        self._last: float | None = None
        self._last_cpu = 0.0

    def start(self) -> None:
        self.gaps_ms.clear()
        self.cpu_ms.clear()
        self._last = time.perf_counter()
        self._last_cpu = time.thread_time()
        self._timer.start()
        if self.trace_ms > 0:
            self._watching = True
            threading.Thread(target=self._watch, daemon=True).start()

    def stop(self) -> None:
        self._timer.stop()
        self._watching = False

    def _watch(self) -> None:
        reported_for = None
        while self._watching:
            time.sleep(0.005)
            last = self._last
            late = (time.perf_counter() - last) * 1000.0 if last else 0.0
            if late > self.trace_ms and reported_for != last:
                frame = sys._current_frames().get(self._gui_thread)
                if frame is not None:
                    self.stalls.append((late, "".join(traceback.format_stack(frame))))
                    reported_for = last

    def _tick(self) -> None:
        now, cpu = time.perf_counter(), time.thread_time()
        if self._last is not None:
            self.gaps_ms.append((now - self._last) * 1000.0)
            self.cpu_ms.append((cpu - self._last_cpu) * 1000.0)
        self._last, self._last_cpu = now, cpu

    @property
    def ticks(self) -> int:
        return len(self.gaps_ms)

    @property
    def max_gap_ms(self) -> float:
        return max(self.gaps_ms, default=0.0)

    def summary(self) -> dict[str, float]:
        """Gap statistics; `max_cpu_ms`: the most GUI-thread CPU spent between two ticks
        (a wall-clock gap far above it means the OS ran other processes meanwhile);
        `max_at_s`: when the longest gap began, in seconds after start()."""
        g = np.asarray(self.gaps_ms or [0.0])
        return {"ticks": float(len(self.gaps_ms)), "max_ms": float(g.max()),
                "p99_ms": float(np.percentile(g, 99)), "p50_ms": float(np.percentile(g, 50)),
                "max_cpu_ms": float(max(self.cpu_ms, default=0.0)),
                "max_at_s": float(g[: int(g.argmax())].sum() / 1000.0)}
