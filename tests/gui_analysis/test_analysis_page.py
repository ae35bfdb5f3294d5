"""pytest-qt checks of the analysis page on a fake run: clicks open the right faces,
the inspector explains the face it was given, background jobs cancel."""
from __future__ import annotations

import threading

import numpy as np
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

CLASSES = ["angry", "fear", "happy", "sad"]  # the fake run's classes (conftest)
WAIT_MS = 60_000  # background jobs share two busy cores with the rest of the suite


def _expected_cell(page, t, p):
    pr = page.analysis.predictions
    rows = np.flatnonzero((pr.y_true == t) & (pr.y_pred == p))
    return rows[np.argsort(-pr.confidence[rows], kind="stable")]


def _click_scene(qtbot, plot_widget, scene_pos):
    view_pos = plot_widget.mapFromScene(scene_pos)
    qtbot.mouseClick(plot_widget.viewport(), Qt.LeftButton, pos=view_pos)


def _wait_overlays(qtbot, page):
    qtbot.waitUntil(lambda: page.inspector.cams is not None and len(page.inspector.overlays) == 2,
                    timeout=WAIT_MS)


def test_matrix_shows_counts_and_clicking_a_cell_fills_the_gallery(qtbot, page):
    pr = page.analysis.predictions
    t, p = page.analysis.most_confused()[0][:2]
    t, p = CLASSES.index(t), CLASSES.index(p)
    counts = np.zeros((4, 4))
    np.add.at(counts, (pr.y_true, pr.y_pred), 1)
    assert np.array_equal(page.matrix.shown_values(), counts)
    page.matrix.normalized.setChecked(True)
    assert np.allclose(page.matrix.shown_values().sum(1), 1.0)

    _click_scene(qtbot, page.matrix.plot, page.matrix.cell_center(t, p))
    shown = page.gallery.rows()
    assert len(shown) == counts[t, p] > 0
    assert np.array_equal(shown, _expected_cell(page, t, p))
    conf = pr.confidence[shown]
    assert np.all(np.diff(conf) <= 0)  # most confident first
    tooltip = page.gallery.model.index(0).data(Qt.ToolTipRole)
    assert f"{pr.probs[shown[0]].max():.1%}" in tooltip


def test_clicking_a_confused_pair_opens_its_gallery(qtbot, page):
    item = page.pairs.item(1)
    t, p = item.data(Qt.UserRole)
    assert item.text().startswith(f"{CLASSES[t].capitalize()} predicted as {CLASSES[p].capitalize()}")
    qtbot.mouseClick(page.pairs.viewport(), Qt.LeftButton, pos=page.pairs.visualItemRect(item).center())
    assert np.array_equal(page.gallery.rows(), _expected_cell(page, t, p))
    assert f"{CLASSES[t].capitalize()} predicted as {CLASSES[p].capitalize()}" in page.gallery.title.text()


def test_gallery_click_opens_the_inspector(qtbot, page):
    page.show_cell(1, 1)
    row = int(page.gallery.rows()[2])
    idx = page.gallery.model.index(2)
    qtbot.mouseClick(page.gallery.view.viewport(), Qt.LeftButton,
                     pos=page.gallery.view.visualRect(idx).center())
    assert page.inspector.face is page.analysis.images[row] or \
        np.array_equal(page.inspector.face, page.analysis.images[row])


def test_selecting_a_scatter_point_opens_the_inspector_with_that_image(qtbot, page):
    page.tabs.setCurrentWidget(page.scatter)
    qtbot.wait(50)
    row = int(np.flatnonzero(page.analysis.predictions.y_true != page.analysis.predictions.y_pred)[0])
    page.scatter.plot.autoRange()
    qtbot.wait(50)
    _click_scene(qtbot, page.scatter.plot, page.scatter.scene_pos_of(row))
    assert np.array_equal(page.inspector.face, page.analysis.images[row])
    assert page.inspector.true_class == page.analysis.predictions.y_true[row]
    pred = int(page.analysis.predictions.y_pred[row])
    assert tuple(p.target.currentIndex() for p in page.inspector.panels) == (
        pred, int(page.analysis.predictions.y_true[row]))  # why predicted, why true
    _wait_overlays(qtbot, page)


def test_rectangle_selection_opens_the_points_inside(qtbot, page):
    pts = page.scatter.points
    x0, x1 = np.percentile(pts[:, 0], [20, 70])
    y0, y1 = np.percentile(pts[:, 1], [20, 70])
    page.scatter.set_class_visible(3, False)  # legend toggle: hidden classes are not selected
    page.scatter.select_polygon(np.array([(x0, y0), (x1, y0), (x1, y1), (x0, y1)]))
    inside = (pts[:, 0] > x0) & (pts[:, 0] < x1) & (pts[:, 1] > y0) & (pts[:, 1] < y1)
    expected = set(np.flatnonzero(inside & (page.analysis.predictions.y_true != 3)).tolist())
    assert set(page.gallery.rows().tolist()) == expected and expected


