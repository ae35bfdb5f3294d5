"""FERPlus: FER2013 re-labelled by 10 annotators per face (Barsoum et al. 2016).

Two forms: `fer2013new.csv` (header Usage,Image name,neutral,...,contempt,unknown,NF; the same
rows in the same order as `fer2013.csv`, which must lie beside it for the pixels; rows without
an image name are faces FERPlus left out) or the generated `FER2013Train/ FER2013Valid/
FER2013Test/` folders of PNGs, each with a header-less `label.csv` (image name, optionally the
face box "(x, y, w, h)", then the 10 votes).

Votes of 1 are discarded as noise; a face whose top vote is unknown or NF is dropped; then by
`data.label_mode` (the paper's modes): majority (the top emotion has more than half of the
votes, else dropped), plurality (the top emotion), probability (the vote distribution is the
training target; the top emotion is the label evaluation uses). Every drop is counted.
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from ...classes import CANONICAL_CLASSES
from ...config import DataConfig, value_problem
from ..errors import DatasetError
from ..layouts import SPLIT_NONE, SPLITS, Listing
from ..label_maps import FERPLUS, FERPLUS_COLUMNS
from .registry import dataset_format, missing_images_error, read_lines

_USAGE = {"training": "train", "publictest": "val", "privatetest": "test"}
_FOLDERS = {"FER2013Train": "train", "FER2013Valid": "val", "FER2013Test": "test"}
#: column of each canonical class in the 10 FERPlus vote columns (-1: FERPlus has none)
_COLUMN = np.array([FERPLUS_COLUMNS.index(next(k for k, v in FERPLUS.classes.items() if v == c))
                    for c in CANONICAL_CLASSES])


def _csv_path(source: Path) -> Path | None:
    if source.is_file():
        return source if source.name.lower() == "fer2013new.csv" else None
    p = source / "fer2013new.csv"
    return p if p.is_file() else None


def _detect(source: Path) -> bool:
    return _csv_path(source) is not None or (source.is_dir() and any((source / d).is_dir() for d in _FOLDERS))


def face_votes(votes: np.ndarray, mode: str) -> tuple[int, tuple[float, ...] | None, str]:
    """(canonical class or -1, the 8 emotion votes in canonical order, drop reason) of one face's
    10 FERPlus votes, by the paper's rules (see module doc)."""
    v = np.where(votes <= 1, 0.0, votes.astype(np.float64))
    if v.sum() <= 0:
        return -1, None, "no vote above 1"
    top = int(np.argmax(v))
    if top >= 8:
        return -1, None, f"top vote {FERPLUS_COLUMNS[top]}"
    if mode == "majority" and v[top] <= 0.5 * v.sum():
        return -1, None, "no majority (the top emotion has half of the votes or fewer)"
    emotions = tuple(float(x) for x in v[_COLUMN])
    return CANONICAL_CLASSES.index(FERPLUS.classes[FERPLUS_COLUMNS[top]]), emotions, ""


def _check_mode(cfg: DataConfig) -> str:
    if problem := value_problem("data.label_mode", cfg.label_mode):
        raise DatasetError(f"data.label_mode {problem}")
    return cfg.label_mode


def _parse_votes(cells: list[str], where: str) -> np.ndarray:
    if len(cells) != 10:
        raise DatasetError(f"{where}: {len(cells)} vote column(s), expected 10 ({','.join(FERPLUS_COLUMNS)})")
    try:
        votes = np.array([float(c) for c in cells])
    except ValueError:
        raise DatasetError(f"{where}: votes must be numbers, got {','.join(cells)}") from None
    if (votes < 0).any() or not np.isfinite(votes).all():
        raise DatasetError(f"{where}: votes must be counts of 0 or more, got {','.join(cells)}")
    return votes


