"""uint8 face arrays -> Qt images for the analysis widgets (thumbnails, inspector, overlays)."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap


def to_qimage(face: np.ndarray) -> QImage:
    """(H, W), (H, W, 1) or (H, W, 3) uint8 -> a QImage that owns a copy of the pixels."""
    a = np.ascontiguousarray(face)
    if a.dtype != np.uint8:
        raise ValueError(f"faces must be uint8, got {a.dtype}")
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim == 2:
        a = np.ascontiguousarray(a)
        img = QImage(a.data, a.shape[1], a.shape[0], a.strides[0], QImage.Format_Grayscale8)
    elif a.ndim == 3 and a.shape[2] == 3:
        img = QImage(a.data, a.shape[1], a.shape[0], a.strides[0], QImage.Format_RGB888)
    else:
        raise ValueError(f"a face must be (H, W), (H, W, 1) or (H, W, 3), got {a.shape}")
    return img.copy()  # detach from the numpy buffer


def to_pixmap(face: np.ndarray, size: int | None = None, smooth: bool = True) -> QPixmap:
    """A face as a pixmap, scaled to `size` pixels on its longer side (kept square for faces)."""
    pix = QPixmap.fromImage(to_qimage(face))
    if size:
        mode = Qt.SmoothTransformation if smooth else Qt.FastTransformation
        pix = pix.scaled(size, size, Qt.KeepAspectRatio, mode)
    return pix


class FaceSet:
    """The faces of one analysed split and what the model said about each (row = prediction row).

    Built by the analysis page from the engine's arrays; the gallery, scatter hover and
    inspector only read it. `images[image_index[row]]` is the face of prediction `row`.
    """

    def __init__(self, images: np.ndarray, image_index: np.ndarray, y_true: np.ndarray,
                 y_pred: np.ndarray, probs: np.ndarray, class_names: list[str]):
        self.images = images
        self.image_index = np.asarray(image_index, dtype=np.int64)
        self.y_true = np.asarray(y_true, dtype=np.int64)
        self.y_pred = np.asarray(y_pred, dtype=np.int64)
        self.probs = np.asarray(probs, dtype=np.float32)
        self.class_names = [str(c) for c in class_names]

    def __len__(self) -> int:
        return len(self.y_true)

    def face(self, row: int) -> np.ndarray:
        return self.images[self.image_index[row]]

    def true_name(self, row: int) -> str:
        t = int(self.y_true[row])
        return self.class_names[t] if t >= 0 else "(class unknown to the model)"

    def pred_name(self, row: int) -> str:
        return self.class_names[int(self.y_pred[row])]

    def confidence(self, row: int) -> float:
        return float(self.probs[row, self.y_pred[row]])

    def caption(self, row: int) -> str:
        """Short label: "fear -> angry 87%"."""
        return f"{self.true_name(row)} \u2192 {self.pred_name(row)} {self.confidence(row):.0%}"

    def probabilities_html(self, row: int) -> str:
        """Every class probability, largest first, as a small HTML table (tooltips)."""
        order = np.argsort(-self.probs[row])
        lines = "".join(
            f"<tr><td>{self.class_names[k]}</td><td align='right'>{self.probs[row, k]:.1%}</td></tr>"
            for k in order)
        return (f"<b>#{int(self.image_index[row])}</b> true <b>{self.true_name(row)}</b>, "
                f"predicted <b>{self.pred_name(row)}</b><table>{lines}</table>")
