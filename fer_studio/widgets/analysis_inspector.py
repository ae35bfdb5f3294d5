"""Image inspector: one face, its true and predicted class, the probabilities, and two
Grad-CAM overlays side by side ("why fear" / "why angry").

The widget only displays: it emits `camsRequested(CamRequest)` when the face, method,
layer or a target class changes, and the page answers with `set_cams(request, maps)`
(maps in [0, 1], computed off the GUI thread). Opacity re-blends the stored maps with
the injected `overlay_fn` (the engine's `overlay`) without recomputing. Dropping an
image file emits `fileDropped(path)`; the page decodes and predicts it like training.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QFormLayout, QGridLayout, QHBoxLayout, QLabel, QSlider,
                               QVBoxLayout, QWidget)

from .. import theme
from .analysis_images import to_pixmap

SIDE = 200  # displayed face / overlay side in pixels
DEFAULT_LAYER = "(backbone default)"
_MARK = "\u25b6 "  # marks the predicted class on the probability axis
_PROMPT = "Click a face in the gallery or the scatter, or drop an image file here"

OverlayFn = Callable[[np.ndarray, np.ndarray, float, str], np.ndarray]  # face, cam, alpha, colormap -> RGB
COLORMAPS = ("jet", "turbo", "inferno", "viridis")  # offered heat-map colours (engine names)


@dataclass(frozen=True)
class CamRequest:
    """What the two overlays should show: computed by the page, matched back on arrival."""
    serial: int
    method: str  # engine key, e.g. "gradcam"
    layer: str | None  # None = the backbone's default target layer
    targets: tuple[int, int]  # class index of the left and right overlay


def default_targets(probs: np.ndarray, true_class: int) -> tuple[int, int]:
    """(predicted, true) when they differ; otherwise (predicted, runner-up)."""
    order = np.argsort(-np.asarray(probs))
    pred = int(order[0])
    if 0 <= true_class != pred:
        return pred, int(true_class)
    return pred, int(order[1]) if len(order) > 1 else pred


class ProbabilityBars(pg.PlotWidget):
    """Horizontal bars of the class probabilities; predicted bar filled dark, true bar outlined."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        theme.style_plot(self)
        self.setMenuEnabled(False)
        self.setMouseEnabled(False, False)
        self.hideButtons()
        self.getViewBox().invertY(True)
        self.setXRange(0, 1, padding=0.02)
        self.setLabel("bottom", "probability")
        self.bars: pg.BarGraphItem | None = None

    def set_probabilities(self, probs: np.ndarray, class_names: Sequence[str], true_class: int) -> None:
        if self.bars is not None:
            self.removeItem(self.bars)
        k = len(probs)
        pred = int(np.argmax(probs))
        brushes = [theme.series_colour(i) for i in range(k)]
        pens = [pg.mkPen(theme.colour("text"), width=2.5) if i == true_class else pg.mkPen(None) for i in range(k)]
        self.bars = pg.BarGraphItem(x0=0, y=np.arange(k), height=0.7, width=np.asarray(probs),
                                    brushes=brushes, pens=pens)
        self.addItem(self.bars)
        labels = [(i, f"{_MARK if i == pred else ''}{n} {probs[i]:.0%}") for i, n in enumerate(class_names)]
        self.getAxis("left").setTicks([labels])
        self.setYRange(-0.5, k - 0.5, padding=0)


