"""The registry of dataset formats: how a dataset on disk is recognised and listed.

Each `DatasetFormat` has a name (what `data.format` takes), a title, a detection function
(does this folder or file look like the format?), a scanner (folder -> `Listing` of faces with
canonical classes, splits, subjects, crop boxes, votes) and the label map it reads labels
through. `detect_format` tries the formats with label files first and the plain folder layouts
last, so a RAF-DB folder is never read as class folders.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ...config import DataConfig
from ..errors import DatasetError
from ..layouts import Listing

DetectFn = Callable[[Path], bool]
ScanFn = Callable[[Path, DataConfig], Listing]


@dataclass(frozen=True)
class DatasetFormat:
    name: str
    title: str
    detect: DetectFn
    scan: ScanFn | None  # None: the source is read whole by its own reader (the FER2013 CSV)
    label_map: str = ""  # name in label_maps.LABEL_MAPS ("" = classes named by folders)
    description: str = ""
    reads_file: bool = False  # its scanner also takes a file (FERPlus' fer2013new.csv), not only a folder


FORMATS: dict[str, DatasetFormat] = {}


def dataset_format(name: str, title: str, detect: DetectFn, label_map: str = "", description: str = "",
                   reads_file: bool = False):
    """Decorator registering a scanner `scan(root, cfg) -> Listing` as format `name`."""
    def wrap(scan: ScanFn) -> ScanFn:
        FORMATS[name] = DatasetFormat(name, title, detect, scan, label_map, description, reads_file)
        return scan
    return wrap


def register(fmt: DatasetFormat) -> None:
    FORMATS[fmt.name] = fmt


def detect_format(source: Path, requested: str = "auto") -> DatasetFormat:
    """The format of `source`: the one requested, else the first whose detection accepts it."""
    if requested and requested != "auto":
        if requested not in FORMATS:
            raise DatasetError(f"unknown data.format {requested!r} (expected auto or one of {', '.join(FORMATS)})")
        return FORMATS[requested]
    for fmt in FORMATS.values():
        if fmt.detect(source):
            return fmt
    raise DatasetError(f"{source}: not a dataset folder or FER2013-style CSV")


def read_lines(path: Path, what: str) -> list[str]:
    """The text lines of a label file; a one-line `DatasetError` when it is missing or unreadable."""
    try:
        return path.read_text(encoding="utf-8-sig", errors="strict").splitlines()
    except FileNotFoundError:
        raise DatasetError(f"{what}: label file not found: {path}") from None
    except UnicodeDecodeError as e:
        raise DatasetError(f"{what}: {path} is not UTF-8 text ({e.reason} at byte {e.start})") from None
    except OSError as e:
        raise DatasetError(f"{what}: cannot read {path}: {e.strerror or e}") from None


def missing_images_error(what: str, label_file: Path, missing: list[tuple[int, str]]) -> DatasetError:
    """One line naming the first listed images that are absent and how many there are."""
    shown = "; ".join(f"line {line}: {path}" for line, path in missing[:3])
    more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
    return DatasetError(f"{what}: {len(missing)} image(s) listed in {label_file} are absent ({shown}{more})")
