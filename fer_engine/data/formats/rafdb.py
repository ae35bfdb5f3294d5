"""RAF-DB basic: `EmoLabel/list_patition_label.txt` (lines `train_00001.jpg 5`, labels 1-7 in
RAF-DB's order) with images in `Image/aligned/<stem>_aligned.jpg` (100x100, preferred) or
`Image/original/<name>`; the `train_`/`test_` prefix gives the split (validation is carved
from train). Copies as `train/1..7/` digit folders are read as folders with data.label_map=rafdb.
"""
from __future__ import annotations

from pathlib import Path

from ...classes import CANONICAL_CLASSES
from ...config import DataConfig
from ..errors import DatasetError
from ..label_maps import RAFDB
from ..layouts import SPLIT_VAL_FROM_TRAIN, SPLITS, Listing
from .registry import dataset_format, missing_images_error, read_lines

LABEL_FILE = Path("EmoLabel") / "list_patition_label.txt"


def _detect(source: Path) -> bool:
    return source.is_dir() and (source / "EmoLabel").is_dir()


@dataset_format("rafdb", "RAF-DB basic", _detect, label_map="rafdb",
                description="EmoLabel/list_patition_label.txt with Image/aligned/ or Image/original/")
def scan_rafdb(root: Path, cfg: DataConfig) -> Listing:
    label_file = root / LABEL_FILE
    lines = read_lines(label_file, "RAF-DB")
    aligned = (root / "Image" / "aligned").is_dir()
    image_dir = root / "Image" / ("aligned" if aligned else "original")
    if not image_dir.is_dir():
        raise DatasetError(f"RAF-DB: {root} has neither Image/aligned/ nor Image/original/")
    listing = Listing(root, "rafdb", split_rule=SPLIT_VAL_FROM_TRAIN, label_map=RAFDB.describe())
    missing = []
    for line_no, line in enumerate(lines, 1):
        parts = line.split()
        if not parts:
            continue
        where = f"{label_file} line {line_no}"
        if len(parts) != 2:
            raise DatasetError(f"{where}: expected '<image name> <label 1-7>', got {line.strip()!r}")
        name, label = parts
        split = "train" if name.startswith("train_") else "test" if name.startswith("test_") else None
        if split is None:
            raise DatasetError(f"{where}: image name {name!r} starts with neither train_ nor test_")
        cls = RAFDB.parse(label, where)
        stem, suffix = name.rsplit(".", 1) if "." in name else (name, "jpg")
        image = image_dir / (f"{stem}_aligned.{suffix}" if aligned else name)
        if not image.is_file():
            missing.append((line_no, str(image)))
            continue
        listing.add([str(image)], CANONICAL_CLASSES.index(cls), SPLITS.index(split))
    if missing:
        raise missing_images_error("RAF-DB", label_file, missing)
    listing.notes.append(f"RAF-DB images from Image/{image_dir.name}/; train_* -> train (validation carved "
                         f"from it), test_* -> test")
    return listing
