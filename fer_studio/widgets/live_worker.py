"""The live page's worker thread: opens the run and the source, then captures, detects,
classifies and annotates frames off the GUI thread.

The GUI only displays: the worker keeps the latest (frame, result, annotated) and emits
`frameReady` once; until the GUI has taken it, newer frames replace it without another
signal, so a slow display drops frames instead of queueing them. Recording writes every
frame in the worker. Settings changed while running apply from the next frame.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QThread, Signal

#: How a session ended: the user stopped it, the video/sequence ended, or a fault.
STOPPED, ENDED, FAILED = "stopped", "ended", "failed"


@dataclass(frozen=True)
class LiveSettings:
    """Everything a live session needs; `source` is a camera index, a video file or a folder."""

    run_dir: str = ""
    source_kind: str = "camera"  # a key of fer_engine.live.sources.SOURCE_KINDS
    source: str = "0"
    detector: str = "haar"
    yunet_model: str = ""
    min_face: int = 60  # webcam faces are larger; a larger minimum makes detection cheaper
    detect_every: int = 3
    classify_every: int = 1
    smoothing: str = "ema"  # ema | window | none
    alpha: float = 0.4
    window: int = 5
    cam: bool = False
    cam_method: str = "gradcam"  # a key of fer_engine.eval.cam.CAM_METHODS
    cam_every: int = 5
    margin: float = 0.1
    realtime: bool = True  # videos play at their own frame rate
    device: str = "auto"  # the GPU when there is one


@dataclass
class LiveFrame:
    """What the GUI shows: the raw frame, its result and the annotated image (BGR)."""

    frame: Any  # fer_engine.live.Frame
    result: Any  # fer_engine.live.FrameResult
    annotated: np.ndarray
    margin: float


class LiveWorker(QThread):
    status = Signal(str)  # a short progress line ("loading the run", "playing")
    frameReady = Signal()  # a new LiveFrame waits in take_latest()
    ended = Signal(str, str)  # (STOPPED | ENDED | FAILED, message)
    recordingSaved = Signal(str, int)  # path, frames written
    notice = Signal(str)  # a setting that cannot apply (e.g. Grad-CAM on an exported model); play goes on

    def __init__(self, settings: LiveSettings, parent=None):
        super().__init__(parent)
        self.settings = settings
        self._lock = threading.Lock()
        self._latest: LiveFrame | None = None
        self._signalled = False
        self._pending: LiveSettings | None = None
        self._record_to: Path | None = None
        self._recorder = None

    # -- called from the GUI thread --------------------------------------------------------
    def take_latest(self) -> LiveFrame | None:
        with self._lock:
            item, self._latest, self._signalled = self._latest, None, False
        return item

    def update_settings(self, settings: LiveSettings) -> None:
        """Apply detection/smoothing/CAM settings from the next frame (run and source stay)."""
        with self._lock:
            self._pending = replace(settings, run_dir=self.settings.run_dir,
                                    source_kind=self.settings.source_kind, source=self.settings.source)

    def start_recording(self, path: Path) -> None:
        with self._lock:
            self._record_to = Path(path)

    def stop_recording(self) -> None:
        with self._lock:
            self._record_to = None

    def stop(self) -> None:
        self.requestInterruption()

    # -- the thread --------------------------------------------------------------------------
    def run(self) -> None:  # noqa: D102 - QThread entry point
        from fer_engine.live import SourceError, SourceLost

        source = None
        try:
            self.status.emit("Loading the run…")
            pipe = self._build_pipeline()
            self.status.emit("Opening the source…")
            source = self._open_source()
            self.status.emit(f"Playing {source.description}")
            frames = self._loop(source, pipe)
            if self.isInterruptionRequested():
                self.ended.emit(STOPPED, "")
            else:
                self.ended.emit(ENDED, f"{source.description} ended after {frames} frames")
        except SourceLost as e:
            self.ended.emit(FAILED, f"Source lost: {e}")
        except SourceError as e:
            self.ended.emit(FAILED, str(e))
        except Exception as e:  # noqa: BLE001 - every fault is reported on the page, never raised
            self.ended.emit(FAILED, _describe(e))
        finally:
            self._finish_recording()
            if source is not None:
                source.close()

    def _open_source(self):
        from fer_engine.live import open_source

        return open_source(self.settings.source, self.settings.source_kind)

    def _build_pipeline(self):
        from fer_engine.export.source import open_model
        from fer_engine.live import LivePipeline, create_detector, make_smoother

        s = self.settings
        if not s.run_dir:
            raise ValueError("choose a run (or an ensemble) to classify the faces with")
        predictor = open_model(s.run_dir, s.device)
        cam = self._cam_fn(predictor, s.cam_method) if s.cam else None
        return LivePipeline(
            predictor, create_detector(s.detector, model_path=s.yunet_model, min_face=s.min_face),
            make_smoother(s.smoothing, s.alpha, s.window), detect_every=s.detect_every,
            classify_every=s.classify_every, margin=s.margin, cam_every=s.cam_every if cam else 0,
            cam_fn=cam)

    def _loop(self, source, pipe) -> int:
        from fer_engine.live import annotate, play

        frames = 0
        margin = self.settings.margin
        for frame, result in play(source, pipe, realtime=self.settings.realtime,
                                  should_stop=self.isInterruptionRequested):
            annotated = annotate(frame.image, result, margin=margin)
            self._record(annotated, source.fps)
            frames += 1
            with self._lock:
                self._latest = LiveFrame(frame, result, annotated, margin)
                signal, self._signalled = not self._signalled, True
                pending, self._pending = self._pending, None
            if signal:
                self.frameReady.emit()
            if pending is not None:
                margin = self._apply(pipe, pending)
        return frames

    def _apply(self, pipe, s: LiveSettings) -> float:
        """Change a running pipeline to new settings; returns the crop margin."""
        from fer_engine.live import create_detector, make_smoother

        old = self.settings
        if (s.detector, s.yunet_model, s.min_face) != (old.detector, old.yunet_model, old.min_face):
            pipe.detector = create_detector(s.detector, model_path=s.yunet_model, min_face=s.min_face)
        if (s.smoothing, s.alpha, s.window) != (old.smoothing, old.alpha, old.window):
            pipe.smoother = make_smoother(s.smoothing, s.alpha, s.window)
        pipe.detect_every = s.detect_every
        pipe.classify_every = s.classify_every
        pipe.classifier.margin = s.margin
        if s.cam and (pipe.cam_fn is None or s.cam_method != old.cam_method):
            pipe.cam_fn = self._cam_fn(pipe.classifier.predictor, s.cam_method)
            pipe.reset_cam()
        pipe.cam_every = s.cam_every if s.cam and pipe.cam_fn is not None else 0
        self.settings = s
        return s.margin

    def _cam_fn(self, predictor, method: str):
        """The CAM function, or None with a notice when this model has none (an export)."""
        from fer_engine.live.cam import make_cam_fn

        try:
            return make_cam_fn(predictor, method)
        except ValueError as e:
            self.notice.emit(f"Grad-CAM is off: {e}")
            return None

    def _record(self, annotated: np.ndarray, fps: float | None) -> None:
        from fer_engine.live import VideoRecorder

        with self._lock:
            target = self._record_to
        if self._recorder is not None and self._recorder.path != target:
            self._finish_recording()
        if target is not None and self._recorder is None:
            self._recorder = VideoRecorder(target, fps or 15.0)
        if self._recorder is not None:
            self._recorder.write(annotated)

    def _finish_recording(self) -> None:
        rec, self._recorder = self._recorder, None
        if rec is not None:
            rec.close()
            self.recordingSaved.emit(str(rec.path), rec.frames)


def _describe(e: BaseException) -> str:
    """One line for the page: the error's own message, its type when it has none."""
    text = str(e.args[0]) if isinstance(e, KeyError) and e.args else str(e)
    return text or type(e).__name__
