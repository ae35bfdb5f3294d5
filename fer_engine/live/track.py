"""IoU tracking of face boxes, so each face keeps an id across frames and detections.

Detection may run only every few frames; between detections the last boxes are held.
At each detection, boxes are matched greedily to the existing tracks by IoU; an
unmatched detection starts a new track; a track unmatched for more than `max_missed`
detections is forgotten (one missed detection keeps the face's id and its smoothing).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box in `a` (N, 4) with every box in `b` (M, 4), boxes as x, y, w, h."""
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    ax1, ay1 = a[:, 0] + a[:, 2], a[:, 1] + a[:, 3]
    bx1, by1 = b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
    iw = np.clip(np.minimum(ax1[:, None], bx1[None]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    ih = np.clip(np.minimum(ay1[:, None], by1[None]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    inter = iw * ih
    union = (a[:, 2] * a[:, 3])[:, None] + (b[:, 2] * b[:, 3])[None] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


@dataclass
class Track:
    track_id: int
    box: np.ndarray  # x, y, w, h (int)
    missed: int = 0  # detections in a row without a match
    hits: int = 1  # detections matched so far


class IoUTracker:
    """Stable ids for face boxes across frames (greedy IoU matching)."""

    def __init__(self, iou_threshold: float = 0.3, max_missed: int = 1):
        self.iou_threshold = iou_threshold
        self.max_missed = max_missed
        self._tracks: list[Track] = []
        self._next_id = 1

    def reset(self) -> None:
        self._tracks = []
        self._next_id = 1

    @property
    def visible(self) -> list[Track]:
        """Tracks matched at the latest detection, in detection order (largest face first)."""
        return [t for t in self._tracks if t.missed == 0]

    @property
    def track_ids(self) -> list[int]:
        """Every live track, visible or briefly missed."""
        return [t.track_id for t in self._tracks]

    def update(self, boxes: np.ndarray) -> list[Track]:
        """Match a detection's boxes (N, 4) to the tracks; returns the visible tracks."""
        boxes = np.asarray(boxes).reshape(-1, 4)
        iou = iou_matrix(boxes, np.stack([t.box for t in self._tracks])) if self._tracks and len(boxes) \
            else np.zeros((len(boxes), len(self._tracks)))
        matched: dict[int, Track] = {}
        used: set[int] = set()
        for flat in np.argsort(-iou, axis=None, kind="stable"):
            i, j = divmod(int(flat), iou.shape[1])
            if iou[i, j] < self.iou_threshold:
                break
            if i in matched or j in used:
                continue
            matched[i] = self._tracks[j]
            used.add(j)
        for j, t in enumerate(self._tracks):
            if j not in used:
                t.missed += 1
        kept = [t for t in self._tracks if t.missed <= self.max_missed]
        ordered = []
        for i, box in enumerate(boxes):
            found = matched.get(i)
            if found is None:
                t = Track(self._next_id, box.copy())
                self._next_id += 1
                kept.append(t)
            else:
                t = found
                t.box, t.missed, t.hits = box.copy(), 0, t.hits + 1
            ordered.append(t)
        hidden = [t for t in kept if t.missed > 0]
        self._tracks = ordered + hidden
        return ordered
