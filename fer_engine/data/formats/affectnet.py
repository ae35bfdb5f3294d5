"""AffectNet: the manual annotation CSVs (`training.csv`, `validation.csv`, columns
subDirectory_filePath, face_x, face_y, face_width, face_height, facial_landmarks, expression,
valence, arousal) beside `Manually_Annotated_Images/`; faces are cropped by their boxes.
Expressions 0-7 in AffectNet's order; 8 none, 9 uncertain, 10 no-face are dropped and counted.
AffectNet's test set is not public: its validation set is the test split papers report on, and
validation is carved from training. Folder-per-class copies are read as folders
(digit names with data.label_map=affectnet).
"""
from __future__ import annotations

import csv
from pathlib import Path

from ...classes import CANONICAL_CLASSES
from ...config import DataConfig
from ..errors import DatasetError
from ..label_maps import AFFECTNET
from ..layouts import SPLIT_VAL_FROM_TRAIN, SPLITS, Listing
from .registry import dataset_format, missing_images_error, read_lines

CSV_SPLITS = {"training.csv": "train", "validation.csv": "test"}
_LIST_DIRS = (".", "Manually_Annotated_file_lists")
_IMAGE_DIRS = ("Manually_Annotated_Images", "Manually_Annotated/Manually_Annotated_Images", ".")
_COLUMNS = ("subdirectory_filepath", "face_x", "face_y", "face_width", "face_height", "expression")


def _csvs(root: Path) -> dict[str, Path]:
    found = {}
    for d in _LIST_DIRS:
        for name in CSV_SPLITS:
            p = root / d / name
            if name not in found and p.is_file():
                found[name] = p
    return found


def _detect(source: Path) -> bool:
    if not source.is_dir():
        return False
    for p in _csvs(source).values():
        with open(p, encoding="utf-8-sig", errors="replace") as f:
            if f.readline().strip().lower().startswith("subdirectory_filepath"):
                return True
    return False


@dataset_format("affectnet", "AffectNet", _detect, label_map="affectnet",
                description="training.csv / validation.csv beside Manually_Annotated_Images/")
def scan_affectnet(root: Path, cfg: DataConfig) -> Listing:
    csvs = _csvs(root)
    if not csvs:
        raise DatasetError(f"AffectNet: label file not found: neither training.csv nor validation.csv in {root} "
                           f"or {root / 'Manually_Annotated_file_lists'}")
    image_root = next((root / d for d in _IMAGE_DIRS if (root / d).is_dir() and d != "."), root)
    listing = Listing(root, "affectnet", split_rule=SPLIT_VAL_FROM_TRAIN, label_map=AFFECTNET.describe())
    for name, path in csvs.items():
        _scan_csv(path, image_root, CSV_SPLITS[name], listing)
    listing.notes.append("AffectNet: " + ", ".join(f"{n} -> {CSV_SPLITS[n]}" for n in csvs)
                         + " (validation carved from training); faces cropped by their boxes")
    return listing


def _scan_csv(path: Path, image_root: Path, split: str, listing: Listing) -> None:
    rows = csv.reader(read_lines(path, "AffectNet"))
    header = [h.strip().lower() for h in next(rows, [])]
    if any(c not in header for c in _COLUMNS):
        raise DatasetError(f"AffectNet: {path} line 1 must name the columns {','.join(_COLUMNS)}")
    col = {c: header.index(c) for c in _COLUMNS}
    missing = []
    for line_no, row in enumerate(rows, 2):
        if not row:
            continue
        where = f"{path} line {line_no}"
        if len(row) < len(header):
            raise DatasetError(f"{where}: {len(row)} column(s), expected {len(header)}")
        cls = AFFECTNET.parse(row[col["expression"]], where)
        if cls is None:
            listing.drop(f"AffectNet expression {int(float(row[col['expression']]))} "
                         f"({AFFECTNET.dropped[int(float(row[col['expression']]))]})")
            continue
        try:
            x, y, w, h = (int(float(row[col[c]])) for c in ("face_x", "face_y", "face_width", "face_height"))
        except ValueError:
            raise DatasetError(f"{where}: the face box must be numbers") from None
        if w <= 0 or h <= 0:
            raise DatasetError(f"{where}: face box {w}x{h} is empty")
        image = image_root / row[col["subdirectory_filepath"]].strip()
        if not image.is_file():
            missing.append((line_no, str(image)))
            continue
        listing.add([str(image)], CANONICAL_CLASSES.index(cls), SPLITS.index(split), box=(x, y, x + w, y + h))
    if missing:
        raise missing_images_error("AffectNet", path, missing)
