"""Set-up page: choosing data shows its report (chart = report counts, warnings list the
files), the report runs in the background and can be cancelled, the backbone chooser and
presets change the config, and the LR preview is the engine's schedule."""
import dataclasses

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDropEvent

from fer_engine.data.report import dataset_report
from fer_engine.models import DEFAULT_REASONS
from fer_engine.presets import list_presets, load_preset
from fer_engine.recipe.schedule import preview_lr
from fer_studio.pages.setup_page import SetupPage
from fer_studio.state import AppState


@pytest.fixture
def page(qtbot, tmp_path):
    state = AppState(runs_root=tmp_path / "runs")
    p = SetupPage(state)
    qtbot.addWidget(p)
    # the demo set, reported at start (minutes on a loaded 2-core machine)
    qtbot.waitUntil(lambda: p.report is not None, timeout=240_000)
    return p


@pytest.fixture
def messy(tmp_path):
    """Split folders with a cross-split duplicate, a label conflict, a blank and a broken file."""
    rng = np.random.default_rng(0)
    root = tmp_path / "messy"
    faces = {}
    for split, n in (("train", 6), ("test", 3)):
        for cls in ("happy", "sad"):
            d = root / split / cls
            d.mkdir(parents=True)
            for i in range(n):
                a = rng.integers(0, 255, (48, 48), dtype=np.uint8)
                Image.fromarray(a).save(d / f"{i}.png")
                faces[(split, cls, i)] = d / f"{i}.png"
    (root / "test" / "happy" / "leak.png").write_bytes(faces[("train", "happy", 0)].read_bytes())
    (root / "train" / "sad" / "conflict.png").write_bytes(faces[("train", "happy", 1)].read_bytes())
    Image.fromarray(np.full((48, 48), 128, np.uint8)).save(root / "train" / "sad" / "blank.png")
    (root / "train" / "happy" / "broken.png").write_bytes(b"")
    return root


def test_demo_report_shows_on_open(page):
    report = dataset_report("demo").to_dict()
    heights = page.chart.bar_heights()
    assert set(heights) == set(report["counts"])
    for split, per_class in report["counts"].items():
        assert heights[split] == [per_class[c] for c in report["class_names"]]
    assert page.chart.class_names == report["class_names"]
    assert page.samples.count == sum(min(8, len(v)) for v in report["samples"].values())
    rows = dict(page.summary.rows)
    assert rows["Pixel mean / std"] == f"{report['mean'][0]:.3f} / {report['std'][0]:.3f}"
    assert rows["Layout"] == "demo" and rows["Imbalance"].startswith("balanced")


def test_choosing_a_folder_reports_its_problems(qtbot, page, messy):
    page.state.set_data_path(str(messy))
    qtbot.waitUntil(lambda: page.report is not None and page.report.path == str(messy), timeout=60_000)
    assert page.picker.current.text().endswith(f"<b>{messy}</b>")
    counts = dataset_report(str(messy)).counts
    assert page.chart.bar_heights() == {s: [float(c[k]) for k in ("happy", "sad")] for s, c in counts.items()}
    kinds = page.warnings.kinds()
    assert kinds["Unreadable files (1 file)"] == 1
    assert kinds["Identical images in more than one split (leakage) (1 group)"] == 1
    assert kinds["Identical images with different labels (1 group)"] == 1
    assert kinds["Near-blank images (1 file)"] == 1
    files = [page.warnings.topLevelItem(i).child(j).text(0)
             for i in range(page.warnings.topLevelItemCount())
             for j in range(page.warnings.topLevelItem(i).childCount())]
    assert any("broken.png" in f for f in files) and any("leak.png" in f for f in files)
    assert page.tabs.tabText(2).startswith("Warnings (")
    assert page.state.settings.recent_datasets[0] == str(messy)


