"""Background tasks: outcomes reach the GUI thread, and a Task (a QObject) is only ever
destroyed there, even when its pool thread is still finishing after the outcome arrived."""
import gc
import threading
import time

from PySide6.QtWidgets import QWidget

from fer_studio import tasks


def test_tasks_are_destroyed_on_the_gui_thread_after_their_outcome(qtbot, monkeypatch):
    deleted_on: dict[int, str] = {}  # task id -> thread that destroyed it
    run = tasks.Task._run

    def slow_to_finish(self):
        run(self)
        time.sleep(0.02)  # the GUI thread receives the outcome while this thread still holds the task

    monkeypatch.setattr(tasks.Task, "_run", slow_to_finish)
    monkeypatch.setattr(tasks.Task, "__del__",
                        lambda self: deleted_on.setdefault(id(self), threading.current_thread().name), raising=False)
    context = QWidget()
    qtbot.addWidget(context)
    results = []
    ours = {id(tasks.run_task(lambda progress, should_stop, i=i: i * i, context=context, on_done=results.append))
            for i in range(20)}  # ids only: no reference is kept here
    qtbot.waitUntil(lambda: len(results) == 20 and not tasks._reaper.live, timeout=10_000)
    gc.collect()
    assert sorted(results) == [i * i for i in range(20)]
    assert len(ours) == 20 and {deleted_on.get(key) for key in ours} == {threading.main_thread().name}


def test_a_failing_task_reports_its_error(qtbot):
    context = QWidget()
    qtbot.addWidget(context)
    errors = []

    def boom(progress, should_stop):
        raise ValueError("bad input file")

    tasks.run_task(boom, context=context, on_error=lambda message, tb: errors.append((message, tb)))
    qtbot.waitUntil(lambda: len(errors) == 1, timeout=5_000)
    assert errors[0][0] == "bad input file" and "ValueError" in errors[0][1]