def _add(listing: Listing, source: str, votes: np.ndarray, split: str, mode: str) -> None:
    cls, emotions, reason = face_votes(votes, mode)
    if cls < 0:
        listing.drop(reason)
    else:
        listing.add([source], cls, SPLITS.index(split), votes=emotions)


@dataset_format("ferplus", "FERPlus", _detect, label_map="ferplus",
                description="fer2013new.csv beside fer2013.csv, or FER2013Train/Valid/Test folders with label.csv",
                reads_file=True)
def scan_ferplus(root: Path, cfg: DataConfig) -> Listing:
    mode = _check_mode(cfg)
    csv_path = _csv_path(root)
    listing = _scan_csv(csv_path, mode) if csv_path is not None else _scan_folders(root, mode)
    listing.label_map = FERPLUS.describe()
    listing.notes.append(f"FERPlus votes, label mode {mode}: votes of 1 discarded; faces whose top vote is "
                         f"unknown or NF dropped"
                         + ("; faces without a majority dropped" if mode == "majority" else ""))
    if not listing.files:
        raise DatasetError(f"{root}: FERPlus kept no face (every face was dropped: {listing.dropped})")
    return listing


def _scan_csv(path: Path, mode: str) -> Listing:
    pixels = path.with_name("fer2013.csv")
    if not pixels.is_file():
        raise DatasetError(f"FERPlus: {path.name} holds only votes; FER2013's fer2013.csv must lie beside it "
                           f"for the pixels ({pixels} not found)")
    listing = Listing(path, "ferplus", split_rule=SPLIT_NONE, pixel_csv=str(pixels))
    lines = read_lines(path, "FERPlus")
    rows = list(csv.reader(lines))
    header = [h.strip().lower() for h in rows[0]] if rows else []
    expected = ["usage", "image name", *(c.lower() for c in FERPLUS_COLUMNS)]
    if header[:12] != expected:
        raise DatasetError(f"FERPlus: {path} line 1 must be Usage,Image name,{','.join(FERPLUS_COLUMNS)}")
    for row_index, row in enumerate(rows[1:]):
        where = f"{path} line {row_index + 2}"
        if not row:
            continue
        if len(row) < 12:
            raise DatasetError(f"{where}: {len(row)} column(s), expected 12")
        if not row[1].strip():
            listing.drop("left out by FERPlus (empty Image name)")
            continue
        split = _USAGE.get(row[0].strip().lower())
        if split is None:
            raise DatasetError(f"{where}: Usage {row[0]!r} is not Training, PublicTest or PrivateTest")
        _add(listing, f"{pixels}#row={row_index}", _parse_votes(row[2:12], where), split, mode)
    listing.notes.append(f"pixels from {pixels.name} (row n of {path.name} is row n of {pixels.name}); "
                         f"Training -> train, PublicTest -> val, PrivateTest -> test")
    return listing


def _scan_folders(root: Path, mode: str) -> Listing:
    listing = Listing(root, "ferplus", split_rule=SPLIT_NONE)
    found = [(d, s) for d, s in _FOLDERS.items() if (root / d).is_dir()]
    if "train" not in {s for _, s in found}:
        raise DatasetError(f"FERPlus: {root} has no FER2013Train/ folder")
    for folder, split in found:
        label_file = root / folder / "label.csv"
        missing = []
        for line_no, row in enumerate(csv.reader(read_lines(label_file, "FERPlus")), 1):
            if not row:
                continue
            where = f"{label_file} line {line_no}"
            has_box = len(row) == 12 and row[1].strip().startswith("(")
            image = root / folder / row[0].strip()
            votes = _parse_votes(row[2:] if has_box else row[1:], where)
            if not image.is_file():
                missing.append((line_no, str(image)))
                continue
            _add(listing, str(image), votes, split, mode)
        if missing:
            raise missing_images_error("FERPlus", label_file, missing)
    listing.notes.append("FERPlus folders: " + ", ".join(f"{d}/ -> {s}" for d, s in found))
    return listing
