"""Live prediction: frame sources, face detection and tracking, classification with the
run's exact preprocessing, probability smoothing, overlays, recording and snapshots.

    source = open_source("clip.mp4")                 # or 0 (camera), a folder, an image
    pipe = LivePipeline(load_predictor(run_dir), create_detector("haar"), make_smoother("ema"),
                        detect_every=3)
    for frame, result in play(source, pipe):
        shown = annotate(frame.image, result)
"""
from .classify import EmaSmoother, FaceClassifier, WindowSmoother, crop_face, make_smoother
from .detect import DETECTORS, DetectorError, HaarDetector, YuNetDetector, create_detector
from .overlay import annotate
from .pipeline import FrameResult, LivePipeline, play
from .recording import RecordingError, VideoRecorder, save_snapshot
from .sources import (CameraSource, Frame, FrameSource, ImageSequenceSource, SourceEnded, SourceError,
                      SourceLost, SourceUnavailable, VideoSource, list_cameras, open_source)
from .track import IoUTracker

__all__ = [
    "DETECTORS", "CameraSource", "DetectorError", "EmaSmoother", "FaceClassifier", "Frame",
    "FrameResult", "FrameSource", "HaarDetector", "ImageSequenceSource", "IoUTracker",
    "LivePipeline", "RecordingError", "SourceEnded", "SourceError", "SourceLost",
    "SourceUnavailable", "VideoRecorder", "VideoSource", "WindowSmoother", "YuNetDetector",
    "annotate", "create_detector", "crop_face", "list_cameras", "make_smoother", "open_source",
    "play", "save_snapshot",
]
