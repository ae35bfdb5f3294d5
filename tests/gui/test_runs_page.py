"""Runs page: runs made outside the app (engine/CLI) are listed; rename, delete, duplicate,
open and compare act on the selected run; a run another process is training is followed live."""

import pytest
from PySide6.QtWidgets import QInputDialog, QMessageBox

from fer_engine.training import events as ev
from fer_studio.pages.runs_page import RunsPage
from fer_studio.pages.training_page import TrainingPage
from fer_studio.state import AppState


@pytest.fixture
def state(tmp_path):
    return AppState(runs_root=tmp_path / "runs")


def _rows(page):
    m = page.table.proxy
    return [[m.index(r, c).data() for c in range(m.columnCount())] for r in range(m.rowCount())]


def _select(page, run_dir):
    page.table.selectRow(page.table.run_dirs().index(str(run_dir)))


def _row_dicts(page):
    from fer_studio.widgets.runs_table import COLUMNS

    return [dict(zip(COLUMNS, row)) for row in _rows(page)]


def test_engine_made_run_appears_with_its_facts(qtbot, state, runs):
    page = RunsPage(state)
    qtbot.addWidget(page)
    run = runs.write(state.runs_root, name="from-cli", epochs=3)
    # the page's first read runs while the run is being written and may show it half-written;
    # the watcher's re-read then shows the finished run
    qtbot.waitUntil(lambda: [r["Status"] for r in _row_dicts(page)] == ["finished"], timeout=5000)
    (row,) = _row_dicts(page)
    assert row["Name"] == "from-cli" and row["Backbone"] == "fer_cnn" and row["Best val acc"] == "80.0%"
    assert "label_smoothing" in row["Tricks"] or "Label smoothing" in row["Tricks"]
    assert page.table.run_dirs() == [str(run.path)]


def test_runs_list_shows_dataset_planned_epochs_test_accuracy_and_the_precision_used(qtbot, state, runs):
    """A CPU without bfloat16 trains an amp config in float32: the list says so (issue #20, item 7)."""
    page = RunsPage(state)
    qtbot.addWidget(page)
    f32 = runs.write(state.runs_root, name="f32", epochs=2)
    f32.write_status("finished", summary={"test_acc": 0.4125})
    bf16 = runs.write(state.runs_root, name="bf16", epochs=2)
    lines = bf16.events_path.read_text().splitlines()
    lines = [ln.replace('"device": "cpu"', '"device": "cpu (bfloat16 autocast, channels_last)"') for ln in lines]
    bf16.events_path.write_text("\n".join(lines) + "\n")
    for run in (f32, bf16):
        cfg = run.config().replace(**{"train.amp": True, "train.epochs": 5, "data.path": "/data/fer2013"})
        cfg.save(run.config_path)
    page.refresh_now()
    assert {r["Name"]: r["Precision"] for r in _row_dicts(page)} == {"f32": "float32", "bf16": "bfloat16"}
    rows = {r["Name"]: r for r in _row_dicts(page)}
    assert "amp" not in rows["f32"]["Tricks"] and "Mixed" not in rows["f32"]["Tricks"]
    assert "amp (bfloat16)" in rows["bf16"]["Tricks"]
    assert rows["f32"]["Dataset"] == "fer2013" and rows["f32"]["Epochs"] == "2 / 5"
    assert rows["f32"]["Test acc"] == "41.2%" and rows["bf16"]["Test acc"] == "–"


def test_rename_delete_and_duplicate(qtbot, state, monkeypatch, runs):
    run = runs.write(state.runs_root, name="old")
    page = RunsPage(state)
    qtbot.addWidget(page)
    page.refresh_now()
    _select(page, run.path)
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("renamed", True))
    page.rename_run()
    page.refresh_now()
    assert _rows(page)[0][0] == "renamed"

    pages = []
    state.pageRequested.connect(pages.append)
    _select(page, run.path)
    page.duplicate_config()
    assert state.config.train.epochs == 2 and state.config.loss.label_smoothing == 0.1 and pages[-1] == "setup"

    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.No)
    _select(page, run.path)
    page.delete_runs()
    assert run.path.exists()
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.Yes)
    page.delete_runs()
    page.refresh_now()
    assert not run.path.exists() and _rows(page) == []


def test_analyse_live_and_compare_signals(qtbot, state, runs):
    a, b = runs.write(state.runs_root, name="a"), runs.write(state.runs_root, name="b")
    page = RunsPage(state)
    qtbot.addWidget(page)
    page.refresh_now()
    got = []
    state.analysisRequested.connect(lambda d: got.append(("analysis", d)))
    state.liveRequested.connect(lambda d: got.append(("live", d)))
    state.compareRequested.connect(lambda ds: got.append(("compare", sorted(ds))))
    _select(page, a.path)
    page.buttons["Analyse"].click()
    page.buttons["Live"].click()
    page.table.selectAll()
    page.buttons["Compare"].click()
    assert got == [("analysis", str(a.path)), ("live", str(a.path)),
                   ("compare", sorted([str(a.path), str(b.path)]))]


def test_compare_overlays_runs_on_the_training_curves(qtbot, state, runs):
    a, b = runs.write(state.runs_root, name="a", epochs=2), runs.write(state.runs_root, name="b", epochs=3)
    page = TrainingPage(state)
    qtbot.addWidget(page)
    state.compareRequested.emit([str(a.path), str(b.path)])
    names = page.plots.run_names()
    assert sorted(names) == ["a", "b"]
    assert page.plots.data("acc", "val_acc", run=names.index("a"))[0] == [1.0, 2.0]
    assert page.plots.data("acc", "val_acc", run=names.index("b"))[0] == [1.0, 2.0, 3.0]
    legend = [label.text for _, label in page.plots.plots["acc"].getPlotItem().legend.items]
    assert sorted(legend) == ["a", "b"]  # one entry per run, named after it


def test_a_run_of_another_process_is_followed_live(qtbot, state, runs):
    run = runs.write(state.runs_root, name="elsewhere", epochs=1, steps=2, status="running")
    page = TrainingPage(state)
    qtbot.addWidget(page)
    state.watchRequested.emit(str(run.path))
    monitor = page.monitors[str(run.path)]
    assert not monitor.can_stop and page.active_runs() == []  # not ours: never stopped on close
    qtbot.waitUntil(lambda: len(page.plots.data("loss", "step_loss")[0]) == 2, timeout=5000)
    runs.append_epoch(run, 2, 2)
    qtbot.waitUntil(lambda: page.plots.data("acc", "val_acc")[1] == [0.6, 0.7], timeout=5000)
    ended = []
    monitor.ended.connect(ended.append)
    run.append_event(ev.RunFinished(run_id=run.run_id, best_epoch=2, best_metric=0.7,
                                    monitor="val_acc", summary={}))
    run.write_status("finished")
    qtbot.waitUntil(lambda: ended == ["finished"], timeout=5000)
    assert str(run.path) not in page.monitors and page.curves[str(run.path)].status == "finished"


def test_a_run_whose_writer_died_reads_as_crashed(qtbot, state, runs):
    run = runs.write(state.runs_root, epochs=1, status="running", running_pid=2 ** 22 + 12345)
    page = TrainingPage(state)
    qtbot.addWidget(page)
    page.watch(str(run.path))  # status() already says crashed: replayed, not followed
    assert str(run.path) not in page.monitors
    assert page.curves[str(run.path)].status in ("running", "crashed")
    assert not page.error.isHidden() or page.curves[str(run.path)].status == "running"
