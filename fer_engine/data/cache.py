"""The on-disk uint8 cache of decoded datasets, so a second run starts in seconds.

One `.npz` per (source, file list with sizes and mtimes, image size, channels, format version),
written to a temp file and renamed (a killed process never leaves a corrupt cache) and read
back without pickle. Splitting and per-class caps happen after loading, so every run
configuration of a dataset shares one cache file.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from ..paths import cache_root
from ..utils.atomic import atomic_path

FORMAT_VERSION = 1


@dataclass
class RawDataset:
    """A decoded dataset before class remapping and splitting: what the cache holds."""

    images: np.ndarray  # (N, S, S, C) uint8
    classes: np.ndarray  # (N,) int64 canonical class index (fer_engine.classes order)
    splits: np.ndarray  # (N,) int64 index into layouts.SPLITS, or layouts.UNASSIGNED
    sources: list[str]
    layout: str
    split_rule: str
    notes: list[str] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (source, reason)
    groups: list[str] = field(default_factory=list)  # subject id per face (empty: unknown)
    votes: np.ndarray | None = None  # (N, len(CANONICAL_CLASSES)) float32 annotator votes (FERPlus)
    label_map: list[str] = field(default_factory=list)  # the label map read, as the report prints it
    dropped: dict[str, int] = field(default_factory=dict)  # reason -> faces the format left out


def cache_dir(configured: str = "") -> Path:
    return Path(configured) if configured else cache_root() / "datasets"


def file_fingerprint(paths: Iterable[str], extra: object = ()) -> str:
    """A hash of the path, size and mtime of every file, and of `extra`."""
    h = hashlib.sha256(repr(extra).encode("utf-8", "surrogateescape"))
    for p in paths:
        try:
            st = os.stat(p)
            stamp = f"{st.st_size}\0{st.st_mtime_ns}"
        except OSError:
            stamp = "missing"
        h.update(f"{p}\0{stamp}\n".encode("utf-8", "surrogateescape"))
    return h.hexdigest()


def cache_file(folder: Path, source: Path, kind: str, fingerprint: str, size: int, channels: int) -> Path:
    """`<name>-<source hash>-<kind>-v<format>-<S>x<S>x<C>-<content hash>.npz` in folder."""
    return folder / f"{_stem(source, kind, size, channels)}-{fingerprint[:20]}.npz"


def _stem(source: Path, kind: str, size: int, channels: int) -> str:
    where = hashlib.sha256(os.fsencode(str(source))).hexdigest()[:10]
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", source.name)[:40] or "dataset"
    return f"{name}-{where}-{kind}-v{FORMAT_VERSION}-{size}x{size}x{channels}"


def load(path: Path) -> RawDataset | None:
    """The cached dataset, or None when absent or unreadable (then it is rebuilt)."""
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            raw = RawDataset(images=z["images"], classes=z["classes"].astype(np.int64),
                             splits=z["splits"].astype(np.int64), sources=meta["sources"],
                             layout=meta["layout"], split_rule=meta["split_rule"],
                             notes=meta["notes"], unreadable=[tuple(u) for u in meta["unreadable"]],
                             groups=meta.get("groups", []), label_map=meta.get("label_map", []),
                             dropped=meta.get("dropped", {}),
                             votes=z["votes"].astype(np.float32) if "votes" in z.files else None)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    if meta.get("version") != FORMAT_VERSION or len(raw.sources) != len(raw.images):
        return None
    return raw


def save(path: Path, raw: RawDataset) -> None:
    """Write atomically and remove older caches of the same source, size and channels."""
    meta = {"version": FORMAT_VERSION, "sources": raw.sources, "layout": raw.layout,
            "split_rule": raw.split_rule, "notes": raw.notes,
            "unreadable": [list(u) for u in raw.unreadable], "groups": raw.groups,
            "label_map": raw.label_map, "dropped": raw.dropped}
    extra: dict[str, Any] = {} if raw.votes is None else {"votes": raw.votes.astype(np.float32)}
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, images=raw.images, classes=raw.classes.astype(np.int8),
                     splits=raw.splits.astype(np.int8), meta=np.array(json.dumps(meta)), **extra)
    prefix = path.name[: -len(".npz") - 21]
    for old in path.parent.glob(f"{glob_escape(prefix)}-*.npz"):
        if old != path:
            old.unlink(missing_ok=True)


def glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)
