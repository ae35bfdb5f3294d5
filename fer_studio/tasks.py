"""Background tasks on Qt's thread pool with progress, cancel and result signals.

`run_task(fn, ...)` calls `fn(progress, should_stop)` on a pool thread; `progress(fraction,
text)` and the result or error arrive as queued signals on the GUI thread. Cancelling
is cooperative: `should_stop()` turns true and the result of a cancelled task is dropped.
"""
from __future__ import annotations

import threading
import traceback
from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot


class Task(QObject):
    progressed = Signal(float, str)  # fraction in [0, 1] (or -1 unknown), message
    succeeded = Signal(object)
    failed = Signal(str, str)  # error message, traceback
    cancelled = Signal()

    def __init__(self, fn: Callable[..., Any]):
        super().__init__()
        self._fn = fn
        self._stop = threading.Event()
        self.done = False

    def cancel(self) -> None:
        self._stop.set()

    def is_cancelled(self) -> bool:
        return self._stop.is_set()

    def _progress(self, fraction: float = -1.0, text: str = "", *_: Any) -> None:
        if not self._stop.is_set():
            try:
                self.progressed.emit(float(fraction), str(text))
            except RuntimeError:  # the Qt side went away
                self._stop.set()

    def _run(self) -> None:
        try:
            result = self._fn(self._progress, self._stop.is_set)
        except BaseException as e:  # noqa: BLE001 - reported to the GUI, never raised in a pool thread
            outcome = (self.cancelled,) if self._stop.is_set() else (
                self.failed, str(e) or type(e).__name__, traceback.format_exc())
        else:
            outcome = (self.cancelled,) if self._stop.is_set() else (self.succeeded, result)
        self.done = True
        try:
            outcome[0].emit(*outcome[1:])
        except RuntimeError:  # the Qt side went away (window closed meanwhile): nobody to tell
            pass


class _Relay(QObject):
    """Delivers a task's outcome to callbacks while `context` lives: a child of the
    context, so a closed page is never called back; deleted once the task ends."""

    def __init__(self, context: QObject, on_done, on_error, on_progress):
        super().__init__(context)
        self._on_done, self._on_error, self._on_progress = on_done, on_error, on_progress

    @Slot(object)
    def done(self, result: Any) -> None:
        if self._on_done:
            self._on_done(result)
        self.deleteLater()

    @Slot(str, str)
    def error(self, message: str, tb: str) -> None:
        if self._on_error:
            self._on_error(message, tb)
        self.deleteLater()

    @Slot(float, str)
    def progress(self, fraction: float, text: str) -> None:
        if self._on_progress:
            self._on_progress(fraction, text)

    @Slot()
    def cancelled(self) -> None:
        self.deleteLater()


class _Reaper(QObject):
    """Holds every running Task until its pool thread is done with it and its outcome has
    been delivered, so a Task (a QObject) is only ever destroyed on the GUI thread.

    A pool thread that dropped the last reference to a Task would destroy it there, possibly
    while the GUI thread still delivers its queued outcome: a crash. So the pool thread lets
    go of the Task first and then emits `ended` with its key; that queued signal arrives
    after the outcome, and only then is the Task released.
    """

    ended = Signal(object)  # a task key (its id, which does not fit a C int)

    def __init__(self):
        super().__init__()
        self.live: dict[int, Task] = {}
        self.ended.connect(self._release)

    def hold(self, task: Task) -> None:
        self.live[id(task)] = task

    def _release(self, key: int) -> None:
        self.live.pop(key, None)


_reaper: _Reaper | None = None


class _Runnable(QRunnable):
    def __init__(self, task: Task, reaper: _Reaper):
        super().__init__()
        self._task: Task | None = task
        self._reaper = reaper

    def run(self) -> None:
        task, self._task = self._task, None
        key = id(task)
        task._run()
        del task  # this thread's last reference: the Task now lives only on the GUI thread
        try:
            self._reaper.ended.emit(key)
        except RuntimeError:  # the application is being torn down
            pass


def run_task(fn: Callable[[Callable, Callable[[], bool]], Any], *,
             on_done: Callable[[Any], None] | None = None,
             on_error: Callable[[str, str], None] | None = None,
             on_progress: Callable[[float, str], None] | None = None,
             context: QObject | None = None, pool: QThreadPool | None = None) -> Task:
    """Start `fn(progress, should_stop)` in the background; keep the returned Task to cancel.

    The callbacks run on the GUI thread. Pass `context` (usually the calling widget) so they
    are dropped once it is destroyed: a page closed meanwhile is never called back.
    """
    global _reaper
    task = Task(fn)
    if context is not None:
        relay = _Relay(context, on_done, on_error, on_progress)
        task.succeeded.connect(relay.done)
        task.failed.connect(relay.error)
        task.progressed.connect(relay.progress)
        task.cancelled.connect(relay.cancelled)
    else:
        for signal, callback in ((task.succeeded, on_done), (task.failed, on_error),
                                 (task.progressed, on_progress)):
            if callback:
                signal.connect(callback)
    if _reaper is None:
        _reaper = _Reaper()  # made on the GUI thread, where run_task is called
    _reaper.hold(task)
    (pool or QThreadPool.globalInstance()).start(_Runnable(task, _reaper))
    return task
