"""One live frame end to end: detect (every n frames) -> track -> classify -> smooth (-> Grad-CAM).

`LivePipeline.process(frame)` returns a `FrameResult` with the boxes, track ids, raw and
smoothed probabilities, labels, per-stage latency and the frame rate; `play(source,
pipeline)` runs a source through it (paced to the source's frame rate when asked).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Iterator

import numpy as np

from .classify import FaceClassifier, Predictor, Smoother, make_smoother
from .detect import FaceDetector
from .sources import Frame, FrameSource
from .track import IoUTracker

#: A Grad-CAM function: a stored-format face (S, S, C) uint8 and a class index -> (S, S) in [0, 1].
CamFn = Callable[[np.ndarray, int], np.ndarray]


@dataclass
class FrameResult:
    """What the pipeline found in one frame (N faces, K classes)."""

    index: int
    class_names: list[str]
    boxes: np.ndarray  # (N, 4) int x, y, w, h in frame pixels
    track_ids: np.ndarray  # (N,) int, stable across frames
    probs: np.ndarray  # (N, K) this frame's probabilities
    smoothed: np.ndarray  # (N, K) smoothed over time per track
    faces: np.ndarray  # (N, S, S, C) uint8, the faces as the model saw them
    detected: bool  # whether detection ran on this frame (else boxes were held)
    latency_ms: dict[str, float] = field(default_factory=dict)  # capture, detect, classify, cam, total
    mean_latency_ms: dict[str, float] = field(default_factory=dict)  # the same, averaged over recent frames
    fps: float = 0.0
    name: str = ""  # image file name for image sequences
    cam: np.ndarray | None = None  # (S, S) Grad-CAM of the tracked face, when on
    cam_track: int | None = None  # the track the CAM belongs to

    @property
    def labels(self) -> list[str]:
        return [self.class_names[i] for i in self.smoothed.argmax(axis=1)] if len(self.smoothed) else []

    @property
    def confidences(self) -> np.ndarray:
        return self.smoothed.max(axis=1) if len(self.smoothed) else np.zeros(0, np.float32)

    def records(self) -> list[dict]:
        """One JSON-ready dict per face (what `fer-studio predict --json` prints)."""
        out = []
        for i, tid in enumerate(self.track_ids):
            out.append({
                "frame": self.index, "source": self.name, "track_id": int(tid),
                "box": [int(v) for v in self.boxes[i]], "label": self.labels[i],
                "confidence": round(float(self.confidences[i]), 4),
                "probs": {c: round(float(p), 4) for c, p in zip(self.class_names, self.smoothed[i])},
                "raw_probs": {c: round(float(p), 4) for c, p in zip(self.class_names, self.probs[i])},
            })
        return out


class LivePipeline:
    """Detection every `detect_every` frames with IoU tracking between, batched classification
    every `classify_every` frames (a face keeps its last probabilities in between; a new
    face is classified at once), per-track smoothing, and an optional Grad-CAM of the
    largest tracked face every `cam_every` frames (0 = off)."""

    def __init__(self, predictor: Predictor, detector: FaceDetector, smoothing: Smoother | None = None,
                 *, detect_every: int = 1, classify_every: int = 1, margin: float = 0.1,
                 cam_every: int = 0, cam_fn: CamFn | None = None, tracker: IoUTracker | None = None):
        if detect_every < 1 or classify_every < 1:
            raise ValueError(f"detect_every and classify_every must be at least 1, "
                             f"got {detect_every} and {classify_every}")
        if cam_every and cam_fn is None:
            raise ValueError("cam_every needs a cam_fn (see fer_engine.live.cam.make_cam_fn)")
        self.classifier = FaceClassifier(predictor, margin)
        self.detector = detector
        self.smoother = smoothing if smoothing is not None else make_smoother("ema")
        self.tracker = tracker or IoUTracker()
        self.detect_every = detect_every
        self.classify_every = classify_every
        self.cam_every = cam_every
        self.cam_fn = cam_fn
        self.reset()

    @property
    def class_names(self) -> list[str]:
        return self.classifier.class_names

    def reset(self) -> None:
        """Forget tracks, smoothing and timing (a new source starts)."""
        self.tracker.reset()
        self.smoother.reset()
        self._count = 0
        self._last_t: float | None = None
        self._dt = 0.0
        self._mean_latency: dict[str, float] = {}
        self._cam: tuple[int, np.ndarray] | None = None
        self._held: tuple[dict[int, np.ndarray], dict[int, np.ndarray], dict[int, np.ndarray]] = ({}, {}, {})

    def reset_cam(self) -> None:
        """Drop the held heat map (the CAM method changed): the next frame computes one."""
        self._cam = None

    def process(self, frame: Frame) -> FrameResult:
        t0 = time.perf_counter()
        detected = self._count % self.detect_every == 0
        tracks = self.tracker.update(self.detector.detect(frame.image)) if detected else self.tracker.visible
        t1 = time.perf_counter()
        boxes = np.array([t.box for t in tracks], np.int32).reshape(-1, 4)
        ids = np.array([t.track_id for t in tracks], np.int64)
        probs, smoothed, faces = self._classify(frame.image, boxes, ids)
        t2 = time.perf_counter()
        cam, cam_track = self._grad_cam(ids, faces, smoothed)
        t3 = time.perf_counter()
        self._count += 1
        latency = {"capture": frame.capture_ms, "detect": (t1 - t0) * 1e3,
                   "classify": (t2 - t1) * 1e3, "cam": (t3 - t2) * 1e3}
        latency["total"] = sum(latency.values())
        self._mean_latency = {k: v if k not in self._mean_latency else 0.9 * self._mean_latency[k] + 0.1 * v
                              for k, v in latency.items()}
        return FrameResult(frame.index, self.class_names, boxes, ids, probs, smoothed, faces, detected,
                           latency, dict(self._mean_latency), self._tick(t3), frame.name, cam, cam_track)

    def _classify(self, image: np.ndarray, boxes: np.ndarray, ids: np.ndarray):
        """(probs, smoothed, faces): classified now when due or when a face is new, else held."""
        held_p, held_s, held_f = self._held
        probs: np.ndarray
        smoothed: np.ndarray
        faces: np.ndarray
        due = self._count % self.classify_every == 0 or any(int(i) not in held_p for i in ids)
        if due:
            probs, faces = self.classifier.classify(image, boxes, bgr=True)
            smoothed = np.array([self.smoother.update(int(i), p) for i, p in zip(ids, probs)],
                                np.float32).reshape(probs.shape)
            keys = [int(i) for i in ids]
            self._held = (dict(zip(keys, probs)), dict(zip(keys, smoothed)), dict(zip(keys, faces)))
        else:
            k = len(self.class_names)
            probs = np.array([held_p[int(i)] for i in ids], np.float32).reshape(-1, k)
            smoothed = np.array([held_s[int(i)] for i in ids], np.float32).reshape(-1, k)
            faces = np.array([held_f[int(i)] for i in ids], np.uint8).reshape(
                -1, self.classifier.size, self.classifier.size, self.classifier.channels)
        self.smoother.retain(self.tracker.track_ids)
        return probs, smoothed, faces

    def _tick(self, now: float) -> float:
        """Frames per second: 1 / the exponential average of the time between frames."""
        if self._last_t is not None:
            dt = max(now - self._last_t, 1e-6)
            self._dt = dt if self._dt == 0 else 0.9 * self._dt + 0.1 * dt
        self._last_t = now
        return 1.0 / self._dt if self._dt else 0.0

    def _grad_cam(self, ids: np.ndarray, faces: np.ndarray, smoothed: np.ndarray):
        if not self.cam_every or self.cam_fn is None or not len(ids):
            self._cam = None
            return None, None
        if self._count % self.cam_every == 0 or self._cam is None or self._cam[0] != ids[0]:
            self._cam = (int(ids[0]), self.cam_fn(faces[0], int(smoothed[0].argmax())))
        return self._cam[1], self._cam[0]


def play(source: FrameSource, pipeline: LivePipeline, *, realtime: bool = False,
         should_stop: Callable[[], bool] | None = None) -> Iterator[tuple[Frame, FrameResult]]:
    """(frame, result) for each frame until the source ends or `should_stop()`.

    realtime: wait so frames come no faster than the source's frame rate (a video plays
    at its own speed; cameras pace themselves); when processing is slower, frames follow
    each other at once.
    SourceLost / SourceUnavailable propagate; the end of a video or sequence ends the loop.
    """
    pipeline.reset()
    start = time.perf_counter()
    period = 1.0 / source.fps if realtime and source.fps and not source.live else 0.0
    for frame in source:
        if period:
            delay = start + frame.index * period - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            elif delay < -0.5:  # far behind (a stall): restart the clock instead of racing
                start = time.perf_counter() - frame.index * period
        yield frame, pipeline.process(frame)
        if should_stop is not None and should_stop():
            return
