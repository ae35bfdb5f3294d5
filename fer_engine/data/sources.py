"""Faces by their `DatasetArrays.sources` entry: an image path, or "<file.csv>#<line>" for CSV rows.

Used where one face is shown outside a loaded dataset (report thumbnails, galleries): CSV
rows are found through a cached index of line offsets, so any row is read with one seek.
"""
from __future__ import annotations

import functools
import os
import re

import numpy as np

from .errors import DatasetError
from .fer_csv import parse_pixel_row
from .images import decode_image

_CSV_SOURCE = re.compile(r"^(?P<path>.+\.csv)#(?P<line>\d+)$", re.IGNORECASE)
_CROP_SOURCE = re.compile(r"^(?P<path>.+)#crop=(?P<box>-?\d+,-?\d+,-?\d+,-?\d+)$")


def crop_source(path: str, box: tuple[int, int, int, int]) -> str:
    """The source string of the face at `box` (left, top, right, bottom) of the photo `path`."""
    return f"{path}#crop={','.join(str(int(v)) for v in box)}"


def load_face(source: str, size: int, channels: int) -> np.ndarray:
    """The (size, size, channels) uint8 face behind a dataset source string."""
    crop = _CROP_SOURCE.match(source)
    if crop is not None and not os.path.isfile(source):
        x, y, w, h = (int(v) for v in crop["box"].split(","))
        box = (x, y, w, h)
        return decode_image(crop["path"], size, channels, box=box)
    m = _CSV_SOURCE.match(source)
    if m is None or not os.path.isfile(m["path"]):
        return decode_image(source, size, channels)
    path, line = m["path"], int(m["line"])
    st = os.stat(path)
    offsets = _line_offsets(path, st.st_size, st.st_mtime_ns)
    if not 1 <= line < len(offsets):
        raise DatasetError(f"{path} has no line {line}")
    with open(path, "rb") as f:
        f.seek(offsets[line - 1])
        text = f.read(offsets[line] - offsets[line - 1]).decode("utf-8", "replace")
    with open(path, encoding="utf-8-sig") as f:
        header = f.readline()
    return decode_image(parse_pixel_row(path, header, text, line), size, channels)


@functools.lru_cache(maxsize=4)
def _line_offsets(path: str, size: int, mtime_ns: int) -> np.ndarray:
    """Byte offset of the start of every line (1-based line n starts at offsets[n - 1])."""
    data = np.fromfile(path, np.uint8)
    ends = np.flatnonzero(data == ord("\n")) + 1
    return np.concatenate([[0], ends, [] if len(ends) and ends[-1] == size else [size]]).astype(np.int64)
