"""Sample faces per class: one row of thumbnails per class, from uint8 arrays."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QGridLayout, QLabel, QScrollArea, QWidget

THUMB = 64


def to_pixmap(face: np.ndarray, size: int = THUMB) -> QPixmap:
    """(H, W, 1|3) or (H, W) uint8 -> a scaled pixmap."""
    a = np.ascontiguousarray(face if face.ndim == 2 or face.shape[2] == 3 else face[..., 0])
    h, w = a.shape[:2]
    fmt = QImage.Format_Grayscale8 if a.ndim == 2 else QImage.Format_RGB888
    image = QImage(a.data, w, h, a.strides[0], fmt).copy()
    return QPixmap.fromImage(image).scaled(size, size, Qt.KeepAspectRatio, Qt.SmoothTransformation)


class SampleFaces(QScrollArea):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.inner = QWidget()
        self.grid = QGridLayout(self.inner)
        self.grid.setAlignment(Qt.AlignLeft | Qt.AlignTop)
        self.setWidget(self.inner)
        self.count = 0

    def set_samples(self, samples: dict[str, list[tuple[np.ndarray, str]]]) -> None:
        """samples: class name -> [(face array, source path)]."""
        while self.grid.count():
            w = self.grid.takeAt(0).widget()
            if w is not None:
                w.deleteLater()
        self.count = 0
        for row, (name, faces) in enumerate(samples.items()):
            self.grid.addWidget(QLabel(f"<b>{name}</b>"), row, 0)
            for col, (face, source) in enumerate(faces, start=1):
                label = QLabel()
                label.setPixmap(to_pixmap(face))
                label.setToolTip(source)
                self.grid.addWidget(label, row, col)
                self.count += 1