def test_switching_the_cam_method_changes_the_overlay(qtbot, page):
    page.inspect_row(5)
    _wait_overlays(qtbot, page)
    before = [o.copy() for o in page.inspector.overlays]
    page.inspector.method.setCurrentText("Eigen-CAM")
    _wait_overlays(qtbot, page)
    assert page.inspector.request.method == "eigencam"
    assert not np.array_equal(before[0], page.inspector.overlays[0])
    # opacity re-blends the same maps without recomputing
    calls = len(page.model.calls)
    page.inspector.opacity.setValue(90)
    assert len(page.model.calls) == calls
    assert not np.array_equal(before[0], page.inspector.overlays[0])


def test_dropping_an_image_file_on_the_inspector_predicts_it(qtbot, page, tmp_path):
    from PIL import Image

    path = tmp_path / "face.png"
    Image.fromarray(np.full((40, 30), 201, np.uint8)).save(path)  # mean 201 -> class 201 % 4 = 1
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    drop = QDropEvent(QPointF(20, 20), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    page.inspector.dropEvent(drop)
    qtbot.waitUntil(lambda: page.inspector.title.text() == "face.png", timeout=WAIT_MS)
    assert page.inspector.face.shape == (16, 16, 1)  # decoded like the run's training data
    assert int(np.argmax(page.inspector.probs)) == 1
    assert page.inspector.true_class == -1
    _wait_overlays(qtbot, page)


def test_cancel_stops_a_background_open(qtbot, page, tmp_path):
    started, stopped = threading.Event(), threading.Event()

    def slow_open(run_dir, split, data, tta, progress, should_stop):
        started.set()
        while not should_stop():
            progress(0.5, "predicting")
            threading.Event().wait(0.01)
        stopped.set()
        raise RuntimeError("cancelled")

    old = page.analysis
    page.opener = slow_open
    page.open_run(str(tmp_path / "run-2"), split="val")
    assert started.wait(60)
    assert page.tasks.cancel_button.isEnabled()
    qtbot.mouseClick(page.tasks.cancel_button, Qt.LeftButton)
    assert stopped.wait(60)
    qtbot.waitUntil(lambda: not page.tasks.is_running(), timeout=WAIT_MS)
    qtbot.wait(50)
    assert page.analysis is old  # the cancelled result never replaced the open analysis
    assert "cancelled" in page.tasks.label.text()
    assert "accuracy" in page.summary.text()  # the open analysis's headline is back


def test_a_failed_open_says_why_and_keeps_its_traceback(qtbot, page, tmp_path):
    def broken_open(run_dir, split, data, tta, progress, should_stop):
        raise ValueError("checkpoint <best.pt> is truncated")

    old = page.analysis
    page.opener = broken_open
    page.open_run(str(tmp_path / "run-2"), split="val")
    qtbot.waitUntil(lambda: "truncated" in page.summary.text(), timeout=WAIT_MS)
    assert "&lt;best.pt&gt;" in page.summary.text()  # shown as text, not parsed as markup
    assert "broken_open" in page.summary.toolTip()  # the traceback, for a bug report
    assert page.analysis is old


def test_metrics_table_sorts_and_exports(qtbot, page, tmp_path):
    table = page.metrics
    f1_col = 3
    table.sortByColumn(f1_col, Qt.DescendingOrder)
    values = table.column_values(f1_col)
    assert values == sorted(values, reverse=True) and len(values) == len(CLASSES)
    page.export("metrics", str(tmp_path / "m.csv"))
    text = (tmp_path / "m.csv").read_text()
    assert text.splitlines()[0] == "class,precision,recall,f1,support"


def test_subset_dataset_shows_only_present_rows(qtbot, page, tmp_path, make_analysis):
    full = make_analysis(tmp_path)
    keep = full.predictions.y_true != 2  # a dataset without "happy"
    from fer_engine.eval.analysis import Analysis

    sub = Analysis(run_dir=tmp_path, predictions=full.predictions.subset(keep), images=full.images[keep],
                   sources=[s for s, k in zip(full.sources, keep) if k], data_path="other")
    page.opener = lambda *a: sub
    page.open_run(str(tmp_path / "run-3"))
    qtbot.waitUntil(lambda: page.analysis is sub, timeout=WAIT_MS)
    assert page.matrix.shown_values().shape == (3, 4)  # rows present, columns all model classes
    assert page.metrics.proxy.rowCount() == 3


def _drag(qtbot, widget, points):
    """Left-button drag through `points` (widget coordinates) with real mouse events."""
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    def send(kind, p, buttons):
        ev = QMouseEvent(kind, QPointF(p), QPointF(widget.mapToGlobal(p)), Qt.LeftButton, buttons,
                         Qt.NoModifier)
        QApplication.sendEvent(widget, ev)

    send(QEvent.MouseButtonPress, points[0], Qt.LeftButton)
    for p in points[1:]:
        qtbot.wait(20)  # pyqtgraph drops moves closer than 1/mouseRateLimit (10 ms) to the last one
        send(QEvent.MouseMove, p, Qt.LeftButton)
    send(QEvent.MouseButtonRelease, points[-1], Qt.NoButton)


def test_lasso_drag_on_the_scatter_selects_the_points_inside(qtbot, page):
    page.tabs.setCurrentWidget(page.scatter)
    page.scatter.mode.setCurrentText("Lasso select")
    qtbot.wait(50)
    plot = page.scatter.plot
    # a triangle lasso around the middle of the view, in widget pixels
    r = plot.viewport().rect()
    cx, cy, s = r.center().x(), r.center().y(), min(r.width(), r.height()) // 3
    lasso = [QPoint(cx - s, cy + s), QPoint(cx, cy - s), QPoint(cx + s, cy + s), QPoint(cx - s, cy + s)]
    with qtbot.waitSignal(page.scatter.selectionMade, timeout=2000) as sig:
        _drag(qtbot, plot.viewport(), lasso)
    vb = page.scatter.viewbox
    poly = np.array([(q.x(), q.y()) for q in (vb.mapSceneToView(plot.mapToScene(p)) for p in lasso)])
    from fer_studio.widgets.analysis_scatter import points_in_polygon

    expected = np.flatnonzero(points_in_polygon(page.scatter.points, poly))
    assert len(expected) and set(sig.args[0].tolist()) == set(expected.tolist())
    assert set(page.gallery.rows().tolist()) == set(expected.tolist())


def test_points_in_polygon_handles_concave_lassos():
    from fer_studio.widgets.analysis_scatter import points_in_polygon

    # a "U": the notch (2, 3) is outside, the arms are inside
    u = np.array([(0, 0), (4, 0), (4, 4), (3, 4), (3, 1), (1, 1), (1, 4), (0, 4)], float)
    pts = np.array([(0.5, 3), (3.5, 3), (2, 3), (2, 0.5), (5, 1)], float)
    assert points_in_polygon(pts, u).tolist() == [True, True, False, True, False]


def test_a_run_chosen_in_the_runs_list_opens_when_the_page_is_shown(qtbot, page, tmp_path):
    page.hide()
    page.state.select_run(str(tmp_path / "run-9"))
    assert not page.tasks.is_running("open")  # hidden: nothing is computed yet
    page.show()
    qtbot.waitUntil(lambda: page.run_dir == str(tmp_path / "run-9"), timeout=WAIT_MS)
    assert page.analysis.run_dir == tmp_path / "run-9"


def test_tsne_runs_in_the_background_and_cancel_keeps_the_pca_view(qtbot, page):
    pca = page.embedding
    release = threading.Event()
    original = page.analysis.embedding

    def slow_tsne(method, progress=None, should_stop=None):
        if method == "tsne":
            while not should_stop():
                release.wait(0.01)
            raise RuntimeError("stopped")
        return original(method, progress, should_stop)

    page.analysis.embedding = slow_tsne
    page.scatter.method.setCurrentText("t-SNE")
    qtbot.waitUntil(lambda: page.tasks.is_running("embed"), timeout=WAIT_MS)
    qtbot.mouseClick(page.tasks.cancel_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: page.scatter.method.currentText() == "PCA", timeout=WAIT_MS)
    assert page.embedding is pca


def test_exports_matrix_figure_and_overlays_of_the_gallery_selection(qtbot, page, tmp_path):
    page.export("matrix", str(tmp_path / "cm.svg"))
    assert (tmp_path / "cm.svg").read_text().lstrip().startswith("<?xml")
    page.show_cell(0, 1)
    rows = page.gallery.rows()
    page.export("overlays", str(tmp_path / "overlays"))
    qtbot.waitUntil(lambda: not page.tasks.is_running("export"), timeout=WAIT_MS)
    written = sorted(p.name for p in (tmp_path / "overlays").glob("*.png"))
    assert len(written) == len(rows) > 0
    assert all("_true-angry_pred-fear" in name for name in written)
