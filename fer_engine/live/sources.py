"""Frame sources for the live demo: a camera, a video file, or images played as a sequence.

Every source has the same interface: `read() -> Frame` (a BGR uint8 frame, as OpenCV
gives it), `close()`, and iteration until the source ends. Faults are distinct errors,
each with a message that can be shown as is:

- `SourceUnavailable`: the source cannot be opened (no camera at that index, a missing
  or unreadable file, a folder without images).
- `SourceEnded`: a video or image sequence has no more frames (the normal end).
- `SourceLost`: a camera that was delivering frames stopped (unplugged mid-stream).
"""
from __future__ import annotations

import os
import sys
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import cv2
import numpy as np

from ..data.errors import printable
from ..data.images import ImageDecodeError, is_image_name
from .cvfiles import VideoReader, read_bgr


class SourceError(RuntimeError):
    """A frame source fault; the message says what happened and to which source."""


class SourceUnavailable(SourceError):
    """The source cannot be opened."""


class SourceEnded(SourceError):
    """The video or image sequence has no more frames."""


class SourceLost(SourceError):
    """A live camera stopped delivering frames mid-stream (e.g. unplugged)."""


@dataclass
class Frame:
    """One frame: BGR uint8 (H, W, 3), its index in the stream, and how long reading took."""

    image: np.ndarray
    index: int
    capture_ms: float
    name: str = ""  # the image file of a sequence frame; "" for cameras and videos


class FrameSource(ABC):
    """A stream of frames; use as a context manager and iterate, or call `read()`."""

    kind: str = ""
    #: Frames per second the source plays at (camera/video), or None (image sequences).
    fps: float | None = None
    #: Number of frames when known in advance (videos, image sequences).
    frame_count: int | None = None
    #: Frames arrive in real time by themselves (a camera): never paced by the player.
    live: bool = False

    def __init__(self) -> None:
        self._index = 0

    @property
    @abstractmethod
    def description(self) -> str:
        """What the source is, for messages: 'camera 0', 'video clip.mp4', ..."""

    @abstractmethod
    def _grab(self) -> tuple[np.ndarray, str]:
        """The next BGR frame and its name; raises SourceEnded / SourceLost."""

    def read(self) -> Frame:
        t0 = time.perf_counter()
        image, name = self._grab()
        frame = Frame(image, self._index, (time.perf_counter() - t0) * 1e3, name)
        self._index += 1
        return frame

    def close(self) -> None:  # noqa: B027 - a source without a device has nothing to release
        """Release the device or file (idempotent)."""

    def __iter__(self) -> Iterator[Frame]:
        while True:
            try:
                yield self.read()
            except SourceEnded:
                return

    def __enter__(self) -> "FrameSource":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _positive(value: float | None) -> float | None:
    """A capture property, None when the backend does not know it (0 or negative)."""
    return float(value) if value and value > 0 else None


