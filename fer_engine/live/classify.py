"""Classify the faces of a frame exactly as the run was trained, and smooth them over time.

Each detected box is widened by a margin into a square crop (edges replicated where it
leaves the frame), converted by `data.images.decode_image` to the run's stored face
format (size, grayscale or RGB) -- the conversion the training data went through -- and
all faces of a frame are classified in one batch by a predictor (a run or an ensemble,
`eval.predictor.load_predictor`), which applies `tricks.preprocess.prepare_batch` with
the run's mean/std/input size.

Smoothers keep one state per track id so a face's label does not flicker:
`EmaSmoother` (exponential moving average) or `WindowSmoother` (mean of the last n).
"""
from __future__ import annotations

from collections import deque
from typing import Any, Protocol, Sequence

import cv2
import numpy as np

from ..data.images import decode_image


class Predictor(Protocol):
    class_names: list[str]

    def predict_faces(self, faces: np.ndarray) -> np.ndarray:
        """uint8 (B, S, S, C) faces -> (B, K) probabilities."""


def input_format(predictor: object) -> tuple[int, int]:
    """(image size, channels) faces are stored at for this run (largest over ensemble members)."""
    members = getattr(predictor, "members", None) or [predictor]
    pres = [m.preprocess for m in members]
    return max(p.image_size for p in pres), max(p.channels for p in pres)


def square_box(box: Sequence[int] | np.ndarray, margin: float) -> tuple[int, int, int]:
    """(x0, y0, side): the box's centre square, each side widened by `margin` x its size."""
    x, y, w, h = (float(v) for v in box)
    side = max(w, h) * (1.0 + 2.0 * margin)
    cx, cy = x + w / 2.0, y + h / 2.0
    s = max(1, round(side))
    return round(cx - s / 2.0), round(cy - s / 2.0), s


def crop_face(frame: np.ndarray, box: Sequence[int], margin: float = 0.1) -> np.ndarray:
    """The square crop around `box`, edge pixels replicated where it leaves the frame."""
    x0, y0, s = square_box(box, margin)
    h, w = frame.shape[:2]
    cx0, cy0 = max(0, x0), max(0, y0)
    cx1, cy1 = min(w, x0 + s), min(h, y0 + s)
    if cx1 <= cx0 or cy1 <= cy0:
        raise ValueError(f"face box {tuple(box)} lies outside the {w}x{h} frame")
    crop = frame[cy0:cy1, cx0:cx1]
    pad = (cy0 - y0, y0 + s - cy1, cx0 - x0, x0 + s - cx1)
    if any(pad):
        crop = cv2.copyMakeBorder(crop, *pad, cv2.BORDER_REPLICATE)
    return crop


class FaceClassifier:
    """Crops, converts and classifies all faces of a frame in one batch."""

    def __init__(self, predictor: Predictor, margin: float = 0.1):
        self.predictor = predictor
        self.margin = margin
        self.size, self.channels = input_format(predictor)

    @property
    def class_names(self) -> list[str]:
        return list(self.predictor.class_names)

    def faces(self, frame: np.ndarray, boxes: np.ndarray, bgr: bool = False) -> np.ndarray:
        """(N, S, S, C) uint8 faces in the run's stored format (`bgr`: an OpenCV frame)."""
        out = np.empty((len(boxes), self.size, self.size, self.channels), np.uint8)
        for i, box in enumerate(boxes):
            crop = crop_face(frame, box, self.margin)
            out[i] = decode_image(crop[..., ::-1] if bgr else crop, self.size, self.channels)
        return out

    def classify(self, frame: np.ndarray, boxes: np.ndarray,
                 bgr: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """(probs (N, K) float32, faces (N, S, S, C) uint8) for the boxes of one frame."""
        faces = self.faces(frame, boxes, bgr)
        if not len(faces):
            return np.zeros((0, len(self.class_names)), np.float32), faces
        return np.asarray(self.predictor.predict_faces(faces), np.float32), faces


class Smoother(Protocol):
    def update(self, track_id: int, probs: np.ndarray) -> np.ndarray: ...

    def retain(self, track_ids: Sequence[int]) -> None: ...

    def reset(self) -> None: ...


class _PerTrack:
    """State kept per track id; tracks that are gone are forgotten."""

    def __init__(self) -> None:
        self._state: dict[int, Any] = {}

    def retain(self, track_ids: Sequence[int]) -> None:
        """Forget tracks not in `track_ids` (a returning id starts afresh)."""
        keep = set(track_ids)
        self._state = {k: v for k, v in self._state.items() if k in keep}

    def reset(self) -> None:
        self._state = {}


class EmaSmoother(_PerTrack):
    """s = alpha * p + (1 - alpha) * s_prev per track; alpha = 1 is no smoothing."""

    def __init__(self, alpha: float = 0.4):
        if not 0.0 < alpha <= 1.0:
            raise ValueError(f"EMA alpha must be in (0, 1], got {alpha}")
        super().__init__()
        self.alpha = alpha

    def update(self, track_id: int, probs: np.ndarray) -> np.ndarray:
        p = np.asarray(probs, np.float64)
        prev = self._state.get(track_id)
        s = p if prev is None else self.alpha * p + (1.0 - self.alpha) * prev
        self._state[track_id] = s
        return s.astype(np.float32)


class WindowSmoother(_PerTrack):
    """Mean of the last `window` probability vectors per track; window = 1 is no smoothing."""

    def __init__(self, window: int = 5):
        if window < 1:
            raise ValueError(f"smoothing window must be at least 1, got {window}")
        super().__init__()
        self.window = int(window)

    def update(self, track_id: int, probs: np.ndarray) -> np.ndarray:
        q = self._state.setdefault(track_id, deque(maxlen=self.window))
        q.append(np.asarray(probs, np.float64))
        return np.mean(q, axis=0).astype(np.float32)


#: Smoothing modes for choosers and the CLI.
SMOOTHING_MODES = ("ema", "window", "none")


def make_smoother(mode: str = "ema", alpha: float = 0.4, window: int = 5) -> Smoother:
    """A smoother by mode: "ema" (alpha), "window" (n frames) or "none"."""
    if mode == "ema":
        return EmaSmoother(alpha)
    if mode == "window":
        return WindowSmoother(window)
    if mode == "none":
        return EmaSmoother(1.0)
    raise ValueError(f"smoothing must be one of {', '.join(SMOOTHING_MODES)}, got {mode!r}")
