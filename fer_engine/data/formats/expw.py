"""ExpW (Expression in-the-Wild): `label/label.lst` lines
`image_name face_id top left right bottom confidence label` (labels in FER2013's order), faces
cropped from the photos in `image/origin/`; several faces may come from one photo."""
from __future__ import annotations

from pathlib import Path

from ...classes import CANONICAL_CLASSES
from ...config import DataConfig
from ..errors import DatasetError
from ..label_maps import EXPW
from ..layouts import SPLIT_ALL, UNASSIGNED, Listing
from .registry import dataset_format, missing_images_error, read_lines

LABEL_FILE = Path("label") / "label.lst"
IMAGE_DIR = Path("image") / "origin"


def _detect(source: Path) -> bool:
    return source.is_dir() and (source / "label").is_dir() and (source / "image").is_dir()


@dataset_format("expw", "ExpW", _detect, label_map="expw", description="label/label.lst with image/origin/")
def scan_expw(root: Path, cfg: DataConfig) -> Listing:
    label_file = root / LABEL_FILE
    lines = read_lines(label_file, "ExpW")
    listing = Listing(root, "expw", split_rule=SPLIT_ALL, label_map=EXPW.describe())
    missing = []
    for line_no, line in enumerate(lines, 1):
        parts = line.split()
        if not parts:
            continue
        where = f"{label_file} line {line_no}"
        if len(parts) != 8:
            raise DatasetError(f"{where}: expected 'image_name face_id top left right bottom confidence label', "
                               f"got {len(parts)} field(s)")
        try:
            top, left, right, bottom = (int(float(v)) for v in parts[2:6])
        except ValueError:
            raise DatasetError(f"{where}: the face box must be numbers, got {' '.join(parts[2:6])}") from None
        if right <= left or bottom <= top:
            raise DatasetError(f"{where}: empty face box (left {left}, right {right}, top {top}, bottom {bottom})")
        cls = EXPW.parse(parts[7], where)
        image = root / IMAGE_DIR / parts[0]
        if not image.is_file():
            missing.append((line_no, str(image)))
            continue
        listing.add([str(image)], CANONICAL_CLASSES.index(cls), UNASSIGNED, box=(left, top, right, bottom))
    if missing:
        raise missing_images_error("ExpW", label_file, missing)
    listing.notes.append("ExpW: faces cropped from image/origin/ by the boxes of label/label.lst")
    return listing
