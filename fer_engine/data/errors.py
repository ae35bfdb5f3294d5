"""Errors and callback types shared by the dataset loaders and the dataset report."""
from __future__ import annotations

from typing import Callable, Optional

#: progress(fraction in [0, 1] or -1 when unknown, message) -- the shape of a `Phase` event.
ProgressFn = Optional[Callable[[float, str], None]]
#: should_stop() -> True aborts the current load or report with `StopRequested`.
StopFn = Optional[Callable[[], bool]]


class DatasetError(ValueError):
    """A dataset that cannot be used; the message names the path and the problem."""

    def __init__(self, message: str):
        super().__init__(printable(message))


class StopRequested(Exception):
    """should_stop() turned true while a dataset was being read."""


def check_stop(should_stop: StopFn) -> None:
    if should_stop is not None and should_stop():
        raise StopRequested("stopped while reading the dataset")


def report_progress(progress: ProgressFn, fraction: float, message: str) -> None:
    if progress is not None:
        progress(float(fraction), message)


def scaled_progress(progress: ProgressFn, start: float, stop: float) -> ProgressFn:
    """A progress callback mapping [0, 1] onto [start, stop] of `progress` (-1 stays -1)."""
    if progress is None:
        return None
    return lambda f, message: progress(f if f < 0 else start + (stop - start) * f, message)


def printable(text: str) -> str:
    """Text safe to print or show: bytes of non-UTF-8 file names (surrogate escapes) as \\xNN."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
