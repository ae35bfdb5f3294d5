"""Training page with real worker processes on the demo dataset and the tiny backbone:
curves hold exactly what the event log holds; Stop, Resume, a killed worker and a
failing config are all shown while the window stays usable."""
import os
import signal

import pytest

from fer_engine.training import events as ev
from fer_engine.training.run_files import DatasetInfo
from fer_engine.training.rundir import RunDir
from fer_engine.training.runs_list import list_runs
from fer_studio.pages.training_page import TrainingPage
from fer_studio.state import AppState


@pytest.fixture
def page(qtbot, tmp_path):
    state = AppState(runs_root=tmp_path / "runs")
    p = TrainingPage(state)
    qtbot.addWidget(p)
    yield p
    p.stop_all_runs()
    p.shutdown()


@pytest.fixture
def seen(page):
    """Every event the page received, per run directory."""
    out = {}
    page.eventReceived.connect(lambda d, e: out.setdefault(d, []).append(e))
    return out


def _first(qtbot, seen, run_dir, kind, timeout=90_000):
    qtbot.waitUntil(lambda: any(isinstance(e, kind) for e in seen.get(run_dir, [])), timeout=timeout)


def test_curves_hold_exactly_the_event_log(qtbot, page, started, tiny_config, wait_end):
    page.state.set_config(tiny_config(epochs=2, steps=3))
    run_dir = started(page)
    assert not page.train_button.isEnabled() and page.stop_button.isEnabled()
    assert wait_end(qtbot, page, run_dir) == "finished"
    log = RunDir(run_dir).read_events()
    steps = [e for e in log if isinstance(e, ev.StepProgress)]
    epochs = [e for e in log if isinstance(e, ev.EpochMetrics)]
    assert steps and steps[-1].global_step == 6 and len(epochs) == 2  # steps may be throttled
    assert page.plots.data("loss", "step_loss")[1] == pytest.approx([e.loss for e in steps])
    assert page.plots.data("lr", "step_lr")[1] == pytest.approx([e.lr for e in steps])
    for key, series in (("loss", "val_loss"), ("loss", "train_loss"), ("acc", "val_acc"),
                        ("acc", "train_acc"), ("f1", "val_f1")):
        x, y = page.plots.data(key, series)
        assert x == [e.epoch for e in epochs]
        assert y == pytest.approx([e.metrics[series] for e in epochs])
    assert page.progress.bar.value() == page.progress.bar.maximum()
    assert "device cpu" in page.progress.info.text() and "img/s" in page.progress.info.text()
    assert page.train_button.isEnabled() and not page.stop_button.isEnabled()


def test_stop_takes_effect_and_resume_continues(qtbot, page, started, seen, tiny_config, wait_end):
    epochs = 8  # room for the stop to land after the first checkpoint, on a fast machine too
    page.state.set_config(tiny_config(epochs=epochs, steps=3))
    run_dir = started(page)
    _first(qtbot, seen, run_dir, ev.CheckpointSaved)
    page.stop_button.click()
    assert wait_end(qtbot, page, run_dir) == "stopped"
    assert isinstance(RunDir(run_dir).read_events()[-1], ev.RunStopped)
    assert RunDir(run_dir).status().state == "stopped"
    assert page.resume_button.isEnabled()
    checks = []

    def resume_and_look():
        page.resume()  # the worker takes seconds to start: the page says it is starting meanwhile
        checks.append(("starting" in page.progress.phase.text(), page.checklist.status(run_dir)))

    assert started(page, resume_and_look) == run_dir
    assert checks == [(True, "starting")]
    assert wait_end(qtbot, page, run_dir) == "finished"
    x, _ = page.plots.data("acc", "val_acc")
    assert x == [float(e) for e in range(1, epochs + 1)]  # epochs after the resume point not doubled


