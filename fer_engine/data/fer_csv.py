"""The FER2013 CSV (`emotion,pixels,Usage`): rows of space-separated 48x48 gray pixels.

Usage maps Training -> train, PublicTest -> val, PrivateTest -> test; without a Usage column
the rows are split stratified like a folder of class folders. Malformed rows are an error
that names their line numbers (a CSV is one file: nothing is silently dropped).
"""
from __future__ import annotations

import csv
import math
import sys
import warnings
from pathlib import Path

import numpy as np

from ..classes import FER2013_CLASSES
from .cache import RawDataset
from ..progress import ProgressFn, StopFn, check_stop, report_progress
from .errors import DatasetError
from .images import ImageDecodeError, decode_image
from .layouts import SPLIT_ALL, SPLIT_NONE, SPLITS, UNASSIGNED
from .memory import ensure_fits

USAGE_SPLITS = {"training": "train", "train": "train", "publictest": "val", "val": "val",
                "validation": "val", "privatetest": "test", "test": "test"}
_LABEL_COLUMNS = ("emotion", "label", "class")
_ROWS_PER_BATCH = 2048
_MAX_LISTED = 5


def read_fer_csv(path: Path, size: int, channels: int, progress: ProgressFn | None = None,
                 should_stop: StopFn | None = None) -> RawDataset:
    """Every row of a FER2013-style CSV decoded to (size, size, channels) uint8."""
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    total = max(1, path.stat().st_size)
    images, classes, splits, sources, errors = [], [], [], [], []
    side = 0
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            read = [0]  # characters read so far: progress (tell() is unavailable while iterating)
            reader = csv.reader(_counting(f, read))
            label_col, pixel_col, usage_col = _columns(path, next(reader, None))
            for row in reader:
                line = reader.line_num
                if not row or not any(cell.strip() for cell in row):
                    continue
                try:
                    pixels, label, split = _parse_row(row, label_col, pixel_col, usage_col, side)
                except ValueError as e:
                    errors.append(f"line {line}: {e}")
                    continue
                side = side or math.isqrt(pixels.size)
                images.append(pixels)
                classes.append(label)
                splits.append(split)
                sources.append(f"{path}#{line}")
                if len(images) % _ROWS_PER_BATCH == 0:
                    check_stop(should_stop)
                    report_progress(progress, min(0.99, read[0] / total), f"reading {path.name}: {len(images)} rows")
    except UnicodeDecodeError as e:
        raise DatasetError(f"{path}: not a UTF-8 text CSV ({e.reason} at byte {e.start})") from None
    except csv.Error as e:
        raise DatasetError(f"{path}: malformed CSV near line {reader.line_num}: {e}") from None
    if errors:
        listed = "; ".join(errors[:_MAX_LISTED]) + ("; ..." if len(errors) > _MAX_LISTED else "")
        raise DatasetError(f"{path}: {len(errors)} malformed row(s): {listed}")
    if not images:
        raise DatasetError(f"{path}: the CSV has a header but no rows")
    ensure_fits(len(images), size, channels, str(path))
    faces = _to_faces(np.stack(images), side, size, channels, should_stop)
    notes = [f"FER2013 CSV, {len(images)} rows of {side}x{side} pixels"]
    if usage_col is not None:
        notes.append("CSV Usage: Training -> train, PublicTest -> val, PrivateTest -> test")
    else:
        notes.append("CSV without a Usage column: stratified train/val/test split")
    return RawDataset(images=faces, classes=np.asarray(classes, np.int64), splits=np.asarray(splits, np.int64),
                      sources=sources, layout="fer2013_csv",
                      split_rule=SPLIT_NONE if usage_col is not None else SPLIT_ALL, notes=notes)


def _counting(lines, read: list[int]):
    for text in lines:
        read[0] += len(text)
        yield text


