"""Feature scatter: 2-D PCA / t-SNE points coloured by true class, mistakes marked with a cross.

Clicking a legend entry toggles that class. Hovering a point shows its face and prediction;
clicking it emits `pointClicked(row)`. In rectangle or lasso mode a drag selects the
visible points inside and emits `selectionMade(rows)`. The page computes the embedding
(engine `fer_engine.eval.embed`) and hands the points over; `methodRequested` asks for
another method.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QComboBox, QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from .. import theme
from .analysis_images import FaceSet, to_pixmap
from .empty_state import EmptyState

#: combo label -> embedding method key of fer_engine.eval.embed.EMBEDDINGS
METHODS = {"PCA": "pca", "t-SNE": "tsne"}
#: combo label -> drag mode of the plot
MODES = {"Pan / zoom": "pan", "Rectangle select": "rect", "Lasso select": "lasso"}


def points_in_polygon(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """(N,) bool: which (N, 2) points lie inside the closed polygon (M, 2) (even-odd rule)."""
    x, y = points[:, 0], points[:, 1]
    inside = np.zeros(len(points), dtype=bool)
    px, py = polygon[:, 0], polygon[:, 1]
    for i in range(len(polygon)):
        x1, y1, x2, y2 = px[i - 1], py[i - 1], px[i], py[i]
        crosses = (y1 > y) != (y2 > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            x_at = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
        inside ^= crosses & (x < x_at)
    return inside


class _SelectViewBox(pg.ViewBox):
    """A ViewBox whose left drag draws a rectangle or lasso instead of panning (mode != "pan")."""

    def __init__(self, on_polygon, **kwargs):
        super().__init__(**kwargs)
        self.mode = "pan"
        self._on_polygon = on_polygon
        self._path: list[tuple[float, float]] = []
        self.outline = pg.PlotCurveItem(pen=pg.mkPen("#303030", width=1.5, style=Qt.DashLine))
        self.addItem(self.outline, ignoreBounds=True)

    def mouseDragEvent(self, ev, axis=None):  # noqa: N802 - Qt override
        if self.mode == "pan" or ev.button() != Qt.LeftButton:
            return super().mouseDragEvent(ev, axis)
        ev.accept()
        p = self.mapSceneToView(ev.scenePos())
        if ev.isStart():
            start = self.mapSceneToView(ev.buttonDownScenePos())
            self._path = [(start.x(), start.y())]
        self._path.append((p.x(), p.y()))
        poly = self._polygon()
        closed = np.vstack([poly, poly[:1]])
        self.outline.setData(closed[:, 0], closed[:, 1])
        if ev.isFinish():
            self.outline.setData([], [])
            self._on_polygon(poly)

    def _polygon(self) -> np.ndarray:
        path = np.asarray(self._path, dtype=np.float64)
        if self.mode == "rect":
            (x0, y0), (x1, y1) = path[0], path[-1]
            return np.array([(x0, y0), (x1, y0), (x1, y1), (x0, y1)])
        return path


class _HoverCard(QFrame):
    """The floating face thumbnail + prediction shown while hovering a point."""

    def __init__(self, parent: QWidget):
        super().__init__(parent)
        self.setStyleSheet("_HoverCard { background: #fdfdfd; border: 1px solid #888; }"
                           "QLabel { color: #111; }")
        self.image = QLabel()
        self.text = QLabel()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.image, 0, Qt.AlignHCenter)
        lay.addWidget(self.text)
        self.hide()

    def show_face(self, faces: FaceSet, row: int) -> None:
        self.image.setPixmap(to_pixmap(faces.face(row), 96))
        self.text.setText(f"true <b>{faces.true_name(row)}</b><br>predicted "
                          f"<b>{faces.pred_name(row)}</b> ({faces.confidence(row):.0%})")
        self.adjustSize()


class FeatureScatter(QWidget):
    """`set_faces(faces)`, then `set_embedding(points, axis_labels, note)`."""

    pointClicked = Signal(int)  # prediction row
    selectionMade = Signal(object)  # np.ndarray of prediction rows
    methodRequested = Signal(str)  # "pca" | "tsne"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.method = QComboBox()
        self.method.addItems(list(METHODS))
        self.method.setToolTip("PCA is exact and instant; t-SNE shows local neighbourhoods "
                               "(computed in the background)")
        self.method.currentTextChanged.connect(self._method_changed)
        self.mode = QComboBox()
        self.mode.addItems(list(MODES))
        self.mode.setToolTip("Drag in select mode to open the points inside in the gallery")
        self.mode.currentTextChanged.connect(lambda t: setattr(self.viewbox, "mode", MODES[t]))
        self.note = QLabel("")
        self.note.setStyleSheet("color: gray")
        self.viewbox = _SelectViewBox(self.select_polygon)
        self.plot = pg.PlotWidget(viewBox=self.viewbox)
        theme.style_plot(self.plot)
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        self.legend = self.plot.addLegend(offset=(-6, 6), labelTextSize="9pt")
        self.preview = _HoverCard(self.plot)
        self.marker = pg.ScatterPlotItem(size=18, symbol="o", pen=pg.mkPen("#000000", width=2),
                                         brush=None)
        self.marker.setZValue(10)
        self.faces: FaceSet | None = None
        self.points = np.zeros((0, 2), np.float32)
        self.items: dict[int, pg.ScatterPlotItem] = {}  # true class -> its points
        self.empty = EmptyState(self.plot, "Open a run: its faces' features show here as points")
        top = QHBoxLayout()
        top.addWidget(QLabel("Embedding"))
        top.addWidget(self.method)
        top.addWidget(self.mode)
        top.addWidget(self.note, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(top)
        lay.addWidget(self.plot, 1)

    def set_faces(self, faces: FaceSet | None) -> None:
        self.faces = faces
        self.points = np.zeros((0, 2), np.float32)
        self._rebuild()

    def set_embedding(self, points: np.ndarray, axis_labels: tuple[str, str], note: str = "") -> None:
        """Plot (N, 2) points, one per prediction row of the face set."""
        self.points = np.asarray(points, dtype=np.float32)
        self.plot.setLabel("bottom", axis_labels[0])
        self.plot.setLabel("left", axis_labels[1])
        self.note.setText(note)
        self._rebuild()
        self.plot.autoRange()

    def show_embedding(self, embedding) -> None:
        """Plot an `eval.embed.Embedding`, naming its method in the picker and what it keeps."""
        self.show_method(embedding.method)
        if embedding.explained_variance_ratio is not None:
            note = (f"PCA shows {float(np.sum(embedding.explained_variance_ratio)):.1%} of the "
                    "feature variance; \u00d7 = mistake")
        else:
            note = "t-SNE keeps neighbourhoods, not distances; \u00d7 = mistake"
        self.set_embedding(embedding.points, embedding.axis_labels, note)

    def show_method(self, method: str) -> None:
        """Set the method chooser (e.g. back after a cancelled t-SNE) without asking again."""
        self.method.blockSignals(True)
        self.method.setCurrentText(next(label for label, key in METHODS.items() if key == method))
        self.method.blockSignals(False)

    def set_class_visible(self, true_class: int, visible: bool) -> None:
        self.items[true_class].setVisible(visible)

    def select_row(self, row: int) -> None:
        """Mark one point (as a click does) and emit `pointClicked`."""
        x, y = self.points[row]
        self.marker.setData([x], [y])
        self.pointClicked.emit(int(row))

    def select_polygon(self, polygon: np.ndarray) -> np.ndarray:
        """Rows of the visible points inside the polygon (data coordinates); emits `selectionMade`."""
        if len(self.points) == 0 or len(polygon) < 3:
            return np.zeros(0, np.int64)
        visible = np.zeros(len(self.points), dtype=bool)
        for k, item in self.items.items():
            if item.isVisible():
                visible |= self.faces.y_true == k
        rows = np.flatnonzero(visible & points_in_polygon(self.points, np.asarray(polygon)))
        self.selectionMade.emit(rows)
        return rows

    def scene_pos_of(self, row: int):
        """Scene position of a point (tests and tours)."""
        x, y = self.points[row]
        return self.viewbox.mapViewToScene(pg.Point(float(x), float(y)))

    # -- drawing ---------------------------------------------------------------------------
    def _rebuild(self) -> None:
        for item in self.items.values():
            self.plot.removeItem(item)
            self.legend.removeItem(item)
        self.items = {}
        if self.marker.scene() is not None:
            self.plot.removeItem(self.marker)
        self.marker.clear()
        self.empty.set_empty(self.faces is None or len(self.points) != len(self.faces))
        if self.faces is None or len(self.points) != len(self.faces):
            return
        names = self.faces.class_names
        wrong = self.faces.y_true != self.faces.y_pred
        for k in sorted(set(self.faces.y_true.tolist())):
            rows = np.flatnonzero(self.faces.y_true == k)
            colour = QColor(theme.series_colour(k) if k >= 0 else "#999999")
            fill = QColor(colour)
            fill.setAlpha(170)
            miss = wrong[rows]
            item = pg.ScatterPlotItem(
                x=self.points[rows, 0], y=self.points[rows, 1], data=rows,
                symbol=np.where(miss, "x", "o").tolist(),
                size=np.where(miss, 9, 6),
                pen=[pg.mkPen("#202020", width=0.8) if m else pg.mkPen(None) for m in miss],
                brush=pg.mkBrush(fill), hoverable=True, tip=None,
                name=f"{names[k] if k >= 0 else 'unknown'} ({int(miss.sum())} of {len(rows)} wrong)")
            item.sigClicked.connect(self._clicked)
            item.sigHovered.connect(self._hovered)
            self.plot.addItem(item)
            self.items[k] = item
        self.plot.addItem(self.marker)

    def _method_changed(self, label: str) -> None:  # no bool return: PySide6 6.12 refcount bug
        self.methodRequested.emit(METHODS[label])

    def _clicked(self, item, points, ev) -> None:
        if len(points):
            self.select_row(int(points[0].data()))

    def _hovered(self, item, points, ev) -> None:
        if not len(points) or self.faces is None:
            self.preview.hide()
            return
        row = int(points[0].data())
        self.preview.show_face(self.faces, row)
        pos = self.plot.mapFromScene(ev.scenePos())
        self.preview.move(pos + QPoint(14, 14))
        self.preview.raise_()
        self.preview.show()
