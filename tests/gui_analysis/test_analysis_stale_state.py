"""What the analysis page shows belongs to the run, dataset and face it names (issue #20, items 1-3)."""
from __future__ import annotations

import json

import numpy as np

WAIT_MS = 60_000


def _wait_overlays(qtbot, page):
    qtbot.waitUntil(lambda: page.inspector.cams is not None and len(page.inspector.overlays) == 2,
                    timeout=WAIT_MS)


def _open(qtbot, page, run_dir, **kw):
    page.open_run(str(run_dir), **kw)
    qtbot.waitUntil(lambda: page.run_dir == str(run_dir) and not page.tasks.is_running("open"),
                    timeout=WAIT_MS)


def test_opening_another_run_clears_the_inspector(qtbot, page, tmp_path):
    page.inspect_row(5)
    _wait_overlays(qtbot, page)
    old_request = page.inspector.request
    (tmp_path / "run-2").mkdir()
    (tmp_path / "run-2" / "meta.json").write_text(json.dumps({"display_name": "second run"}))
    _open(qtbot, page, tmp_path / "run-2")
    ins = page.inspector
    assert ins.face is None and ins.cams is None and ins.overlays == []
    assert ins.bars.isHidden() and ins.verdict.text() == ""
    assert ins.face_label.pixmap().isNull()
    assert all(p.image.pixmap().isNull() for p in ins.panels)
    # a CAM of run-1's face arriving late is dropped
    assert not ins.set_cams(old_request, np.zeros((2, 4, 4), np.float32))
    # the headline names the new run by its name, the data and the checkpoint
    text = page.summary.text()
    assert "second run [run-2]" in text and "data synthetic" in text and "best.pt" in text


def test_headline_puts_chance_and_majority_beside_the_accuracy(qtbot, page):
    s = page.analysis.summary()
    assert s["baselines"]["chance"] == 0.25  # four classes present
    assert s["baselines"]["majority"] == 0.25  # balanced fake split
    text = page.summary.text()
    low, high = s["accuracy_ci95"]
    assert (f"accuracy {s['accuracy']:.1%} [95% CI {100 * low:.1f}\u2013{100 * high:.1f}] "
            "(chance 25.0%, always angry 25.0%)") in text


def test_metric_exports_name_the_run_data_and_checkpoint(qtbot, page, tmp_path):
    page.export("metrics", str(tmp_path / "m.csv"))
    rows = dict(line.split(",", 1) for line in (tmp_path / "m.csv").read_text().splitlines() if "," in line)
    assert rows["run_id"] == "run-1" and rows["data"] == "synthetic" and rows["checkpoint"].startswith("best.pt")
    assert rows["chance_accuracy"] == "0.250000"
    page.export("metrics", str(tmp_path / "m.json"))
    meta = json.loads((tmp_path / "m.json").read_text())
    assert meta["run_name"] == "run-1" and meta["baselines"]["majority_class"] == "angry"


def test_a_scatter_click_moves_the_gallery_highlight_and_exports_that_face(qtbot, page, tmp_path):
    page.show_cell(0, 0)
    gallery_rows = page.gallery.rows()
    assert len(gallery_rows) >= 2
    page.gallery.view.selectionModel().select(page.gallery.model.index(0),
                                              page.gallery.view.selectionModel().SelectionFlag.ClearAndSelect)
    inside = int(gallery_rows[1])
    page.scatter.select_row(inside)  # a scatter click on a face the gallery shows
    assert page.gallery.selected_rows().tolist() == [inside]
    page.export("overlays", str(tmp_path / "gallery"))
    qtbot.waitUntil(lambda: not page.tasks.is_running("export"), timeout=WAIT_MS)
    assert [int(p.name[:5]) for p in (tmp_path / "gallery").glob("*.png")] == [inside]

    outside = int(np.setdiff1d(np.arange(len(page.faces)), gallery_rows)[0])
    page.scatter.select_row(outside)
    assert page.gallery.view.selectionModel().selectedIndexes() == []  # nothing else stays highlighted
    assert np.array_equal(page.inspector.face, page.analysis.images[outside])
    page.export("inspected", str(tmp_path / "inspected"))
    qtbot.waitUntil(lambda: not page.tasks.is_running("export"), timeout=WAIT_MS)
    written = [p.name for p in (tmp_path / "inspected").glob("*.png")]
    assert len(written) == 1 and int(written[0][:5]) == outside


def test_scatter_picker_names_the_method_plotted_after_reopening(qtbot, page, tmp_path):
    page.scatter.method.setCurrentText("t-SNE")
    qtbot.waitUntil(lambda: page.embedding is not None and page.embedding.method == "tsne", timeout=WAIT_MS)
    _open(qtbot, page, tmp_path / "run-1", data_path=str(tmp_path / "other-data"))
    assert page.embedding.method == "pca"
    assert page.scatter.method.currentText() == "PCA"
