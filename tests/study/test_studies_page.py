"""The Studies page on a finished study: live grid, sortable results, forest plot, exports, plan."""
from __future__ import annotations

import pytest

from fer_engine.presets import load_preset
from study_fakes import DEMO_STUDY, finished_study

from fer_studio.pages.studies_page import StudiesPage, studies_root
from fer_studio.state import AppState


@pytest.fixture
def state(tmp_path, monkeypatch):
    monkeypatch.setenv("FER_STUDIO_CONFIG_DIR", str(tmp_path / "settings"))
    return AppState(runs_root=tmp_path / "runs")


@pytest.mark.timeout(240)
def test_finished_study_shows_results_plot_and_exports(qtbot, state, tmp_path):
    study = finished_study(studies_root(state) / "20260101-000000-fake",
                           {"hflip": 70, "rotation": 0, "label_smoothing": -70})
    page = StudiesPage(state)
    qtbot.addWidget(page)
    assert page.study_combo.count() == 1  # studies beside the runs folder are listed
    page.open_study(str(study.path))
    qtbot.waitUntil(lambda: page.table.rowCount() == 4, timeout=120_000)
    grid = [[page.grid.item(r, c).text() for c in (0, 3, 4)] for r in range(page.grid.rowCount())]
    planned = load_preset("quick-cpu").train.epochs  # the fake runs' config: the study's base preset
    assert len(grid) == 8 and all(state_ == "finished" and epoch == f"3/{planned}" for _, state_, epoch in grid)
    assert page.grid.item(0, 6).text() == "▁▆█"  # the val-accuracy sparkline (0.40, 0.55, 0.60)
    verdicts = {page.table.item(r, 0).text(): page.table.item(r, 10).text() for r in range(4)}
    assert verdicts == {"baseline": "–", "-hflip": "helps", "-rotation": "no detectable effect",
                        "-label_smoothing": "hurts"}
    assert page.forest.variants == ["-hflip", "-rotation", "-label_smoothing"]
    assert not page.timer.isActive()  # nothing left to watch

    page.table.sortItems(6)  # by effect, numerically
    assert [page.table.item(r, 0).text() for r in range(4)] == ["baseline", "-label_smoothing", "-rotation", "-hflip"]
    page.table.selectRow([page.table.item(r, 0).text() for r in range(4)].index("-hflip"))
    with qtbot.waitSignal(state.compareRequested) as overlay:
        page.overlay_variant()
    assert sorted(p.rsplit("/", 1)[1] for p in overlay.args[0]) == [
        "00-baseline-s0", "00-baseline-s1", "01-no-hflip-s0", "01-no-hflip-s1"]

    md, csv = page.export_table(tmp_path / "t.md"), page.export_table(tmp_path / "t.csv")
    assert "| -hflip | 2 |" in md.read_text() and csv.read_text().startswith("variant,changes,seeds")
    for suffix in (".png", ".svg"):
        assert page.forest.export(tmp_path / f"plot{suffix}").stat().st_size > 1000
    with pytest.raises(ValueError, match=r"\.md or \.csv"):
        page.export_table(tmp_path / "t.txt")


@pytest.mark.timeout(240)
def test_plan_from_the_current_set_up(qtbot, state):
    state.set_config(state.config.replace(**{"data.path": "demo", "model.backbone": "fer_cnn_tiny",
                                             "train.epochs": 1, "train.batch_size": 16}))
    page = StudiesPage(state)
    qtbot.addWidget(page)
    names = [page.builder.tricks.item(i).data(256) for i in range(page.builder.tricks.count())]
    assert "hflip" in names and "mixup" not in names  # leave-one-out lists what the set-up has on
    page.builder.set_ticked(["hflip"])
    page.builder.grid.setPlainText("optim.lr = 0.01")
    page.make_plan()
    qtbot.waitUntil(lambda: page.start_button.isEnabled(), timeout=200_000)
    text = page.plan_text.toPlainText()
    assert text.startswith("3 variants × 2 seeds = 6 runs") and "-hflip: augment.hflip=0.0" in text
    assert "estimate:" in text
    page.builder.grid.setPlainText("optim.lrr = 0.01")
    assert not page.start_button.isEnabled()
    page.make_plan()
    qtbot.waitUntil(lambda: "unknown config key: optim.lrr" in page.plan_text.toPlainText(), timeout=60_000)


@pytest.mark.timeout(400)
def test_start_trains_the_study_in_its_own_process(qtbot, state):
    from fer_engine.study.plan import expand
    from fer_engine.study.spec import StudySpec
    from fer_engine.study.studydir import StudyDir

    spec = StudySpec.from_dict({**DEMO_STUDY, "ablate": {}, "seeds": [0]})
    study = StudyDir.create(studies_root(state) / "one-run", spec, expand(spec))
    page = StudiesPage(state)
    qtbot.addWidget(page)
    page.open_study(str(study.path))
    page.resume_study()
    assert page.active_runs() == [str(study.path)] and page.stop_button.isEnabled()
    qtbot.waitUntil(lambda: not page._running() and page.table.rowCount() == 1, timeout=350_000)
    assert study.states() == {"00-baseline-s0": "finished"}
    assert "[00-baseline-s0] finished:" in (study.path / "study.log").read_text()
    assert page.grid.item(0, 3).text() == "finished" and page.export_md.isEnabled()
