"""Main window: pages from PAGES (a missing one shows its error), settings persist across
two windows, and closing while a run trains asks to stop it or leave it running."""
import os
import signal

import pytest
from PySide6.QtWidgets import QPlainTextEdit

from fer_engine.training.rundir import RunDir
from fer_studio import main_window as mw
from fer_studio.app import create_window
from fer_studio.settings import Settings


@pytest.fixture
def window(qtbot):
    made = []

    def make():
        w = create_window(Settings.load())
        qtbot.addWidget(w)
        made.append(w)
        return w

    yield make
    for w in made:
        for page in w.pages.values():
            getattr(page, "shutdown", lambda: None)()


def test_pages_are_listed_and_a_missing_module_shows_its_error(window, monkeypatch):
    monkeypatch.setattr(mw, "PAGES", mw.PAGES + [("ghost", "fer_studio.pages.no_such_page", "GhostPage")])
    w = window()
    assert {"setup", "training", "runs", "ghost"} <= set(w.pages)
    error = w.pages["ghost"].findChild(QPlainTextEdit).toPlainText()
    assert "could not be loaded" in error and "fer_studio.pages.no_such_page" in error
    w.show_page("runs")
    assert w.stack.currentWidget() is w.pages["runs"]
    w.state.pageRequested.emit("training")
    assert w.current_page_key() == "training"


def test_the_window_shows_the_app_icon_from_assets(window):
    icon = window().windowIcon()
    assert not icon.isNull()
    image = icon.pixmap(64, 64).toImage()  # drawn from the SVG: its blue background fills the corner
    assert image.width() == 64 and image.pixelColor(20, 4).blue() > 150


def test_settings_persist_across_two_windows(window, tmp_path):
    w = window()
    w.resize(712, 533)  # within the offscreen screen
    w.show_page("runs")
    w.set_theme("dark")
    w.state.set_runs_root(tmp_path / "my-runs")
    w.state.set_data_path(str(tmp_path / "faces.csv"))
    w.state.set_data_path("demo")
    w.close()
    s = Settings.load()
    assert s.theme == "dark" and s.runs_root == str(tmp_path / "my-runs")
    assert s.recent_datasets[:2] == ["demo", str(tmp_path / "faces.csv")] and s.last_data == "demo"
    w2 = window()
    assert (w2.width(), w2.height()) == (712, 533)
    assert w2.current_page_key() == "runs"
    assert w2.state.runs_root == tmp_path / "my-runs"
    assert w2.state.config.data.path == "demo"


def test_unreadable_settings_file_gives_defaults(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text("{not json")
    assert Settings.load(path) == Settings()


def test_cancel_keeps_the_window_open(window, monkeypatch):
    w = window()
    w.show()
    monkeypatch.setattr(type(w.pages["training"]), "active_runs", lambda self: ["/runs/r1"])
    asked = []
    monkeypatch.setattr(mw.MainWindow, "ask_close_with_runs", lambda self, runs: asked.append(runs) or mw.CANCEL)
    assert not w.close() and w.isVisible() and asked == [["/runs/r1"]]


@pytest.mark.parametrize("answer", [mw.STOP_RUNS, mw.LEAVE_RUNNING])
def test_closing_while_training_asks(qtbot, window, started, tiny_config, wait_end, monkeypatch, answer):
    w = window()
    w.show()
    training = w.pages["training"]
    w.state.set_config(tiny_config(epochs=40, steps=40))
    run_dir = started(training)
    qtbot.waitUntil(lambda: training.curves[run_dir].step > 0, timeout=90_000)
    asked = []
    monkeypatch.setattr(mw.MainWindow, "ask_close_with_runs", lambda self, runs: asked.append(runs) or answer)
    pid = training.monitors[run_dir].source.pid
    closed = w.close()
    assert asked == [[run_dir]]
    run = RunDir(run_dir)
    assert closed
    if answer == mw.STOP_RUNS:
        assert run.status().state == "stopped"
        return
    # left running: the worker keeps writing; a new window follows it live to its end
    assert run.status().state == "running" and run.status().pid == pid
    w2 = window()
    runs_page, training2 = w2.pages["runs"], w2.pages["training"]
    runs_page.refresh_now()
    assert runs_page.table.run_dirs() == [run_dir]
    from fer_studio.widgets.runs_table import COLUMNS

    assert runs_page.table.proxy.index(0, list(COLUMNS).index("Status")).data() == "running"
    steps_before = len(run.read_events())
    w2.state.watchRequested.emit(run_dir)
    assert run_dir in training2.monitors and not training2.monitors[run_dir].can_stop
    qtbot.waitUntil(lambda: len(training2.curves[run_dir].step_x) > 0, timeout=20_000)
    qtbot.waitUntil(lambda: len(run.read_events()) > steps_before, timeout=20_000)  # still writing
    os.kill(pid, signal.SIGKILL)  # end it now (40 epochs would take a while); followed as crashed
    assert wait_end(qtbot, training2, run_dir, timeout=20_000) == "crashed"
