"""Stand-ins for OpenCV captures (an unplugged camera) in the live tests."""
from __future__ import annotations

import numpy as np


class FakeCapture:
    """A cv2.VideoCapture look-alike delivering `frames` frames, then failing every read."""

    def __init__(self, frames: int = 3, opened: bool = True, shape=(120, 160, 3)):
        self.left, self.opened, self.shape = frames, opened, shape
        self.released = False

    def isOpened(self) -> bool:  # noqa: N802 - OpenCV's name
        return self.opened

    def read(self):
        if self.left <= 0:
            return False, None
        self.left -= 1
        return True, np.full(self.shape, 128, np.uint8)

    def get(self, prop) -> float:
        return 30.0

    def release(self) -> None:
        self.released = True
