"""Live settings: detector, minimum face size, detection interval, smoothing, Grad-CAM."""
from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout,
                               QLineEdit, QPushButton, QSpinBox, QWidget)

from .live_source_picker import hrow
from .live_worker import LiveSettings

SMOOTHING_TITLES = {"ema": "Moving average (EMA)", "window": "Window mean", "none": "Off"}
DETECTOR_TITLES = {"haar": "Haar cascade (OpenCV)", "yunet": "YuNet (DNN, model file)"}


def _cam_methods() -> list[tuple[str, str]]:
    """(key, title) of the CAM methods fast enough for a stream (Score-CAM is not)."""
    from fer_engine.eval.cam import CAM_METHODS

    return [(name, m.title) for name, m in CAM_METHODS.items() if not m.slow]


class LiveSettingsPanel(QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        d = LiveSettings()
        self.detector = QComboBox()
        for key, title in DETECTOR_TITLES.items():
            self.detector.addItem(title, key)
        self.yunet_model = QLineEdit(placeholderText="face_detection_yunet_2023mar.onnx")
        browse = QPushButton("…")
        browse.setToolTip("Choose the YuNet .onnx model file")
        browse.clicked.connect(self._browse_model)
        self.min_face = QSpinBox(minimum=10, maximum=1000, value=d.min_face, suffix=" px")
        self.min_face.setToolTip("Faces smaller than this (in frame pixels) are ignored")
        self.detect_every = QSpinBox(minimum=1, maximum=30, value=d.detect_every)
        self.detect_every.setToolTip("Detect faces every N frames; boxes are tracked in between")
        self.classify_every = QSpinBox(minimum=1, maximum=30, value=d.classify_every)
        self.classify_every.setToolTip("Classify faces every N frames (new faces at once); "
                                       "2 halves the model's cost, smoothing hides the difference")
        self.smoothing = QComboBox()
        for key, title in SMOOTHING_TITLES.items():
            self.smoothing.addItem(title, key)
        self.alpha = QDoubleSpinBox(minimum=0.05, maximum=1.0, singleStep=0.05, value=d.alpha)
        self.alpha.setToolTip("Weight of the newest frame (1 = no smoothing)")
        self.window = QSpinBox(minimum=1, maximum=60, value=d.window, suffix=" frames")
        self.cam = QCheckBox("Grad-CAM overlay on the largest face")
        self.cam_method = QComboBox()
        for key, title in _cam_methods():
            self.cam_method.addItem(title, key)
        self.cam_method.setCurrentIndex(max(0, self.cam_method.findData(d.cam_method)))
        self.cam_method.setToolTip("How the heat map is computed (LayerCAM and Grad-CAM++ still show "
                                   "something where Grad-CAM's map is flat)")
        self.cam_every = QSpinBox(minimum=1, maximum=60, value=d.cam_every)
        self.cam_every.setToolTip("Recompute the heat map every N frames (it is costly)")
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Detector", self.detector)
        form.addRow("YuNet model", hrow(self.yunet_model, browse))
        form.addRow("Min face", self.min_face)
        form.addRow("Detect every", self.detect_every)
        form.addRow("Classify every", self.classify_every)
        form.addRow("Smoothing", self.smoothing)
        form.addRow("EMA alpha", self.alpha)
        form.addRow("Window", self.window)
        form.addRow(self.cam)
        form.addRow("CAM method", self.cam_method)
        form.addRow("CAM every", self.cam_every)
        for w in (self.detector, self.smoothing, self.cam_method):
            w.currentIndexChanged.connect(self._changed)
        for w in (self.min_face, self.detect_every, self.classify_every, self.alpha, self.window, self.cam_every):
            w.valueChanged.connect(self._changed)
        self.cam.toggled.connect(self._changed)
        self.yunet_model.editingFinished.connect(self._changed)
        self._enable()

    def apply_to(self, settings: LiveSettings) -> LiveSettings:
        return replace(settings, detector=self.detector.currentData(), yunet_model=self.yunet_model.text().strip(),
                       min_face=self.min_face.value(), detect_every=self.detect_every.value(),
                       classify_every=self.classify_every.value(),
                       smoothing=self.smoothing.currentData(), alpha=self.alpha.value(),
                       window=self.window.value(), cam=self.cam.isChecked(),
                       cam_method=self.cam_method.currentData(), cam_every=self.cam_every.value())

    def _browse_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "YuNet model file", "", "ONNX model (*.onnx)")
        if path:
            self.yunet_model.setText(path)
            self.detector.setCurrentIndex(self.detector.findData("yunet"))
            self._changed()

    def _enable(self) -> None:
        self.yunet_model.setEnabled(self.detector.currentData() == "yunet")
        self.alpha.setEnabled(self.smoothing.currentData() == "ema")
        self.window.setEnabled(self.smoothing.currentData() == "window")
        self.cam_every.setEnabled(self.cam.isChecked())
        self.cam_method.setEnabled(self.cam.isChecked())

    def _changed(self, *_) -> None:
        self._enable()
        self.changed.emit()
