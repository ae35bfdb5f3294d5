"""`load_dataset`: any accepted layout -> `DatasetArrays`, through the on-disk cache."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..classes import CANONICAL_CLASSES
from ..config import DataConfig, value_problem
from . import cache, images
from .arrays import DatasetArrays
from .cache import RawDataset
from ..progress import ProgressFn, StopFn, report_progress
from .errors import DatasetError, printable
from .label_maps import get_label_map
from .layouts import SPLITS, Listing
from .memory import ensure_fits
from .overrides import apply_overrides
from .parallel import run_batches
from .splits import cap_per_class, complete_splits, stratified_subset, subjects_across_splits

_MAX_LISTED = 3


def load_dataset(cfg: DataConfig, progress: ProgressFn | None = None,
                 should_stop: StopFn | None = None) -> DatasetArrays:
    """Every face of `cfg.path` as uint8 arrays with train/val/test splits (see fer_engine.data)."""
    plan = plan_source(cfg.path, cfg.cache_dir, progress, should_stop, cfg)
    raw = load_raw(plan, cfg.image_size, cfg.channels, cfg.cache_dir, progress, should_stop)
    data = assemble(raw, cfg)
    if cfg.drop_flagged:
        from .flagged import drop_flagged

        data = drop_flagged(data)
    return data


def resolve_source(path: str, cache_folder: str = "", progress: ProgressFn | None = None,
                   should_stop: StopFn | None = None) -> Path:
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


def plan_source(path: str, cache_folder: str = "", progress: ProgressFn | None = None,
                should_stop: StopFn | None = None, data: DataConfig | None = None) -> SourcePlan:
    """Resolve `path`, detect its format (or take `data.format`) and list its faces; the
    fingerprint covers every file's path, size and mtime and everything the listing says."""
    from .formats import detect_format

    data = data or DataConfig(path=path)
    source = resolve_source(path, cache_folder, progress, should_stop)
    report_progress(progress, -1, f"scanning {source}")
    fmt = detect_format(source, "folders" if path == "demo" and data.format == "auto" else data.format)
    if fmt.scan is None:
        if not source.is_file():
            raise DatasetError(f"data.format {fmt.name} reads a file, but {source} is a folder")
        return SourcePlan(path, source, None, cache.file_fingerprint([str(source)]))
    if not source.is_dir() and not fmt.reads_file:
        raise DatasetError(f"data.format {fmt.name} reads a dataset folder, but {source} is a file")
    listing = fmt.scan(source, data)
    _apply_subject_regex(listing, data.subject_regex)
    extra: tuple[object, ...] = (listing.layout, listing.split_rule, listing.classes, listing.splits)
    more = (listing.groups, listing.boxes, listing.votes, listing.label_map, listing.dropped)
    if any(any(x) for x in more):  # plain folder listings keep the keys of their existing caches
        extra += more
    key = cache.file_fingerprint(listing.files + ([listing.pixel_csv] if listing.pixel_csv else []), extra=extra)
    return SourcePlan(path, source, listing, key)


def _apply_subject_regex(listing: Listing, pattern: str) -> None:
    """Subject ids from file names (group 1 of `pattern`, else the whole match) where none are known."""
    if not pattern:
        return
    if any(listing.groups):
        listing.notes.append(f"data.subject_regex ignored: the {listing.layout} format names its subjects")
        return
    try:
        rx = re.compile(pattern)
    except re.error as e:
        raise DatasetError(f"data.subject_regex {pattern!r} is not a valid regular expression: {e}") from None
    groups = []
    for f in listing.files:
        m = rx.search(os.path.basename(f))
        if m is None:
            raise DatasetError(f"data.subject_regex {pattern!r} does not match the file name {os.path.basename(f)!r}")
        groups.append(m.group(1) if rx.groups else m.group(0))
    listing.groups = groups
    listing.notes.append(f"subjects from file names by the regex {pattern!r}: {len(set(groups))} subject(s)")


def load_raw(path: str | SourcePlan, size: int, channels: int, cache_folder: str = "",
             progress: ProgressFn | None = None, should_stop: StopFn | None = None) -> RawDataset:
    """The decoded, unsplit dataset: from the cache when the files are unchanged."""
    for key, value in (("data.channels", channels), ("data.image_size", size)):
        if problem := value_problem(key, value):
            raise DatasetError(f"{key} {problem}")
    plan = path if isinstance(path, SourcePlan) else plan_source(path, cache_folder, progress, should_stop)
    target = plan.cache_path(cache_folder, "faces", size, channels)
    raw = cache.load(target) if target.exists() else None
    if raw is not None:
        report_progress(progress, 1.0, f"loaded {len(raw.images)} faces from the cache")
        return _with_layout(raw, plan.path)
    if plan.listing is None:
        from .fer_csv import read_fer_csv

        raw = read_fer_csv(plan.source, size, channels, progress, should_stop)
        raw.label_map = get_label_map("fer2013").describe()
    elif plan.listing.pixel_csv:
        raw = _rows_of_csv(plan.listing, size, channels, progress, should_stop)
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


