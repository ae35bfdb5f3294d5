"""`load_dataset`: any accepted layout -> `DatasetArrays`, through the on-disk cache."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..classes import CANONICAL_CLASSES
from ..config import DataConfig
from . import cache, images
from .arrays import DatasetArrays
from .cache import RawDataset
from .errors import DatasetError, ProgressFn, StopFn, printable, report_progress
from .layouts import SPLITS, Listing, scan_folder
from .parallel import run_batches
from .splits import cap_per_class, complete_splits, stratified_subset

_MAX_LISTED = 3


def load_dataset(cfg: DataConfig, progress: ProgressFn = None, should_stop: StopFn = None) -> DatasetArrays:
    """Every face of `cfg.path` as uint8 arrays with train/val/test splits (see fer_engine.data)."""
    raw = load_raw(cfg.path, cfg.image_size, cfg.channels, cfg.cache_dir, progress, should_stop)
    data = assemble(raw, cfg)
    if cfg.drop_flagged:
        from .flagged import drop_flagged

        data = drop_flagged(data)
    return data


def resolve_source(path: str, cache_folder: str = "", progress: ProgressFn = None,
                   should_stop: StopFn = None) -> Path:
    """The file or folder behind `path` ("demo" is generated into the cache on first use)."""
    if path == "demo":
        from .demo import ensure_demo

        return ensure_demo(cache.cache_dir(cache_folder), progress, should_stop)
    if not str(path).strip():
        raise DatasetError("no dataset path given")
    p = Path(path).expanduser()
    if not p.exists():
        raise DatasetError(f"dataset path not found: {p}")
    return p.resolve()


@dataclass
class SourcePlan:
    """A dataset source resolved and listed, with the fingerprint that keys its caches."""

    path: str  # as given ("demo", a folder, a CSV file)
    source: Path  # the resolved file or folder
    listing: Listing | None  # None for a CSV file
    fingerprint: str

    def cache_path(self, cache_folder: str, what: str, size: int, channels: int) -> Path:
        kind = f"{'csv' if self.listing is None else 'folder'}-{what}"
        return cache.cache_file(cache.cache_dir(cache_folder), self.source, kind, self.fingerprint, size, channels)


def plan_source(path: str, cache_folder: str = "", progress: ProgressFn = None,
                should_stop: StopFn = None) -> SourcePlan:
    """Resolve and list `path`; the fingerprint covers every file's path, size and mtime."""
    source = resolve_source(path, cache_folder, progress, should_stop)
    report_progress(progress, -1, f"scanning {source}")
    if source.is_file():
        return SourcePlan(path, source, None, cache.file_fingerprint([str(source)]))
    listing = scan_folder(source)
    key = cache.file_fingerprint(listing.files, extra=(listing.layout, listing.split_rule,
                                                         listing.classes, listing.splits))
    return SourcePlan(path, source, listing, key)


def load_raw(path: str | SourcePlan, size: int, channels: int, cache_folder: str = "",
             progress: ProgressFn = None, should_stop: StopFn = None) -> RawDataset:
    """The decoded, unsplit dataset: from the cache when the files are unchanged."""
    if channels not in (1, 3):
        raise DatasetError(f"data.channels must be 1 (grayscale) or 3 (RGB), got {channels}")
    if size < 8:
        raise DatasetError(f"data.image_size must be at least 8, got {size}")
    plan = path if isinstance(path, SourcePlan) else plan_source(path, cache_folder, progress, should_stop)
    target = plan.cache_path(cache_folder, "faces", size, channels)
    raw = cache.load(target) if target.exists() else None
    if raw is not None:
        report_progress(progress, 1.0, f"loaded {len(raw.images)} faces from the cache")
        return _with_layout(raw, plan.path)
    if plan.listing is None:
        from .fer_csv import read_fer_csv

        raw = read_fer_csv(plan.source, size, channels, progress, should_stop)
    else:
        raw = _decode_listing(plan.listing, size, channels, progress, should_stop)
    try:
        cache.save(target, raw)
    except OSError as e:  # a read-only or full cache folder only costs speed next time
        raw.notes.append(f"could not write the dataset cache {target}: {e.strerror or e}")
    return _with_layout(raw, plan.path)