def test_drop_a_folder_and_cancel_the_report(qtbot, page, messy):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(messy))])
    event = QDropEvent(QPoint(5, 5), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    page.picker.dropEvent(event)
    assert page.state.config.data.path == str(messy)
    assert page.report_running()
    page.task_progress.cancel.click()
    assert not page.report_running() or page._task.is_cancelled()
    assert page.task_progress.isHidden()


def test_unreadable_dataset_shows_an_error(qtbot, page, tmp_path):
    page.state.set_data_path(str(tmp_path / "nowhere"))
    qtbot.waitUntil(lambda: not page.report_error.isHidden(), timeout=30_000)
    assert "nowhere" in page.report_error.text()


def test_backbone_preset_and_lr_preview(qtbot, page):
    state = page.state
    assert f"This machine's default ({DEFAULT_REASONS[state.config.model.backbone]})" in page.backbone.info.text()
    i = page.backbone.combo.findData("fer_cnn_tiny")
    page.backbone.combo.setCurrentIndex(i)
    assert state.config.model.backbone == "fer_cnn_tiny"
    qtbot.waitUntil(lambda: "fer_cnn_tiny" in page.backbone.param_counts, timeout=30_000)
    assert "parameters" in page.backbone.info.text() and "default" not in page.backbone.info.text()

    assert set(list_presets()) <= {page.preset_bar.combo.itemText(i) for i in range(page.preset_bar.combo.count())}
    assert page.preset_bar.combo.currentIndex() == -1  # nothing claims to be loaded at start
    page.preset_bar.combo.setCurrentText("fer2013-competition")
    page.preset_bar.combo.activated.emit(page.preset_bar.combo.currentIndex())  # chosen: applied at once
    expected = load_preset("fer2013-competition")
    assert state.config.optim == expected.optim and state.config.eval == expected.eval
    assert state.config.data.path == "demo"  # a preset is a recipe: the chosen data stays

    page.update_lr_preview()
    steps = page.steps_per_epoch()
    assert steps == page.report.train_count // state.config.train.batch_size  # full batches, like the loop
    assert np.allclose(page.lr_preview.values(), preview_lr(state.config, steps))
    state.set_config(state.config.replace(**{"train.time_budget_min": 15.0}))  # issue #25
    page.update_lr_preview()
    assert np.allclose(page.lr_preview.values(), preview_lr(state.config, steps))
    assert len(page.lr_preview.values()) == state.config.train.epochs * steps  # every epoch, the most it may plan
    cap = state.config.train.epochs
    assert page.lr_note.text().startswith("time budget 15 min: the run times its first steps, then lays the "
                                          f"warmup + cosine over the epochs that fit (at most {cap}")

    assert page.save_preset("mine")
    assert "mine" in [page.preset_bar.combo.itemText(i) for i in range(page.preset_bar.combo.count())]
    assert load_preset("mine") == state.config

    state.set_config(state.config.replace(**{"train.devices": "2", "train.device": "cpu"}))
    per_process = -(-page.report.train_count // 2)  # each process visits half of the epoch
    assert page.steps_per_epoch() == per_process // state.config.train.batch_size  # full batches


def test_label_map_setting_rereads_digit_folders(qtbot, page, tmp_path):
    """Digit class folders: refused without data.label_map; setting it re-reads the report,
    which shows the map it used."""
    root = tmp_path / "raf_copy"
    for d in ("1", "4", "7"):
        (root / d).mkdir(parents=True)
        for i in range(4):
            Image.fromarray(np.full((48, 48), 30 * int(d) + i, np.uint8)).save(root / d / f"{i}.png")
    page.state.set_data_path(str(root))
    qtbot.waitUntil(lambda: "need data.label_map" in page.report_error.text(), timeout=60_000)
    assert not page.report_error.isHidden() and page.report is None
    page.state.set_config(page.state.config.replace(**{"data.label_map": "rafdb"}))
    qtbot.waitUntil(lambda: page.report is not None and page.report.path == str(root), timeout=60_000)
    rows = dict(page.summary.rows)
    assert "RAF-DB label 1 -> surprise" in rows["Label map"]
    assert page.chart.class_names == ["happy", "surprise", "neutral"]


def test_warnings_tab_counts_what_it_lists(page):
    """Issue #20, item 9: the tab's numbers are the entries listed, problems and notes apart."""
    warnings = [("Unreadable files", "error", [("a.png", "empty")]),
                ("Identical images in more than one split (leakage)", "warning",
                 [("train/x.png, test/y.png", ""), ("train/z.png, test/w.png", "")]),
                ("Identical images within a split", "info", [(f"t/{i}.png, t/{i}b.png", "") for i in range(3)])]
    page.show_report(dataclasses.replace(page.report, warnings=warnings))
    kinds = page.warnings.kinds()
    assert sum(kinds.values()) == 6
    assert page.tabs.tabText(2) == "Warnings (3 problems, 3 notes)"
    assert "Identical images within a split (3 groups)" in kinds


def test_steps_per_epoch_follow_train_fraction_and_max_per_class(qtbot, page):
    """Issue #20, item 8: the preview counts the images the run will keep, as the loop does."""
    from fer_engine.data import load_dataset
    from fer_engine.training.plan import steps_per_epoch

    cfg = page.state.config.replace(**{"data.train_fraction": 0.3, "data.max_per_class": 20,
                                       "train.batch_size": 8})
    page.state.set_config(cfg)
    page.update_lr_preview()
    n_train = len(load_dataset(cfg.data).splits["train"])
    assert page.steps_per_epoch() == steps_per_epoch(n_train, cfg.train) == n_train // 8
    assert page.steps_per_epoch() < page.report.train_count // 8
    assert f"{n_train // 8} steps/epoch" in page.lr_note.text()


def test_split_fractions_without_effect_are_disabled_with_the_reason(qtbot, page, tmp_path):
    """Kaggle-style folders bring their own val/test split: the fractions are greyed, saying why."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for split, names in (("train", ["a", "b", "c"]), ("test", ["PublicTest_1", "PrivateTest_1", "PrivateTest_2"])):
        for cls in ("happy", "sad"):
            d = tmp_path / "kaggle" / split / cls
            d.mkdir(parents=True)
            for n in names:
                Image.fromarray(rng.integers(0, 255, (48, 48), dtype=np.uint8)).save(d / f"{n}.png")
    form = page.form
    page.state.set_data_path(str(tmp_path / "kaggle"))
    qtbot.waitUntil(lambda: page.report is not None and page.report.path.endswith("kaggle"), timeout=60_000)
    for key in ("data.val_fraction", "data.test_fraction"):
        assert not form.editors[key].widget.isEnabled()
        assert "own" in form.problem_labels[key].text() and form.problem_labels[key].isVisibleTo(form)
    assert form.editors["data.train_fraction"].widget.isEnabled()
    flat = tmp_path / "kaggle" / "train"  # one folder of class folders: split by the fractions
    page.state.set_data_path(str(flat))
    qtbot.waitUntil(lambda: page.report is not None and page.report.path.endswith("train"), timeout=60_000)
    assert form.editors["data.val_fraction"].widget.isEnabled() and form.problem_labels["data.val_fraction"].isHidden()
