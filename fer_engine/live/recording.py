"""Saving the live stream: an annotated video recording, and snapshots with their predictions."""
from __future__ import annotations

import json
import time
from pathlib import Path

import cv2
import numpy as np

from ..utils.atomic import atomic_write_text
from ..data.errors import printable
from .classify import crop_face
from .cvfiles import finish_video, video_writer, write_image
from .pipeline import FrameResult


class RecordingError(OSError):
    """A video or snapshot that cannot be written; names the file."""


class VideoRecorder:
    """Writes BGR frames to a video file (mp4v). The size is fixed by the first frame;
    later frames of another size (an image sequence) are resized to it."""

    def __init__(self, path: str | Path, fps: float = 30.0):
        self.path = Path(path)
        self.fps = float(fps) if fps and fps > 0 else 30.0
        self.frames = 0
        self._writer: cv2.VideoWriter | None = None
        self._size: tuple[int, int] | None = None

    def write(self, frame: np.ndarray) -> None:
        writer = self._writer or self._open((frame.shape[1], frame.shape[0]))
        if (frame.shape[1], frame.shape[0]) != self._size:
            frame = cv2.resize(frame, self._size, interpolation=cv2.INTER_AREA)
        writer.write(np.ascontiguousarray(frame))
        self.frames += 1

    def _open(self, size: tuple[int, int]) -> cv2.VideoWriter:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise RecordingError(f"cannot create the folder for {self.path}: {e.strerror}") from None
        writer, self._written = video_writer(self.path, cv2.VideoWriter_fourcc(*"mp4v"), self.fps, size)
        if not writer.isOpened():
            raise RecordingError(printable(f"cannot write video file {self.path} (check the folder and "
                                           "the extension, e.g. .mp4)"))
        self._writer, self._size = writer, size
        return writer

    def close(self) -> None:
        if self._writer is not None:
            self._writer.release()
            self._writer = None
            try:
                finish_video(self._written, self.path)
            except OSError as e:
                raise RecordingError(printable(f"cannot write video file {self.path}: {e.strerror or e}")) from None

    def __enter__(self) -> "VideoRecorder":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def save_snapshot(folder: str | Path, frame: np.ndarray, annotated: np.ndarray, result: FrameResult,
                  margin: float = 0.1, stem: str | None = None,
                  context: dict | None = None) -> list[Path]:
    """Write `<stem>.png` (the frame with its overlay), `<stem>_face<id>.png` (each face crop
    as in the frame) and `<stem>.json` (the predictions, with `context`: which run, checkpoint
    and source made them); returns the paths written."""
    folder = Path(folder)
    stem = stem or time.strftime("snapshot-%Y%m%d-%H%M%S") + f"-{result.index:06d}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise RecordingError(f"cannot create snapshot folder {folder}: {e.strerror}") from None
    paths = [folder / f"{stem}.png"]
    images = [annotated]
    for tid, box in zip(result.track_ids, result.boxes):
        paths.append(folder / f"{stem}_face{int(tid)}.png")
        images.append(crop_face(frame, box, margin))
    for path, image in zip(paths, images):
        try:
            write_image(path, image)  # any file name (cv2.imwrite crashes on non-UTF-8 ones)
        except (OSError, ValueError) as e:
            raise RecordingError(printable(f"cannot write image {path}: {getattr(e, 'strerror', None) or e}")) from None
    meta = {"frame": result.index, "source": result.name, **(context or {}), "fps": round(result.fps, 2),
            "latency_ms": {k: round(v, 2) for k, v in result.latency_ms.items()},
            "faces": [{**r, "crop": p.name} for r, p in zip(result.records(), paths[1:])]}
    json_path = folder / f"{stem}.json"
    atomic_write_text(json_path, json.dumps(meta, indent=1) + "\n")
    return paths + [json_path]
