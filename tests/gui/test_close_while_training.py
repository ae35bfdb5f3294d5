"""Closing the window while a run trains (issue 19, item 9): the question "stop or leave
running?" resolves itself once the run ends, so a close nobody answers cannot hang; a finished
worker is reaped, not left a zombie."""
from __future__ import annotations

import os

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from fer_studio.app import create_window
from fer_studio.settings import Settings


@pytest.mark.timeout(600)
def test_close_with_a_run_that_then_ends_does_not_hang_and_reaps_the_worker(qtbot, tiny_config, started):
    w = create_window(Settings.load())
    qtbot.addWidget(w)
    page = w.pages["training"]
    w.state.set_config(tiny_config(epochs=1, steps=2))
    run_dir = started(page)
    pid = page.monitors[run_dir].source.pid
    unanswered = []

    def give_up() -> None:  # the bound of this test: on today's main the question waits for ever
        for box in QApplication.topLevelWidgets():
            if isinstance(box, QMessageBox) and box.isVisible():
                unanswered.append(box.text())
                box.reject()

    QTimer.singleShot(300_000, give_up)
    assert w.active_runs() == [run_dir]
    w.close()  # asks about the run; nobody answers; the run ends meanwhile
    assert not unanswered, "the close question outlived its run"
    assert not w.isVisible() and page.curves[run_dir].status == "finished"
    # a niced worker on a loaded machine can take a while to exit; it is reaped once it has
    qtbot.waitUntil(lambda: not os.path.exists(f"/proc/{pid}"), timeout=180_000)