def _with_layout(raw: RawDataset, path: str) -> RawDataset:
    if path == "demo":
        raw.layout = "demo"
    return raw


def _decode_listing(listing: Listing, size: int, channels: int, progress: ProgressFn,
                    should_stop: StopFn) -> RawDataset:
    files = listing.files
    faces, bad = decode_files(files, size, channels, progress, should_stop)
    keep = np.ones(len(files), bool)
    keep[[i for i, _ in bad]] = False
    unreadable = [(files[i], reason) for i, reason in bad]
    if not keep.any():
        raise DatasetError(f"{listing.root}: none of its {len(files)} image files could be read "
                           f"({_listed(unreadable)})")
    idx = np.flatnonzero(keep)
    return RawDataset(images=faces[idx] if len(idx) < len(files) else faces,
                      classes=np.asarray(listing.classes, np.int64)[idx],
                      splits=np.asarray(listing.splits, np.int64)[idx],
                      sources=[files[i] for i in idx], layout=listing.layout,
                      split_rule=listing.split_rule, notes=list(listing.notes), unreadable=unreadable)


def decode_files(files: list[str], size: int, channels: int, progress: ProgressFn = None,
                 should_stop: StopFn = None) -> tuple[np.ndarray, list[tuple[int, str]]]:
    """Decode files in parallel threads: (faces, [(index, reason) of unreadable files])."""
    out = np.zeros((len(files), size, size, channels), np.uint8)

    def work(start: int, stop: int) -> list[tuple[int, str]]:
        errors = []
        for i in range(start, stop):
            try:
                out[i] = images.decode_image(files[i], size, channels)
            except images.ImageDecodeError as e:
                errors.append((i, e.reason))
        return errors

    batches = run_batches(len(files), work, "decoding images", progress, should_stop)
    return out, [err for batch in batches for err in batch]


def assemble(raw: RawDataset, cfg: DataConfig) -> DatasetArrays:
    """Remap labels to the classes present, complete the splits, cap training classes."""
    present = sorted({int(c) for c in np.unique(raw.classes)})
    class_names = [CANONICAL_CLASSES[c] for c in present]
    lut = np.full(len(CANONICAL_CLASSES), -1, np.int64)
    lut[present] = np.arange(len(present))
    labels = lut[raw.classes]
    codes, notes = complete_splits(labels, raw.splits, raw.split_rule, cfg.val_fraction,
                                   cfg.test_fraction, cfg.split_seed)
    splits = {name: np.flatnonzero(codes == i) for i, name in enumerate(SPLITS)}
    if 0 < cfg.train_fraction < 1:
        splits["train"] = stratified_subset(splits["train"], labels, cfg.train_fraction, cfg.split_seed)
        notes.append(f"training images: a stratified {cfg.train_fraction:.0%} of each class (seed {cfg.split_seed})")
    if cfg.max_per_class > 0:
        splits["train"] = cap_per_class(splits["train"], labels, cfg.max_per_class, cfg.split_seed)
        notes.append(f"training images capped at {cfg.max_per_class} per class (seed {cfg.split_seed})")
    splits = {k: v for k, v in splits.items() if len(v)}
    images_, sources = raw.images, raw.sources
    used = np.sort(np.concatenate(list(splits.values())))
    if len(used) < len(labels):  # drop faces no split uses (capped away) to save memory
        remap = np.full(len(labels), -1, np.int64)
        remap[used] = np.arange(len(used))
        splits = {k: remap[v] for k, v in splits.items()}
        images_, labels, sources = images_[used], labels[used], [sources[i] for i in used]
    if raw.unreadable:
        notes.append(f"skipped {len(raw.unreadable)} unreadable file(s): {_listed(raw.unreadable)}")
    return DatasetArrays(images=np.ascontiguousarray(images_), labels=labels, class_names=class_names,
                         splits=splits, sources=list(sources), layout=raw.layout,
                         notes=list(raw.notes) + notes, unreadable=list(raw.unreadable))


def _listed(items: list[tuple[str, str]]) -> str:
    text = "; ".join(f"{printable(src)}: {reason}" for src, reason in items[:_MAX_LISTED])
    return text + ("; ..." if len(items) > _MAX_LISTED else "")
