"""Grid of face thumbnails (QListView in icon mode over a model; scales to thousands of faces).

Each thumbnail carries a thin stacked bar of the class probabilities (class colours) under
the face, the caption "true -> predicted confidence" and a tooltip with every probability.
Pixmaps are made lazily, only for the items Qt paints, and kept in a bounded cache.
"""
from __future__ import annotations

from collections import OrderedDict

import numpy as np
from PySide6.QtCore import QAbstractListModel, QItemSelectionModel, QModelIndex, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QLabel, QListView, QVBoxLayout, QWidget

from .. import theme
from .analysis_images import FaceSet, to_pixmap

THUMB = 72  # face side in pixels
_BAR = 6  # probability strip height
_CACHE = 3000  # pixmaps kept


def probability_strip(probs: np.ndarray, width: int, height: int) -> QPixmap:
    """A stacked horizontal bar: each class's probability as a segment in its colour."""
    pix = QPixmap(width, height)
    pix.fill(QColor("#dddddd"))
    painter = QPainter(pix)
    x = 0.0
    for k, p in enumerate(probs):
        w = float(p) * width
        painter.fillRect(int(round(x)), 0, max(0, int(round(x + w)) - int(round(x))), height,
                         QColor(theme.series_colour(k)))
        x += w
    painter.end()
    return pix


class GalleryModel(QAbstractListModel):
    """The rows of a FaceSet shown in the gallery, in display order."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.faces: FaceSet | None = None
        self.rows = np.zeros(0, np.int64)
        self._pixmaps: OrderedDict[int, QPixmap] = OrderedDict()

    def set_faces(self, faces: FaceSet | None) -> None:
        self.beginResetModel()
        self.faces = faces
        self.rows = np.zeros(0, np.int64)
        self._pixmaps.clear()
        self.endResetModel()

    def set_rows(self, rows: np.ndarray) -> None:
        self.beginResetModel()
        self.rows = np.asarray(rows, dtype=np.int64)
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 - Qt API
        return 0 if parent.isValid() else len(self.rows)

    def data(self, index: QModelIndex, role: int = Qt.DisplayRole):
        if not index.isValid() or self.faces is None:
            return None
        row = int(self.rows[index.row()])
        if role == Qt.DecorationRole:
            return self._thumbnail(row)
        if role == Qt.DisplayRole:
            return self.faces.caption(row)
        if role == Qt.ToolTipRole:
            return self.faces.probabilities_html(row)
        if role == Qt.UserRole:
            return row
        return None

    def _thumbnail(self, row: int) -> QPixmap:
        pix = self._pixmaps.get(row)
        if pix is not None:
            self._pixmaps.move_to_end(row)
            return pix
        pix = QPixmap(THUMB, THUMB + _BAR + 1)
        pix.fill(Qt.transparent)
        painter = QPainter(pix)
        painter.drawPixmap(0, 0, to_pixmap(self.faces.face(row), THUMB))
        painter.drawPixmap(0, THUMB + 1, probability_strip(self.faces.probs[row], THUMB, _BAR))
        painter.end()
        self._pixmaps[row] = pix
        if len(self._pixmaps) > _CACHE:
            self._pixmaps.popitem(last=False)
        return pix


class FaceGallery(QWidget):
    """A titled thumbnail grid. `show_rows(rows, title)`; emits `faceClicked(row)`."""

    faceClicked = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.title = QLabel("Click a matrix cell, a confused pair or a scatter selection")
        self.title.setWordWrap(True)
        self.model = GalleryModel(self)
        self.view = QListView()
        self.view.setModel(self.model)
        self.view.setViewMode(QListView.IconMode)
        self.view.setIconSize(QSize(THUMB, THUMB + _BAR + 1))
        self.view.setGridSize(QSize(THUMB + 40, THUMB + _BAR + 34))
        self.view.setUniformItemSizes(True)
        self.view.setResizeMode(QListView.Adjust)
        self.view.setMovement(QListView.Static)
        self.view.setLayoutMode(QListView.Batched)
        self.view.setBatchSize(256)
        self.view.setWordWrap(True)
        self.view.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.view.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.view.clicked.connect(self._clicked)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.title)
        lay.addWidget(self.view, 1)

    def set_faces(self, faces: FaceSet | None) -> None:
        self.model.set_faces(faces)

    def _clicked(self, index) -> None:  # a slot must not return a bool (PySide6 6.12 refcount bug)
        self.faceClicked.emit(int(index.data(Qt.UserRole)))

    def show_rows(self, rows: np.ndarray, title: str) -> None:
        """Show these prediction rows in this order (callers sort, e.g. by confidence)."""
        self.model.set_rows(rows)
        self.title.setText(f"{title} \u2014 {len(rows)} face{'s' if len(rows) != 1 else ''}")
        self.view.scrollToTop()

    def rows(self) -> np.ndarray:
        """The prediction rows shown, in display order."""
        return self.model.rows.copy()

    def select_row(self, row: int | None) -> None:
        """Make `row` the gallery's selection when shown (else select nothing): the highlighted
        face is always the inspected one."""
        self.view.clearSelection()
        hits = np.flatnonzero(self.model.rows == row) if row is not None else ()
        if len(hits):
            index = self.model.index(int(hits[0]))
            self.view.selectionModel().select(index, QItemSelectionModel.ClearAndSelect)
            self.view.scrollTo(index)

    def selected_rows(self) -> np.ndarray:
        """Selected rows in display order, or every shown row when nothing is selected."""
        picked = sorted(i.row() for i in self.view.selectionModel().selectedIndexes())
        return self.model.rows[picked] if picked else self.rows()
