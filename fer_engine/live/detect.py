"""Face detection with OpenCV: the Haar cascade shipped with OpenCV, or YuNet from a model file.

Detection runs on a downscaled copy of the frame (grayscale for Haar) so it stays cheap:
shrunk as far as a face of the minimum size still covers the detector's smallest window,
but not below `detect_width` pixels wide. A larger minimum face therefore means faster
detection. Boxes come back in full-frame pixels as an (N, 4) int array of x, y, w, h,
largest first.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol

import cv2
import numpy as np

from ..registry import Registry


#: Smallest face (pixels) each detector finds: the Haar cascade's window, YuNet's smallest anchors.
HAAR_WINDOW, YUNET_WINDOW = 24, 16
DETECT_SLACK = 1.25  # a min-size face spans this many windows: Haar misses faces right at its window


class DetectorError(ValueError):
    """A detector that cannot be built (missing or unreadable model file)."""


class FaceDetector(Protocol):
    min_face: int

    def detect(self, frame_bgr: np.ndarray) -> np.ndarray:
        """(N, 4) int boxes x, y, w, h in frame pixels, largest first."""


def _downscale(image: np.ndarray, min_face: int, window: int, detect_width: int) -> tuple[np.ndarray, float]:
    """The image shrunk so a `min_face` face still spans `window` pixels (but kept at least
    `detect_width` wide), and the scale used."""
    w, h = image.shape[1], image.shape[0]
    scale = min(1.0, max(DETECT_SLACK * window / max(min_face, 1), detect_width / w))
    if scale >= 0.98:
        return image, 1.0
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA), size[0] / w


def _finish(boxes: np.ndarray, scale: float, min_face: int, shape: tuple[int, ...]) -> np.ndarray:
    """Scale boxes back to the frame, clip them, drop small ones, sort largest first."""
    if len(boxes) == 0:
        return np.zeros((0, 4), np.int32)
    b = np.asarray(boxes, np.float64)[:, :4] / scale
    h, w = shape[:2]
    x0 = np.clip(b[:, 0], 0, w)
    y0 = np.clip(b[:, 1], 0, h)
    x1 = np.clip(b[:, 0] + b[:, 2], 0, w)
    y1 = np.clip(b[:, 1] + b[:, 3], 0, h)
    out = np.rint(np.stack([x0, y0, x1 - x0, y1 - y0], axis=1)).astype(np.int32)
    out = out[(out[:, 2] >= min_face) & (out[:, 3] >= min_face)]
    return out[np.argsort(-(out[:, 2] * out[:, 3]), kind="stable")]


@dataclass
class HaarDetector:
    """OpenCV's frontal-face Haar cascade on an equalised, downscaled grayscale frame."""

    min_face: int = 40  # smallest face side in frame pixels
    detect_width: int = 160  # detection never runs on a frame narrower than this
    scale_factor: float = 1.1
    min_neighbors: int = 5
    cascade: str = "haarcascade_frontalface_default.xml"  # a file in cv2.data.haarcascades or a path

    def __post_init__(self) -> None:
        path = Path(self.cascade)
        if not path.is_file():
            path = Path(cv2.data.haarcascades) / self.cascade
        self._cascade = cv2.CascadeClassifier(str(path))
        if self._cascade.empty():
            raise DetectorError(f"cannot load Haar cascade {path}")

    def detect(self, frame_bgr: np.ndarray) -> np.ndarray:
        gray = frame_bgr if frame_bgr.ndim == 2 else cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2GRAY)
        small, scale = _downscale(gray, self.min_face, HAAR_WINDOW, self.detect_width)
        small = cv2.equalizeHist(small)
        side = max(HAAR_WINDOW, math.ceil(self.min_face * scale))
        boxes = self._cascade.detectMultiScale(small, self.scale_factor, self.min_neighbors,
                                               minSize=(side, side))
        return _finish(np.asarray(boxes).reshape(-1, 4), scale, self.min_face, gray.shape)


@dataclass
class YuNetDetector:
    """OpenCV's YuNet DNN detector (`cv2.FaceDetectorYN`) from its .onnx model file.

    The model is not shipped with OpenCV: get `face_detection_yunet_2023mar.onnx` from
    the opencv_zoo repository and give its path.
    """

    model_path: str
    min_face: int = 40
    detect_width: int = 160
    score_threshold: float = 0.7
    nms_threshold: float = 0.3

    def __post_init__(self) -> None:
        path = Path(self.model_path)
        if not self.model_path or not path.is_file():
            raise DetectorError(f"YuNet model file not found: {self.model_path or '(none given)'} "
                                "(download face_detection_yunet_2023mar.onnx from opencv_zoo)")
        try:
            self._net = cv2.FaceDetectorYN.create(str(path), "", (320, 240),
                                                  self.score_threshold, self.nms_threshold)
        except cv2.error as e:
            raise DetectorError(f"cannot load YuNet model {path}: {e.msg.strip() or e}") from None
        self._size: tuple[int, int] = (320, 240)

    def detect(self, frame_bgr: np.ndarray) -> np.ndarray:
        image = cv2.cvtColor(frame_bgr, cv2.COLOR_GRAY2BGR) if frame_bgr.ndim == 2 else frame_bgr
        small, scale = _downscale(image, self.min_face, YUNET_WINDOW, self.detect_width)
        size = (small.shape[1], small.shape[0])
        if size != self._size:
            self._net.setInputSize(size)
            self._size = size
        _, faces = self._net.detect(small)
        boxes = np.zeros((0, 4)) if faces is None else faces[:, :4]
        return _finish(boxes, scale, self.min_face, image.shape)


#: Detectors by name: name -> factory(min_face=, detect_width=, model_path=).
DETECTORS: Registry[Callable[..., FaceDetector]] = Registry("face detector")
DETECTORS.register("haar", lambda model_path="", **kw: HaarDetector(**kw))
DETECTORS.register("yunet", lambda model_path="", **kw: YuNetDetector(model_path, **kw))


def create_detector(name: str = "haar", *, model_path: str = "", min_face: int = 40,
                    detect_width: int = 160) -> FaceDetector:
    """A detector from DETECTORS by name (`model_path` is YuNet's .onnx file)."""
    return DETECTORS.get(name)(model_path=model_path, min_face=min_face, detect_width=detect_width)