def test_killed_worker_is_reported_and_the_window_stays_usable(qtbot, page, started, seen, tiny_config, wait_end):
    page.state.set_config(tiny_config(epochs=50, steps=50))
    run_dir = started(page)
    _first(qtbot, seen, run_dir, ev.StepProgress)
    os.kill(page.monitors[run_dir].source.pid, signal.SIGKILL)
    assert wait_end(qtbot, page, run_dir, timeout=10_000) == "crashed"
    assert not page.error.isHidden() and "crashed" in page.error.message.text()
    assert page.train_button.isEnabled()

    page.state.set_config(tiny_config(**{"data.path": str(page.state.runs_root / "no-such-data")}))
    second = started(page)
    assert second != run_dir
    assert wait_end(qtbot, page, second) == "failed"
    assert "no-such-data" in page.error.message.text()
    assert "Traceback" in page.error.traceback.toPlainText()
    page.error.toggle.click()
    assert not page.error.traceback.isHidden()
    assert page.train_button.isEnabled()


def test_a_ticked_run_stays_overlaid_when_another_run_starts_and_statuses_follow_live(qtbot, page, runs):
    """Issue #20, item 5."""
    root = page.state.runs_root
    a, b = runs.write(root, name="run A"), runs.write(root, name="run B")
    page.watch(str(a.path))
    page.checklist.set_runs(list_runs(root))
    page.checklist.set_checked([str(a.path), str(b.path)])  # the shown run ticked too
    assert sorted(page.plots.run_names()) == ["run A", "run B"]
    c = runs.write(root, name="run C", status="running")  # another run starts and is shown
    page.watch(str(c.path))
    assert page.shown == str(c.path)
    assert page.plots.run_names() == ["run C", "run A", "run B"]
    qtbot.waitUntil(lambda: page.curves[str(c.path)].status == "running", timeout=30_000)
    qtbot.waitUntil(lambda: page.checklist.status(str(c.path)) == "running", timeout=30_000)  # at the next redraw
    c.write_status("created")  # the disk lags the live run (as before its worker writes "running")
    assert list_runs(root)[0].status != "running"
    page.checklist.set_runs(list_runs(root))  # what the pool-thread re-read hands over
    assert page.checklist.status(str(c.path)) == "running"


def test_accuracy_plot_shows_chance_and_majority_lines_and_empty_charts_say_so(qtbot, page, runs):
    """A 19% run must visibly sit below "always happy"; no run: a message, not dummy axes."""
    assert all(not e.label.isHidden() for e in page.plots.empty.values())
    run = runs.write(page.state.runs_root, name="r")
    run.write_dataset(DatasetInfo(class_names=["happy", "sad"], split_class_counts={"train": [30, 10], "val": [6, 4]}))
    page.watch(str(run.path))
    assert all(e.label.isHidden() for e in page.plots.empty.values())
    lines = {round(line.value(), 3): line.label.format for line in page.plots.baseline_lines}
    assert lines == {0.6: "always happy 60.0%", 0.5: "chance 50.0%"}
    assert all(line in page.plots.plots["acc"].getPlotItem().items for line in page.plots.baseline_lines)
    balanced = runs.write(page.state.runs_root, name="b")  # equal lines would print one label over the other
    balanced.write_dataset(DatasetInfo(class_names=["happy", "sad"], split_class_counts={"val": [5, 5]}))
    page.watch(str(balanced.path))
    assert [line.label.format for line in page.plots.baseline_lines] == ["chance = always happy 50.0%"]


@pytest.mark.parametrize("low", [False, True])
def test_gui_runs_train_at_normal_priority_unless_the_setting_asks(qtbot, page, started, tmp_path, monkeypatch, low):
    """Today's nice +5 made GUI runs several times slower than the CLI on a busy machine."""
    import subprocess
    import sys

    from fer_engine.training import worker

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])

    class Handle:  # a started run as `worker.start_run` returns it (the process is a sleeper)
        def __init__(self, cfg, root, resume_dir=None, name=None):
            self.run_dir = RunDir.create(root, cfg, name=name)
            self.run_id, self.pid = self.run_dir.run_id, child.pid

        stopped = False

        def poll(self, max_events):
            return [ev.RunStopped(run_id=self.run_id, epoch=0, step=0)] if self.stopped else []

        def stop(self):
            self.stopped = True

        def is_alive(self):
            return child.poll() is None

        def close(self):
            pass

        detach = close

    monkeypatch.setattr(worker, "start_run", Handle)
    page.state.settings.low_priority_training = low
    try:
        started(page)
        assert os.getpriority(os.PRIO_PROCESS, child.pid) == os.getpriority(os.PRIO_PROCESS, 0) + (5 if low else 0)
    finally:
        child.kill()
        child.wait()