class _CamPanel(QWidget):
    """One overlay with its target-class chooser."""

    def __init__(self, title: str, on_change: Callable[[], None]):
        super().__init__()
        self.target = QComboBox()
        self.target.currentIndexChanged.connect(lambda _: on_change())
        self.image = QLabel()
        self.image.setFixedSize(SIDE, SIDE)
        self.image.setAlignment(Qt.AlignCenter)
        self.image.setStyleSheet("background: #202020; color: #bbbbbb")
        row = QHBoxLayout()
        row.addWidget(QLabel(title))
        row.addWidget(self.target, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(row)
        lay.addWidget(self.image)


class ImageInspector(QWidget):
    """`set_choices(class_names, methods, layers)`, then `show_face(face, probs, true_class, title)`."""

    camsRequested = Signal(object)  # CamRequest
    fileDropped = Signal(str)

    def __init__(self, parent: QWidget | None = None, overlay_fn: OverlayFn | None = None):
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.overlay_fn = overlay_fn
        self.class_names: list[str] = []
        self.face: np.ndarray | None = None
        self.probs = np.zeros(0, np.float32)
        self.true_class = -1
        self.request: CamRequest | None = None  # the one whose maps we wait for / show
        self.cams: np.ndarray | None = None  # (2, h, w) maps of `request`
        self.overlays: list[np.ndarray] = []  # the RGB images on screen (exports, tests)
        self._serial = 0
        self._quiet = False

        self.title = QLabel(_PROMPT)
        self.title.setWordWrap(True)
        self.face_label = QLabel()
        self.face_label.setFixedSize(SIDE, SIDE)
        self.face_label.setAlignment(Qt.AlignCenter)
        self.face_label.setStyleSheet("background: #202020")
        self.verdict = QLabel("")
        self.bars = ProbabilityBars()
        self.bars.setMinimumHeight(200)
        self.bars.setMaximumHeight(260)
        self.bars.hide()  # until there is a face
        self.method = QComboBox()
        self.layer = QComboBox()
        self.opacity = QSlider(Qt.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(50)
        self.colormap = QComboBox()
        self.colormap.addItems(list(COLORMAPS))
        self.status = QLabel("")
        self.status.setStyleSheet("color: gray")
        self.method.currentIndexChanged.connect(lambda _: self._request())
        self.layer.currentIndexChanged.connect(lambda _: self._request())
        self.opacity.valueChanged.connect(lambda _: self._blend())
        self.colormap.currentIndexChanged.connect(lambda _: self._blend())
        self.panels = [_CamPanel("why", self._request), _CamPanel("why", self._request)]

        controls = QFormLayout()
        controls.addRow("CAM method", self.method)
        controls.addRow("target layer", self.layer)
        controls.addRow("opacity", self.opacity)
        controls.addRow("colours", self.colormap)
        grid = QGridLayout()
        grid.addWidget(self.face_label, 0, 0)
        grid.addWidget(self.panels[0], 0, 1, Qt.AlignBottom)
        grid.addWidget(self.panels[1], 0, 2, Qt.AlignBottom)
        grid.addWidget(self.verdict, 1, 0)
        grid.addLayout(controls, 1, 1, 1, 2)
        lay = QVBoxLayout(self)
        lay.addWidget(self.title)
        lay.addLayout(grid)
        lay.addWidget(self.status)
        lay.addWidget(self.bars, 1)

    # -- inputs ------------------------------------------------------------------------
    def set_choices(self, class_names: Sequence[str], methods: Sequence[tuple[str, str]],
                    layers: Sequence[str] = ()) -> None:
        """Classes, CAM methods as (key, title) and target layers offered (no methods: no Grad-CAM)."""
        self._quiet = True
        self.class_names = list(class_names)
        for panel in self.panels:
            panel.target.clear()
            panel.target.addItems(self.class_names)
        self.method.clear()
        for key, title in methods:
            self.method.addItem(title, key)
        self.layer.clear()
        self.layer.addItems([DEFAULT_LAYER, *layers])
        self._quiet = False

    def clear(self) -> None:
        """Show nothing: the face, overlays and probabilities belonged to another run or dataset."""
        self._serial += 1  # CAMs still being computed for the old face are dropped on arrival
        self.face, self.probs, self.true_class = None, np.zeros(0, np.float32), -1
        self.request, self.cams, self.overlays = None, None, []
        self.title.setText(_PROMPT)
        self.verdict.setText("")
        self.face_label.clear()
        self.bars.hide()
        for panel in self.panels:
            panel.image.clear()
        self.status.setText("")

    def show_face(self, face: np.ndarray, probs: np.ndarray, true_class: int = -1, title: str = "") -> None:
        """Inspect a face: its probabilities, then overlays for (predicted, true or runner-up)."""
        self.face, self.probs, self.true_class = face, np.asarray(probs, np.float32), int(true_class)
        pred = int(np.argmax(self.probs))
        true_text = self.class_names[true_class] if true_class >= 0 else "unknown"
        self.title.setText(title or "dropped image")
        self.verdict.setText(f"true <b>{true_text}</b><br>predicted <b>{self.class_names[pred]}</b> "
                             f"({self.probs[pred]:.0%})")
        self.face_label.setPixmap(to_pixmap(face, SIDE))
        self.bars.set_probabilities(self.probs, self.class_names, self.true_class)
        self.bars.show()
        self._quiet = True
        for panel, target in zip(self.panels, default_targets(self.probs, self.true_class)):
            panel.target.setCurrentIndex(target)
        self._quiet = False
        self._request()

    def set_cams(self, request: CamRequest, cams: np.ndarray) -> bool:
        """Show the maps computed for `request`; stale answers are ignored (returns False)."""
        if request != self.request:
            return False
        self.cams = np.asarray(cams, np.float32)
        text = (f"{self.method.currentText()} on {request.layer or 'the default layer'}: "
                "red = regions that raise the class score most")
        from fer_engine.eval.cam import FLAT_HINT, is_flat

        flat = [self.class_names[t] for t, cam in zip(request.targets, self.cams) if is_flat(cam)]
        if flat:
            text += f"\nflat map for {', '.join(flat)}: {FLAT_HINT}"
        self.status.setText(text)
        self._blend()
        return True

    def set_unavailable(self, reason: str) -> None:
        """Say why there are no overlays (e.g. an ensemble, a failed computation)."""
        self.cams = None
        self.overlays = []
        for panel in self.panels:
            panel.image.clear()
            panel.image.setText("no overlay")
        self.status.setText(reason)

    # -- internals ------------------------------------------------------------------------
    def _request(self) -> None:
        if self._quiet or self.face is None or self.method.count() == 0:
            return
        self._serial += 1
        self.cams = None
        layer = self.layer.currentText()
        self.request = CamRequest(self._serial, self.method.currentData(),
                                  None if layer in ("", DEFAULT_LAYER) else layer,
                                  (self.panels[0].target.currentIndex(), self.panels[1].target.currentIndex()))
        for panel, t in zip(self.panels, self.request.targets):
            panel.image.setText(f"computing\n{self.method.currentText()} for {self.class_names[t]}\u2026")
        self.status.setText(f"computing {self.method.currentText()}\u2026")
        self.camsRequested.emit(self.request)

    def _blend(self) -> None:
        if self.cams is None or self.face is None or self.overlay_fn is None:
            return
        alpha = self.opacity.value() / 100.0
        colormap = self.colormap.currentText()
        self.overlays = [self.overlay_fn(self.face, cam, alpha, colormap) for cam in self.cams]
        for panel, rgb in zip(self.panels, self.overlays):
            panel.image.setPixmap(to_pixmap(rgb, SIDE))

    def dragEnterEvent(self, event):  # noqa: N802 - Qt override
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event):  # noqa: N802 - Qt override
        files = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if files:
            event.acceptProposedAction()
            self.fileDropped.emit(files[0])