def _as_bgr(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return image


class CameraSource(FrameSource):
    """A camera by index. A few failed reads in a row after frames arrived = `SourceLost`.

    `capture` lets tests (or other backends) pass an object with the `cv2.VideoCapture`
    methods isOpened/read/get/release instead of opening a device.
    """

    kind = "camera"
    live = True

    def __init__(self, index: int = 0, capture: Any | None = None, retries: int = 3,
                 retry_wait_s: float = 0.02):
        super().__init__()
        self.index = int(index)
        self.retries, self.retry_wait_s = retries, retry_wait_s
        self._cap = capture if capture is not None else _open_camera(self.index)
        if not self._cap.isOpened():
            self._cap.release()
            found = list_cameras()
            hint = f"cameras found: {', '.join(map(str, found))}" if found else "no camera was found"
            raise SourceUnavailable(f"cannot open camera {self.index} ({hint})")
        self.fps = _positive(self._cap.get(cv2.CAP_PROP_FPS))

    @property
    def description(self) -> str:
        return f"camera {self.index}"

    def _grab(self) -> tuple[np.ndarray, str]:
        for attempt in range(self.retries):
            ok, image = self._cap.read()
            if ok and image is not None and image.size:
                return _as_bgr(image), ""
            time.sleep(self.retry_wait_s * (attempt + 1))
        if self._index == 0:
            raise SourceUnavailable(f"camera {self.index} opened but delivers no frames "
                                    "(in use by another program, or no permission?)")
        raise SourceLost(f"camera {self.index} stopped delivering frames after {self._index} "
                         "frames (unplugged or taken by another program?)")

    def close(self) -> None:
        self._cap.release()


def _open_camera(index: int) -> cv2.VideoCapture:
    backend = cv2.CAP_V4L2 if sys.platform.startswith("linux") else cv2.CAP_ANY
    return cv2.VideoCapture(index, backend)


def list_cameras(max_index: int = 4) -> list[int]:
    """Indices of the cameras that open and deliver a frame, probing 0..max_index-1.

    On Linux only indices with a /dev/videoN node are probed, so a machine without a
    camera answers at once.
    """
    if sys.platform.startswith("linux"):
        candidates = [i for i in range(max_index) if os.path.exists(f"/dev/video{i}")]
    else:
        candidates = list(range(max_index))
    found = []
    previous = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    try:
        for i in candidates:
            cap = _open_camera(i)
            try:
                if cap.isOpened() and cap.read()[0]:
                    found.append(i)
            finally:
                cap.release()
    finally:
        cv2.utils.logging.setLogLevel(previous)
    return found


class VideoSource(FrameSource):
    """A video file; opening reads the first frame so an undecodable file fails at once."""

    kind = "video"

    def __init__(self, path: str | Path):
        super().__init__()
        self.path = Path(path)
        if not self.path.is_file():
            raise SourceUnavailable(f"video file not found: {self.path}")
        try:
            self._reader = VideoReader(self.path)  # any file name (OpenCV crashes on non-UTF-8 ones)
        except OSError as e:
            raise SourceUnavailable(printable(f"cannot open video file {self.path}: {e.strerror or e}")) from None
        self._cap = self._reader.capture
        ok, first = self._cap.read() if self._cap.isOpened() else (False, None)
        if not ok or first is None:
            self._reader.release()
            raise SourceUnavailable(printable(f"cannot read video file {self.path}: not a video OpenCV can decode"))
        self._pending: np.ndarray | None = first
        self.fps = _positive(self._cap.get(cv2.CAP_PROP_FPS))
        count = _positive(self._cap.get(cv2.CAP_PROP_FRAME_COUNT))
        self.frame_count = int(count) if count else None

    @property
    def description(self) -> str:
        return f"video {self.path.name}"

    def _grab(self) -> tuple[np.ndarray, str]:
        if self._pending is not None:
            image, self._pending = self._pending, None
            return _as_bgr(image), ""
        ok, image = self._cap.read()
        if not ok or image is None:
            raise SourceEnded(f"video {self.path.name} ended after {self._index} frames")
        return _as_bgr(image), ""

    def close(self) -> None:
        self._reader.release()


class ImageSequenceSource(FrameSource):
    """Image files played in name order (one file = a sequence of one).

    Files that cannot be decoded are skipped and listed in `skipped` (path, reason);
    a sequence where no file at all can be read raises `SourceUnavailable`.
    """

    kind = "images"
    fps = 2.0  # shown for half a second each when played in real time (and in a recorded video)

    def __init__(self, path: str | Path):
        super().__init__()
        self.path = Path(path)
        if self.path.is_dir():
            self.files = sorted(p for p in self.path.iterdir() if p.is_file() and is_image_name(p.name))
            if not self.files:
                raise SourceUnavailable(f"no image files in folder {self.path}")
        elif self.path.is_file():
            self.files = [self.path]
        else:
            raise SourceUnavailable(f"no such file or folder: {self.path}")
        self.frame_count = len(self.files)
        self.skipped: list[tuple[Path, str]] = []
        self._pos = 0

    @property
    def description(self) -> str:
        return f"images in {self.path.name}" if self.path.is_dir() else f"image {self.path.name}"

    def _grab(self) -> tuple[np.ndarray, str]:
        while self._pos < len(self.files):
            path = self.files[self._pos]
            self._pos += 1
            try:
                return read_bgr(path), path.name
            except ImageDecodeError as e:  # truncated, corrupt, not an image: listed, as training does
                self.skipped.append((path, e.reason))
        if self.skipped and len(self.skipped) == len(self.files):
            names = ", ".join(p.name for p, _ in self.skipped[:3])
            raise SourceUnavailable(printable(f"none of the images in {self.path} can be read ({names} ...)"))
        raise SourceEnded(f"{self.description}: all {len(self.files)} images shown")


#: Source kinds by name, for choosers and the CLI: name -> (title, factory(str spec)).
SOURCE_KINDS: dict[str, tuple[str, Callable[[str], FrameSource]]] = {
    "camera": ("Camera", lambda spec: CameraSource(int(spec))),
    "video": ("Video file", VideoSource),
    "images": ("Image folder", ImageSequenceSource),
}


def open_source(spec: str | int | Path, kind: str | None = None) -> FrameSource:
    """A source from a camera index, a video file, an image file or a folder of images.

    `kind` forces one of SOURCE_KINDS; otherwise a number is a camera, a folder or an
    image file is an image sequence, and any other file is a video.
    """
    text = str(spec).strip()
    if kind is None:
        path = Path(text)
        if text.isdigit() and not path.exists():
            kind = "camera"
        elif path.is_dir() or is_image_name(path.name):
            kind = "images"
        elif path.is_file():
            kind = "video"
        else:
            raise SourceUnavailable(f"no such file or folder: {text}")
    if kind not in SOURCE_KINDS:
        raise SourceUnavailable(f"unknown source kind {kind!r}; one of {', '.join(SOURCE_KINDS)}")
    if kind == "camera" and not text.isdigit():
        raise SourceUnavailable(f"a camera is chosen by its index (0, 1, ...), got {text!r}")
    return SOURCE_KINDS[kind][1](text)
