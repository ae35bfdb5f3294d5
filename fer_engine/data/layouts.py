"""Finding the faces of a folder dataset: which layout it is, which class and split each file has.

Accepted layouts (class folders are matched to canonical classes through aliases):
- split folders: `train/`, optional `val/`, optional `test/`, each holding class folders;
- Kaggle FER2013 folders: `train/` + `test/` whose files are `PublicTest_*` (-> val) and
  `PrivateTest_*` (-> test);
- class folders: one folder per class, split later (stratified, seeded).
Class folders named by digits (RAF-DB's `1..7`, AffectNet's `0..7` copies) mean nothing without
the dataset's numbering: they need `label_map` (see `label_maps`).
The dataset formats with label files (FERPlus, RAF-DB, AffectNet, CK+, JAFFE, ExpW) live in
`formats/` and fill the same `Listing`.
Scanning follows symbolic links but visits each real folder once, so link loops cannot hang it.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ..classes import CANONICAL_CLASSES, UnknownClassError, canonical_name, canonicalize
from .errors import DatasetError
from .images import is_image_name

SPLITS = ("train", "val", "test")
UNASSIGNED = -1  # split code of a file that the stratified split places later
_SPLIT_ALIASES = {
    "train": "train", "training": "train",
    "val": "val", "valid": "val", "validation": "val", "dev": "val",
    "test": "test", "testing": "test",
}
_KAGGLE_PREFIXES = {"publictest_": "val", "privatetest_": "test"}

#: How the loader completes the splits of a listing after decoding.
SPLIT_NONE, SPLIT_ALL, SPLIT_VAL_FROM_TRAIN = "none", "all", "val_from_train"


@dataclass
class Listing:
    """The image files of a folder dataset and where each belongs, before decoding."""

    root: Path
    layout: str  # "split_folders", "kaggle_fer2013", "class_folders" or a format name
    files: list[str] = field(default_factory=list)
    classes: list[int] = field(default_factory=list)  # canonical class index per file
    splits: list[int] = field(default_factory=list)  # index into SPLITS, or UNASSIGNED
    notes: list[str] = field(default_factory=list)
    split_rule: str = SPLIT_NONE
    groups: list[str] = field(default_factory=list)  # subject id per file ("" = unknown)
    boxes: list[tuple[int, int, int, int] | None] = field(default_factory=list)  # face crop (l, t, r, b)
    votes: list[tuple[float, ...] | None] = field(default_factory=list)  # per file, over CANONICAL_CLASSES
    pixel_csv: str = ""  # files are "<csv>#<line>" rows of this FER2013 CSV (FERPlus)
    label_map: list[str] = field(default_factory=list)  # the map used, as the report prints it
    dropped: dict[str, int] = field(default_factory=dict)  # reason -> faces left out

    def add(self, files: list[str], class_index: int, split: int, group: str = "",
            box: tuple[int, int, int, int] | None = None, votes: tuple[float, ...] | None = None) -> None:
        self.files.extend(files)
        self.classes.extend([class_index] * len(files))
        self.splits.extend([split] * len(files))
        self.groups.extend([group] * len(files))
        self.boxes.extend([box] * len(files))
        self.votes.extend([votes] * len(files))

    def drop(self, reason: str, n: int = 1) -> None:
        self.dropped[reason] = self.dropped.get(reason, 0) + n


def scan_folder(root: Path, label_map: str = "") -> Listing:
    """The listing of a dataset folder; `DatasetError` when it holds no usable layout.

    `label_map` names the numbering of digit-named class folders (e.g. "rafdb")."""
    root = Path(root)
    subdirs, loose = _entries(root)
    split_dirs: dict[str, str] = {}
    for d in subdirs:
        split = _SPLIT_ALIASES.get(d.lower())
        if split is None:
            continue
        if split in split_dirs:
            raise DatasetError(f"{root}: both {split_dirs[split]}/ and {d}/ look like the {split} split; keep one")
        split_dirs[split] = d
    if split_dirs:
        listing = _scan_splits(root, split_dirs, [d for d in subdirs if d not in split_dirs.values()], label_map)
    elif subdirs:
        listing = Listing(root, "class_folders", split_rule=SPLIT_ALL)
        _scan_classes(root, listing, UNASSIGNED, label_map)
        listing.notes.append("one folder of class folders: stratified train/val/test split")
    elif loose:
        raise DatasetError(
            f"{root} holds images but no class folders: put them in train/<class>/ (and val/, test/) "
            f"or in one folder per class such as angry/ and happy/")
    else:
        raise DatasetError(f"{root} holds no images and no class folders")
    if not listing.files:
        raise DatasetError(f"{root} holds no image files (jpg, png, bmp, tif, webp, ...)")
    return listing


def _scan_splits(root: Path, split_dirs: dict[str, str], others: list[str], label_map: str) -> Listing:
    kaggle = _is_kaggle_test(root / split_dirs["test"]) if "test" in split_dirs and "val" not in split_dirs else None
    listing = Listing(root, "kaggle_fer2013" if kaggle else "split_folders")
    for split in SPLITS:
        if split in split_dirs:
            _scan_classes(root / split_dirs[split], listing, SPLITS.index(split), label_map)
    if kaggle:
        for i, f in enumerate(listing.files):
            if listing.splits[i] == SPLITS.index("test"):
                listing.splits[i] = SPLITS.index(_kaggle_split(f))
        listing.notes.append(f"Kaggle FER2013 layout: {split_dirs['test']}/PublicTest_* used as "
                             f"validation, {split_dirs['test']}/PrivateTest_* as test")
    elif "train" in split_dirs and "val" not in split_dirs:
        listing.split_rule = SPLIT_VAL_FROM_TRAIN
        listing.notes.append("no val/ folder: a stratified validation split is carved from train/")
    if others:
        listing.notes.append(f"ignored folders beside the split folders: {', '.join(others)}")
    return listing


def _kaggle_split(path: str) -> str | None:
    """"val" for PublicTest_*, "test" for PrivateTest_*, else None."""
    name = os.path.basename(path).lower()
    return next((split for prefix, split in _KAGGLE_PREFIXES.items() if name.startswith(prefix)), None)


def _is_kaggle_test(test_dir: Path) -> bool:
    """Every test file is PublicTest_* or PrivateTest_*, and both kinds are present."""
    seen = set()
    for class_dir in _entries(test_dir)[0]:
        for f in _walk_images(test_dir / class_dir)[0]:
            split = _kaggle_split(f)
            if split is None:
                return False
            seen.add(split)
    return seen == set(_KAGGLE_PREFIXES.values())


def _scan_classes(folder: Path, listing: Listing, split: int, label_map: str = "") -> None:
    """Add the files of each class folder in `folder`; unknown or empty class folders are errors."""
    class_dirs, loose = _entries(folder)
    if not class_dirs:
        raise DatasetError(f"{folder} has no class folders (expected e.g. angry/, happy/, neutral/)")
    mapping = _class_mapping(folder, class_dirs, label_map, listing)
    ignored = 0
    by_class: dict[str, list[str]] = {}
    for d in class_dirs:
        files, n_other = _walk_images(folder / d)
        ignored += n_other
        if not files:
            raise DatasetError(f"class folder {folder / d} holds no images")
        if mapping[d] in by_class:
            listing.notes.append(f"{folder.name}/: {d}/ merged with another folder of class {mapping[d]}")
        by_class.setdefault(mapping[d], []).extend(files)
    for name, files in by_class.items():
        listing.add(sorted(files), CANONICAL_CLASSES.index(name), split)
    if loose:
        listing.notes.append(f"{folder.name}/: {len(loose)} image(s) outside class folders ignored")
    if ignored:
        listing.notes.append(f"{folder.name}/: {ignored} non-image file(s) ignored")


def _class_mapping(folder: Path, class_dirs: list[str], label_map: str, listing: Listing) -> dict[str, str]:
    """Folder name -> canonical class: digit names through `label_map`, others by name."""
    from .label_maps import get_label_map

    digits = [d for d in class_dirs if d.isdigit()]
    if digits and not label_map:
        raise DatasetError(f"{folder}: class folders named by numbers ({', '.join(digits)}) need data.label_map "
                           f"to say whose numbering they use (fer2013: 0 angry..6 neutral; rafdb: 1 surprise.."
                           f"7 neutral; affectnet: 0 neutral..7 contempt; ckplus)")
    mapping = {}
    if digits:
        lm = get_label_map(label_map)
        for d in digits:
            name = lm.lookup(int(d), f"{folder / d}")
            if name is None:
                raise DatasetError(f"{folder / d}: {lm.title} label {d} carries no expression; remove the folder")
            mapping[d] = name
        if not listing.label_map:
            listing.label_map = lm.describe()
    try:
        mapping.update(canonicalize([d for d in class_dirs if d not in mapping]))
    except UnknownClassError as e:
        raise DatasetError(f"{folder}: {e}{_nested_hint(folder, e.names)}") from None
    return mapping


def _nested_hint(folder: Path, unknown: list[str]) -> str:
    """"; did you mean <folder>/<name>?" when an unknown folder itself holds a dataset layout."""
    for name in unknown:
        inner = _entries(folder / name)[0]
        if any(d.lower() in _SPLIT_ALIASES or canonical_name(d) for d in inner):
            return f"; did you mean the dataset folder {folder / name}?"
    return ""


def _entries(folder: Path) -> tuple[list[str], list[str]]:
    """(visible subfolder names, image file names) directly in folder, sorted."""
    try:
        with os.scandir(folder) as it:
            entries = [e for e in it if not e.name.startswith((".", "__MACOSX"))]
    except FileNotFoundError:
        raise DatasetError(f"dataset folder not found: {folder}") from None
    except NotADirectoryError:
        raise DatasetError(f"not a folder: {folder}") from None
    except OSError as e:
        raise DatasetError(f"cannot read folder {folder}: {e.strerror or e}") from None
    dirs = sorted(e.name for e in entries if _is_dir(e))
    files = sorted(e.name for e in entries if not _is_dir(e) and is_image_name(e.name))
    return dirs, files


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()  # follows links; a looping link is not a folder
    except OSError:
        return False


def _walk_images(folder: Path) -> tuple[list[str], int]:
    """Image paths under folder (recursive) and the count of other files.

    Links are followed, but a folder is visited once and never when it is an ancestor of
    `folder` (a link back up would loop, or pull other classes in under this label).
    """
    images, other = [], 0
    seen = {_identity(p) for p in Path(os.path.realpath(folder)).parents}
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        key = _identity(dirpath)
        if key is None or key in seen:
            dirnames[:] = []
            continue
        seen.add(key)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            if is_image_name(name):
                images.append(os.path.join(dirpath, name))
            elif not name.startswith("."):
                other += 1
    return images, other


def _identity(path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino
