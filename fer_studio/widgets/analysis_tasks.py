"""Progress bar + Cancel for the analysis page's background jobs (prediction, t-SNE, CAMs).

Jobs run on Qt's thread pool through `fer_studio.tasks.run_task` as `fn(progress,
should_stop)`. Each job has a key ("open", "embed", "cam"); starting a job cancels the
running one with the same key, so only the latest request of a kind delivers a result.
Cancel stops every running job cooperatively (their `should_stop()` turns true) and their
results are dropped.
"""
from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from ..tasks import Task, run_task

JobFn = Callable[[Callable[..., None], Callable[[], bool]], Any]


class AnalysisTasks(QWidget):
    """A compact status strip: job label, progress bar, Cancel; owns the running tasks."""

    jobFinished = Signal(str, str)  # key, outcome: "done" | "failed" | "cancelled"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._tasks: dict[str, Task] = {}
        self._labels: dict[str, str] = {}
        self.label = QLabel("")
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(220)
        self.bar.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the running analysis jobs (results are discarded)")
        self.cancel_button.clicked.connect(self.cancel_all)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.label, 1)
        lay.addWidget(self.bar)
        lay.addWidget(self.cancel_button)
        self._sync()

    def start(self, key: str, label: str, fn: JobFn, on_done: Callable[[Any], None],
              on_error: Callable[[str, str], None] | None = None) -> Task:
        """Run `fn(progress, should_stop)` in the background; `on_done(result)` on the GUI thread."""
        self.cancel(key)
        box: list[Task] = []  # the task, for callbacks that may fire before run_task returns
        task = run_task(
            fn,
            on_progress=lambda f, text: self._on_progress(key, f, text),
            on_done=lambda result: self._finish(key, box[0], "done", on_done, result),
            on_error=lambda msg, tb: self._finish(key, box[0], "failed", on_error, msg, tb))
        box.append(task)
        # `cancelled` only follows a cancel() call, which comes after this connection
        task.cancelled.connect(lambda: self._finish(key, task, "cancelled", None))
        self._tasks[key] = task
        self._labels[key] = label
        self._sync(label)
        return task

    def is_running(self, key: str | None = None) -> bool:
        return bool(self._tasks) if key is None else key in self._tasks

    def cancel(self, key: str) -> None:
        task = self._tasks.pop(key, None)
        if task is not None:
            task.cancel()
            self._sync(f"{self._labels.get(key, key)}: cancelled")

    def cancel_all(self) -> None:
        for key in list(self._tasks):
            self.cancel(key)

    # -- internals --------------------------------------------------------------------------
    def _on_progress(self, key: str, fraction: float, text: str) -> None:
        if key not in self._tasks:
            return
        if fraction < 0:
            self.bar.setRange(0, 0)  # busy indicator
        else:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(round(1000 * min(1.0, fraction))))
        self.label.setText(f"{self._labels.get(key, key)}: {text}" if text else self._labels.get(key, key))

    def _finish(self, key: str, task: Task, outcome: str, callback, *args) -> None:
        if self._tasks.get(key) is task:
            del self._tasks[key]
            if callback is not None:
                callback(*args)
            message = {"done": "", "failed": f"{self._labels.get(key, key)} failed: {args[0] if args else ''}",
                       "cancelled": f"{self._labels.get(key, key)}: cancelled"}[outcome]
            self._sync(message)
        self.jobFinished.emit(key, outcome)

    def _sync(self, text: str | None = None) -> None:
        busy = bool(self._tasks)
        self.bar.setVisible(busy)
        self.cancel_button.setEnabled(busy)
        if busy:
            self.bar.setRange(0, 0)
        if text is not None:
            self.label.setText(text)