def parse_pixel_row(path: Path | str, header_line: str, line_text: str, line: int) -> np.ndarray:
    """The (side, side) uint8 face of one CSV line (given the header line); DatasetError if malformed."""
    label_col, pixel_col, usage_col = _columns(path, next(csv.reader([header_line]), None))
    row = next(csv.reader([line_text]), [])
    try:
        pixels = _parse_row(row, label_col, pixel_col, usage_col, 0)[0]
    except ValueError as e:
        raise DatasetError(f"{path}: line {line}: {e}") from None
    side = math.isqrt(pixels.size)
    return pixels.reshape(side, side)


def _columns(path: Path | str, header: list[str] | None) -> tuple[int, int, int | None]:
    if header is None:
        raise DatasetError(f"{path}: empty file (expected the FER2013 columns emotion,pixels,Usage)")
    names = [h.strip().lower() for h in header]
    label = next((names.index(n) for n in _LABEL_COLUMNS if n in names), None)
    if "pixels" not in names or label is None:
        raise DatasetError(f"{path}: line 1 must name the columns emotion,pixels[,Usage]; found {','.join(header)}")
    return label, names.index("pixels"), names.index("usage") if "usage" in names else None


def _parse_row(row: list[str], label_col: int, pixel_col: int, usage_col: int | None,
               side: int) -> tuple[np.ndarray, int, int]:
    """(pixels as uint8, label, split code); ValueError says what is wrong with the row."""
    needed = max(label_col, pixel_col, usage_col or 0) + 1
    if len(row) < needed:
        raise ValueError(f"{len(row)} column(s), expected {needed}")
    text = row[label_col].strip()
    if not text.lstrip("-").isdigit():
        raise ValueError(f"emotion {text!r} is not an integer")
    label = int(text)
    if not 0 <= label < len(FER2013_CLASSES):
        raise ValueError(f"emotion {label} out of range 0-{len(FER2013_CLASSES) - 1}")
    split = UNASSIGNED
    if usage_col is not None:
        usage = row[usage_col].strip()
        if usage.lower() not in USAGE_SPLITS:
            raise ValueError(f"Usage {usage!r} is not Training, PublicTest or PrivateTest")
        split = SPLITS.index(USAGE_SPLITS[usage.lower()])
    text = row[pixel_col]
    pixels = _parse_pixels(text)
    n = pixels.size
    expected = side * side if side else (n if n and math.isqrt(n) ** 2 == n else -1)
    if n != expected:
        bad = next((t for t in text.split() if not t.lstrip("-").isdigit()), None)
        if bad is not None:
            raise ValueError(f"pixel value {bad[:20]!r} is not an integer")
        if side:
            raise ValueError(f"{n} pixel values, expected {side * side} ({side}x{side})")
        raise ValueError(f"{n} pixel values, not a square image")
    if pixels.min() < 0 or pixels.max() > 255:
        raise ValueError("pixel values must lie in 0-255")
    return pixels.astype(np.uint8), label, split


def _parse_pixels(text: str) -> np.ndarray:
    """Space-separated integers (fast path); a bad token gives an empty or short array."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            return np.fromstring(text, dtype=np.int32, sep=" ")
        except ValueError:  # newer numpy refuses unparsable text instead of stopping early
            return np.zeros(0, np.int32)


def _to_faces(pixels: np.ndarray, side: int, size: int, channels: int, should_stop: StopFn | None) -> np.ndarray:
    """(N, side*side) gray rows as (N, size, size, channels), through the shared decode_image."""
    n = len(pixels)
    squares = pixels.reshape(n, side, side)
    if side == size and channels == 1:
        return squares[..., None].copy()
    out = np.empty((n, size, size, channels), np.uint8)
    for i in range(n):
        if i % _ROWS_PER_BATCH == 0:
            check_stop(should_stop)
        try:
            out[i] = decode_image(squares[i], size, channels)
        except ImageDecodeError as e:  # cannot happen for valid gray squares; keep the message
            raise DatasetError(str(e)) from None
    return out
