"""OpenCV file access for any file name.

OpenCV's file functions take the name as UTF-8 text, and a name that is not valid UTF-8
(Linux allows any bytes; Python hands them over as lone surrogates) crashes the process
(SIGSEGV) inside `imread`, `imwrite`, `VideoCapture` and `VideoWriter`. So images are
encoded/decoded in memory and written through Python's file functions; videos with such a
name are opened through `/proc/self/fd/N` (read) or written under a plain temp name and
renamed (write); where neither works the name is refused with a message.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import cv2
import numpy as np

from ..data.errors import printable
from ..data.images import read_rgb
from ..utils.atomic import atomic_write_bytes


def cv_safe(path: str | os.PathLike) -> bool:
    """True when OpenCV can take this name as it is (valid UTF-8)."""
    try:
        os.fspath(path).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def read_bgr(path: str | os.PathLike) -> np.ndarray:
    """An image file as a BGR array, decoded like the training data (truncated or corrupt
    files raise ImageDecodeError with the reason instead of decoding to grey)."""
    return cv2.cvtColor(read_rgb(path), cv2.COLOR_RGB2BGR)


def write_image(path: str | os.PathLike, image: np.ndarray) -> None:
    """Encode by the file's suffix and write atomically (OSError/ValueError name the file)."""
    path = Path(path)
    ok, buf = cv2.imencode(path.suffix or ".png", image)
    if not ok:
        raise ValueError(f"cannot encode an image as {path.suffix or '.png'}: {path}")
    atomic_write_bytes(path, buf.tobytes())


class VideoReader:
    """`cv2.VideoCapture` of a file whose name may not be valid UTF-8."""

    def __init__(self, path: str | os.PathLike):
        self._fd: int | None = None
        name = os.fspath(path)
        if not cv_safe(name):
            if not os.path.isdir("/proc/self/fd"):
                raise OSError(printable(f"cannot open a video whose name is not valid UTF-8 on this "
                                        f"system; rename it: {name}"))
            self._fd = os.open(name, os.O_RDONLY)
            name = f"/proc/self/fd/{self._fd}"
        self.capture = cv2.VideoCapture(name)

    def release(self) -> None:
        self.capture.release()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def video_writer(path: Path, fourcc: int, fps: float, size: tuple[int, int]) -> tuple[cv2.VideoWriter, Path]:
    """(writer, the file it writes): `path` itself, or a plain temp name beside it to be
    renamed to `path` once the writer is released (see `finish_video`)."""
    target = path
    if not cv_safe(path):
        folder = path.parent if cv_safe(path.parent) else None  # else the system's temp folder
        fd, tmp = tempfile.mkstemp(prefix=".recording-", suffix=path.suffix, dir=folder)
        os.close(fd)
        target = Path(tmp)
    return cv2.VideoWriter(str(target), fourcc, fps, size), target


def finish_video(written: Path, path: Path) -> None:
    """Move a video written under a temp name to its real name."""
    if written != path:
        shutil.move(written, path)
