"""JAFFE: one folder of `KA.AN1.39.tiff` files (subject.EXPn.id; AN DI FE HA NE SA SU).
Ten subjects pose every expression: splits are made per subject."""
from __future__ import annotations

import re
from pathlib import Path

from ...classes import CANONICAL_CLASSES
from ...config import DataConfig
from ..errors import DatasetError
from ..images import is_image_name
from ..label_maps import JAFFE
from ..layouts import SPLIT_ALL, UNASSIGNED, Listing
from .registry import dataset_format

NAME = re.compile(r"^(?P<subject>[A-Za-z]{2})\.(?P<code>[A-Za-z]{2})\d*\.\d+\.tiff?$")


def _images(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.is_file() and is_image_name(p.name))


def _detect(source: Path) -> bool:
    if not source.is_dir():
        return False
    names = _images(source)
    return bool(names) and all(NAME.match(n) for n in names)


@dataset_format("jaffe", "JAFFE", _detect, label_map="jaffe", description="one folder of KA.AN1.39.tiff files")
def scan_jaffe(root: Path, cfg: DataConfig) -> Listing:
    names = _images(root)
    bad = [n for n in names if not NAME.match(n)]
    if bad or not names:
        raise DatasetError(f"JAFFE: {root}: " + (f"{len(bad)} file name(s) not like KA.AN1.39.tiff: "
                                                 f"{', '.join(bad[:3])}" if bad else "no .tiff images"))
    listing = Listing(root, "jaffe", split_rule=SPLIT_ALL, label_map=JAFFE.describe())
    for n in names:
        m = NAME.match(n)
        assert m is not None  # names were filtered by NAME above
        cls = JAFFE.parse(m["code"], str(root / n))
        listing.add([str(root / n)], CANONICAL_CLASSES.index(cls), UNASSIGNED, group=m["subject"].upper())
    return listing