def _decode_listing(listing: Listing, size: int, channels: int, progress: ProgressFn | None,
                    should_stop: StopFn | None) -> RawDataset:
    from .sources import crop_source

    files = listing.files
    boxes = listing.boxes if any(b is not None for b in listing.boxes) else None
    ensure_fits(len(files), size, channels, str(listing.root))
    faces, bad = decode_files(files, size, channels, progress, should_stop, boxes)
    if boxes is not None:
        files = [f if b is None else crop_source(f, b) for f, b in zip(files, boxes)]
    keep = np.ones(len(files), bool)
    keep[[i for i, _ in bad]] = False
    unreadable = [(files[i], reason) for i, reason in bad]
    if not keep.any():
        raise DatasetError(f"{listing.root}: none of its {len(files)} image files could be read "
                           f"({_listed(unreadable)})")
    idx = np.flatnonzero(keep)
    return _raw_from_listing(listing, faces[idx] if len(idx) < len(files) else faces, idx,
                             [files[i] for i in idx], unreadable)


def _raw_from_listing(listing: Listing, faces: np.ndarray, idx: np.ndarray, sources: list[str],
                      unreadable: list[tuple[str, str]]) -> RawDataset:
    """The RawDataset of the listed faces `idx` (decoded as `faces`)."""
    votes = None
    if any(v is not None for v in listing.votes):
        width = len(CANONICAL_CLASSES)
        votes = np.array([listing.votes[i] or (0.0,) * width for i in idx], np.float32).reshape(-1, width)
    return RawDataset(images=faces, classes=np.asarray(listing.classes, np.int64)[idx],
                      splits=np.asarray(listing.splits, np.int64)[idx], sources=sources, layout=listing.layout,
                      split_rule=listing.split_rule, notes=list(listing.notes), unreadable=unreadable,
                      groups=[listing.groups[i] for i in idx] if any(listing.groups) else [],
                      votes=votes, label_map=list(listing.label_map), dropped=dict(listing.dropped))


def _rows_of_csv(listing: Listing, size: int, channels: int, progress: ProgressFn | None,
                 should_stop: StopFn | None) -> RawDataset:
    """Faces whose pixels are rows of a FER2013 CSV (FERPlus): the CSV read once, rows picked."""
    from .fer_csv import read_fer_csv

    pixels = read_fer_csv(Path(listing.pixel_csv), size, channels, progress, should_stop)
    rows = np.array([int(f.rsplit("#row=", 1)[1]) for f in listing.files], np.int64)
    if len(rows) and rows.max() >= len(pixels.images):
        raise DatasetError(f"{listing.root} lists row {rows.max() + 1} but {listing.pixel_csv} has only "
                           f"{len(pixels.images)} rows: the two files must hold the same faces in the same order")
    return _raw_from_listing(listing, pixels.images[rows], np.arange(len(rows)),
                             [pixels.sources[r] for r in rows], [])


def decode_files(files: list[str], size: int, channels: int, progress: ProgressFn | None = None,
                 should_stop: StopFn | None = None,
                 boxes: list | None = None) -> tuple[np.ndarray, list[tuple[int, str]]]:
    """Decode files (cropped to `boxes` where given) in parallel threads:
    (faces, [(index, reason) of unreadable files])."""
    out = np.zeros((len(files), size, size, channels), np.uint8)

    def work(start: int, stop: int) -> list[tuple[int, str]]:
        errors = []
        for i in range(start, stop):
            try:
                out[i] = images.decode_image(files[i], size, channels, box=boxes[i] if boxes else None)
            except images.ImageDecodeError as e:
                errors.append((i, e.reason))
        return errors

    batches = run_batches(len(files), work, "decoding images", progress, should_stop)
    return out, [err for batch in batches for err in batch]


