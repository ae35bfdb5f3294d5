"""The one contract for long engine work: progress callbacks, a stop check, `Cancelled`.

`progress(fraction, message)` gets a fraction in [0, 1] (or -1 when unknown), the shape of a
`Phase` event; `should_stop()` returning True makes the work raise `Cancelled` at its next
check. Whoever runs the work (the training loop, a GUI task) catches `Cancelled` alone.
"""
from __future__ import annotations

from typing import Callable

ProgressFn = Callable[[float, str], None]
StopFn = Callable[[], bool]


class Cancelled(Exception):
    """should_stop() turned true: the work unwinds and whoever started it reports a stop."""


def check_stop(should_stop: StopFn | None, message: str = "stopped") -> None:
    """Raise `Cancelled(message)` when `should_stop()` is true."""
    if should_stop is not None and should_stop():
        raise Cancelled(message)


def report_progress(progress: ProgressFn | None, fraction: float, message: str) -> None:
    if progress is not None:
        progress(float(fraction), message)


def scaled_progress(progress: ProgressFn | None, start: float, stop: float) -> ProgressFn | None:
    """A progress callback mapping [0, 1] onto [start, stop] of `progress` (-1 stays -1)."""
    if progress is None:
        return None
    return lambda f, message: progress(f if f < 0 else start + (stop - start) * f, message)
