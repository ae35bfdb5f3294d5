"""The run's model as the analysis page's image inspector uses it, and Grad-CAM overlay folders.

`InspectorModel(run_dir)`: Grad-CAM maps of faces and predictions of dropped image files,
through the run's own preprocessing (`predictor`). `export_cam_overlays` writes one PNG per
face (the face beside the Grad-CAM of its predicted class), in batches, cancellable.
"""
from __future__ import annotations

import threading
from typing import Any

import numpy as np

from ..data.images import decode_image
from ..progress import ProgressFn, StopFn
from .cam import CAM_METHODS, compute_cams
from .export import export_overlays
from .predictor import RunPredictor, load_predictor

CAM_BATCH = 16  # faces per Grad-CAM batch when exporting overlays


class InspectorModel:
    """The run's model as the inspector needs it: Grad-CAM maps, and predictions of dropped files.

    Wraps the engine's predictor (the run's exact preprocessing) and `fer_engine.eval.cam`.
    A lock serialises model use: a cancelled CAM job may still be finishing on another
    pool thread when the next one starts. Ensembles predict but have no single model to
    explain, so `methods` is empty for them and `unavailable` says why.
    """

    def __init__(self, run_dir: str):
        self.predictor = load_predictor(run_dir)
        self.class_names = list(self.predictor.class_names)
        self._lock = threading.Lock()
        self.unavailable = ""
        self.methods: list[tuple[str, str]] = []  # (key, title), e.g. ("gradcam", "Grad-CAM")
        self.layers: list[str] = []
        if not isinstance(self.predictor, RunPredictor):
            self.unavailable = "Grad-CAM explains one model: open a member run of this ensemble"
            return
        self.methods = [(name, m.title) for name, m in CAM_METHODS.items()]
        self.layers = list(self.predictor.model.named_cam_layers())

    def cams(self, faces: np.ndarray, method: str, targets: list[int], layer: str | None,
             progress=None, should_stop=None) -> np.ndarray:
        """(B, h, w) maps in [0, 1]: why the model would say `targets[i]` for `faces[i]`."""
        predictor = self.predictor
        if not isinstance(predictor, RunPredictor):
            raise ValueError(self.unavailable)
        with self._lock:
            return compute_cams(predictor.model, predictor.inputs(faces), method, list(targets), layer,
                                progress=progress, should_stop=should_stop)

    def predict(self, face: np.ndarray) -> np.ndarray:
        with self._lock:
            return self.predictor.predict_faces(face[None])[0]

    def decode(self, path: str) -> np.ndarray:
        """A dropped file as a face, converted exactly like the run's training data."""
        size, channels = self._face_format()
        return decode_image(path, size, channels)

    def _face_format(self) -> tuple[int, int]:
        predictor = getattr(self.predictor, "members", [self.predictor])[0]
        return predictor.preprocess.image_size, predictor.preprocess.channels


def export_cam_overlays(model: Any, analysis: Any, rows: np.ndarray, folder: str, method: str,
                        layer: str | None = None, alpha: float = 0.5, progress: ProgressFn | None = None,
                        should_stop: StopFn | None = None) -> int:
    """Grad-CAM of each analysis row's predicted class beside its face, one PNG per row; the
    number written (fewer when `should_stop()` turned true). `model` is an `InspectorModel` (or one
    with its `methods` and `cams`)."""
    if not model.methods:
        raise ValueError(model.unavailable or "this model has no Grad-CAM")
    p = analysis.predictions
    rows = np.asarray(rows, np.int64)
    for start in range(0, len(rows), CAM_BATCH):
        if should_stop is not None and should_stop():
            return start
        chunk = rows[start:start + CAM_BATCH]
        cams = model.cams(analysis.images[chunk], method, p.y_pred[chunk].tolist(), layer)
        export_overlays(analysis.images[chunk], cams, p.y_true[chunk], p.y_pred[chunk], analysis.class_names,
                        folder, ids=p.index[chunk], alpha=alpha)
        if progress is not None:
            progress((start + len(chunk)) / len(rows), f"{start + len(chunk)}/{len(rows)} overlays")
    return len(rows)
