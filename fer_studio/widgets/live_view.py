"""The live video view: paints the latest annotated frame scaled to fit, aspect kept."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget


def bgr_to_qimage(image: np.ndarray) -> QImage:
    """A deep-copied QImage of a BGR uint8 (H, W, 3) array."""
    image = np.ascontiguousarray(image)
    h, w = image.shape[:2]
    return QImage(image.data, w, h, image.strides[0], QImage.Format.Format_BGR888).copy()


class LiveView(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.image: QImage | None = None
        self.placeholder = "Choose a run and a source, then Start."
        self.frames_shown = 0
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 200)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(800, 450)

    def show_frame(self, bgr: np.ndarray) -> None:
        self.image = bgr_to_qimage(bgr)
        self.frames_shown += 1
        self.update()

    def clear(self, placeholder: str | None = None) -> None:
        self.image = None
        if placeholder is not None:
            self.placeholder = placeholder
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt's name
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(24, 24, 28))
        if self.image is None:
            p.setPen(QColor(170, 170, 170))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.placeholder)
            return
        iw, ih = self.image.width(), self.image.height()
        scale = min(self.width() / iw, self.height() / ih)
        w, h = iw * scale, ih * scale
        target = QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        p.drawImage(target, self.image)