def assemble(raw: RawDataset, cfg: DataConfig) -> DatasetArrays:
    """Remap labels to the classes present, complete the splits (per subject when subjects are
    known), cap training classes, turn votes into soft targets in probability mode."""
    if problem := value_problem("data.split_by", cfg.split_by):
        raise DatasetError(f"data.split_by {problem}")
    raw, override_notes = apply_overrides(raw, cfg.label_overrides)
    seen = set(np.unique(raw.classes).tolist())
    if cfg.label_mode == "probability" and raw.votes is not None:  # a class may live in the votes only
        seen |= set(np.flatnonzero(raw.votes.sum(axis=0) > 0).tolist())
    present = sorted(int(c) for c in seen)
    class_names = [CANONICAL_CLASSES[c] for c in present]
    lut = np.full(len(CANONICAL_CLASSES), -1, np.int64)
    lut[present] = np.arange(len(present))
    labels = lut[raw.classes]
    groups = np.asarray(raw.groups, dtype=str) if raw.groups else None
    notes = [f"left out {n:,} face(s): {reason}" for reason, n in raw.dropped.items()] + override_notes
    if cfg.split_by == "subject" and groups is None:
        raise DatasetError(f"data.split_by is 'subject' but {cfg.path} names no subjects "
                           f"(CK+ and JAFFE do; elsewhere set data.subject_regex)")
    by_subject = groups is not None and cfg.split_by != "image"
    codes, split_notes = complete_splits(labels, raw.splits, raw.split_rule, cfg.val_fraction,
                                         cfg.test_fraction, cfg.split_seed, groups if by_subject else None)
    notes += split_notes
    if groups is not None:
        leaked = subjects_across_splits(groups, codes)
        if leaked:
            notes.append(f"warning: {len(leaked)} subject(s) have faces in more than one split "
                         f"({', '.join(leaked[:5])}{', ...' if len(leaked) > 5 else ''}): a per-image split of a "
                         f"dataset with subjects leaks (consecutive CK+ frames are near-copies); "
                         f"use data.split_by=subject")
    splits = {name: np.flatnonzero(codes == i) for i, name in enumerate(SPLITS)}
    if 0 < cfg.train_fraction < 1:
        splits["train"] = stratified_subset(splits["train"], labels, cfg.train_fraction, cfg.split_seed)
        notes.append(f"training images: a stratified {cfg.train_fraction:.0%} of each class (seed {cfg.split_seed})")
    if cfg.max_per_class > 0:
        splits["train"] = cap_per_class(splits["train"], labels, cfg.max_per_class, cfg.split_seed)
        notes.append(f"training images capped at {cfg.max_per_class} per class (seed {cfg.split_seed})")
    splits = {k: v for k, v in splits.items() if len(v)}
    votes = None if raw.votes is None else np.ascontiguousarray(raw.votes[:, present], np.float32)
    soft = _soft_targets(votes, labels, cfg)
    images_, sources = raw.images, raw.sources
    used = np.sort(np.concatenate(list(splits.values())))
    if len(used) < len(labels):  # drop faces no split uses (capped away) to save memory
        remap = np.full(len(labels), -1, np.int64)
        remap[used] = np.arange(len(used))
        splits = {k: remap[v] for k, v in splits.items()}
        images_, labels, sources = images_[used], labels[used], [sources[i] for i in used]
        groups, votes, soft = (None if a is None else a[used] for a in (groups, votes, soft))
    if raw.unreadable:
        notes.append(f"skipped {len(raw.unreadable)} unreadable file(s): {_listed(raw.unreadable)}")
    return DatasetArrays(images=np.ascontiguousarray(images_), labels=labels, class_names=class_names,
                         splits=splits, sources=list(sources), layout=raw.layout,
                         notes=list(raw.notes) + notes, unreadable=list(raw.unreadable),
                         groups=groups, votes=votes, soft=soft, label_map=list(raw.label_map))


def _soft_targets(votes: np.ndarray | None, labels: np.ndarray, cfg: DataConfig) -> np.ndarray | None:
    """Vote distributions as training targets in probability mode (None otherwise)."""
    if cfg.label_mode != "probability":
        return None
    if votes is None:
        raise DatasetError(f"data.label_mode 'probability' needs annotator votes (FERPlus); {cfg.path} has none")
    total = votes.sum(axis=1, keepdims=True)
    one_hot = np.eye(votes.shape[1], dtype=np.float32)[labels]
    return np.where(total > 0, votes / np.maximum(total, 1e-12), one_hot).astype(np.float32)


def _listed(items: list[tuple[str, str]]) -> str:
    text = "; ".join(f"{printable(src)}: {reason}" for src, reason in items[:_MAX_LISTED])
    return text + ("; ..." if len(items) > _MAX_LISTED else "")
