"""The dataset report: what is in a dataset and what is wrong with it, before training on it.

Counts per class and split, imbalance, pixel mean/std per split, image sizes and modes,
unreadable files, byte-identical images (within a split, across splits, with conflicting
labels) and near-blank images. Splits are the ones training uses (same rules, same seed).
Per-file facts (md5, size, mode, pixel std) are cached like the decoded faces, so a second
report on unchanged files takes seconds.
"""
from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import numpy as np
from PIL import Image

from ..classes import CANONICAL_CLASSES
from ..config import DataConfig
from ..progress import ProgressFn, StopFn, report_progress, scaled_progress
from ..utils.atomic import atomic_path
from .cache import RawDataset
from .errors import printable
from .flagged import NEAR_BLANK_STD
from .images import convert_mode
from .loader import SourcePlan, assemble, load_raw, plan_source
from .near_duplicates import BITS, MAX_DISTANCE, near_duplicate_groups, phash
from .parallel import run_batches

SAMPLES_PER_CLASS = 8
FACTS_VERSION = 2  # 2: with the perceptual hash of each decoded face


@dataclass
class DuplicateGroup:
    """Byte-identical images (same file bytes, or the same CSV pixels)."""

    files: list[str]
    splits: list[str]  # per file
    labels: list[str]  # per file

    @property
    def across_splits(self) -> bool:
        return len(set(self.splits)) > 1

    @property
    def train_and_eval(self) -> bool:
        """A copy in train and another in val or test: evaluation sees a training image."""
        return "train" in self.splits and bool(set(self.splits) - {"train"})

    @property
    def conflicting(self) -> bool:
        return len(set(self.labels)) > 1

    def to_dict(self) -> dict[str, Any]:
        detail = ", ".join(f"{s}:{lab}" for s, lab in zip(self.splits, self.labels))
        return {"files": self.files, "splits": self.splits, "labels": self.labels, "detail": detail}


@dataclass(frozen=True)
class Finding:
    """One problem a report lists: the files it concerns and what is wrong with them."""

    files: list[str]
    detail: str = ""


@dataclass
class DatasetReport:
    """What `dataset_report` found; the set-up page renders this dataclass (`fer_studio.report_view`)."""

    path: str
    layout: str
    class_names: list[str]
    counts: dict[str, dict[str, int]]  # split -> class -> count
    image_size: int
    channels: int
    pixel_stats: dict[str, dict[str, list[float]]]  # split -> {"mean": [...], "std": [...]}, 0..1
    sizes: dict[str, int]  # "WxH" -> files
    modes: dict[str, int]  # Pillow mode -> files
    unreadable: list[tuple[str, str]]  # (file, reason)
    duplicate_groups: list[DuplicateGroup]
    near_blank: list[tuple[str, float]]  # (file, pixel std)
    notes: list[str] = field(default_factory=list)
    samples: dict[str, list[str]] = field(default_factory=dict)  # class -> a few sources
    label_map: list[str] = field(default_factory=list)  # e.g. "RAF-DB label 1 -> surprise"
    dropped: dict[str, int] = field(default_factory=dict)  # reason -> faces the format left out
    subjects: int = 0  # distinct subjects, when the format or data.subject_regex names them
    near_duplicate_groups: list[DuplicateGroup] = field(default_factory=list)  # perceptual hash, not byte-identical
    split_rule: str = ""  # how the layout's splits are completed (data.layouts.SPLIT_*)

    @property
    def imbalance(self) -> dict[str, Any]:
        """Largest / smallest training class (None when a class has no training faces)."""
        train = {c: n for c, n in self.counts.get("train", {}).items()}
        if not train:
            return {"ratio": None, "largest": None, "smallest": None}
        largest, smallest = max(train, key=train.__getitem__), min(train, key=train.__getitem__)
        ratio = train[largest] / train[smallest] if train[smallest] else None
        return {"ratio": ratio, "largest": largest, "smallest": smallest}

    @property
    def train_pixel_stats(self) -> dict[str, list[float]]:
        """{"mean", "std"} per channel of the training split (else the first split; {} when none)."""
        return self.pixel_stats.get("train") or next(iter(self.pixel_stats.values()), {})

    def duplicate_summary(self) -> dict[str, int]:
        return _group_summary(self.duplicate_groups)

    def findings(self) -> dict[str, list[Finding]]:
        """Each kind of problem (the keys of `to_dict`'s lists) -> its findings."""
        def groups(gs: list[DuplicateGroup]) -> list[Finding]:
            return [Finding(list(g.files), g.to_dict()["detail"]) for g in gs]

        return {
            "unreadable": [Finding([p], r) for p, r in self.unreadable],
            "conflicting_labels": groups([g for g in self.duplicate_groups if g.conflicting]),
            "duplicates_across_splits": groups([g for g in self.duplicate_groups if g.across_splits]),
            "duplicates_within_splits": groups([g for g in self.duplicate_groups if not g.across_splits]),
            "near_blank": [Finding([p], f"pixel std {v:.2f}") for p, v in self.near_blank],
            "near_duplicates_across_splits": groups([g for g in self.near_duplicate_groups if g.across_splits]),
            "near_duplicates_within_splits": groups([g for g in self.near_duplicate_groups if not g.across_splits]),
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-able: what `inspect-data --json` prints and the GUI shows."""
        train_stats = self.train_pixel_stats
        return {
            "path": self.path, "layout": self.layout, "class_names": self.class_names,
            "counts": self.counts, "totals": {s: sum(c.values()) for s, c in self.counts.items()},
            "imbalance": self.imbalance, "image_size": self.image_size, "channels": self.channels,
            "mean": train_stats.get("mean", []), "std": train_stats.get("std", []),
            "pixel_stats": self.pixel_stats, "sizes": self.sizes, "modes": self.modes,
            "notes": self.notes, "split_rule": self.split_rule,
            "unreadable": [{"path": p, "reason": r} for p, r in self.unreadable],
            "duplicates": self.duplicate_summary(),
            "duplicates_within_splits": [g.to_dict() for g in self.duplicate_groups if not g.across_splits],
            "duplicates_across_splits": [g.to_dict() for g in self.duplicate_groups if g.across_splits],
            "conflicting_labels": [g.to_dict() for g in self.duplicate_groups if g.conflicting],
            "near_blank": [{"path": p, "std": round(s, 3), "detail": f"pixel std {s:.2f}"}
                           for p, s in self.near_blank],
            "samples": self.samples, "label_map": self.label_map, "dropped": self.dropped,
            "subjects": self.subjects,
            "near_duplicates": _group_summary(self.near_duplicate_groups),
            "near_duplicates_across_splits": [g.to_dict() for g in self.near_duplicate_groups if g.across_splits],
            "near_duplicates_within_splits": [g.to_dict() for g in self.near_duplicate_groups if not g.across_splits],
        }

    def format_text(self, max_listed: int = 10) -> str:
        """A readable summary for the terminal; long lists are cut to `max_listed` entries."""
        lines = [f"Dataset: {printable(self.path)}", f"Layout: {self.layout}"]
        if self.label_map:
            lines.append("Label map: " + "; ".join(self.label_map))
        if self.subjects:
            lines.append(f"Subjects: {self.subjects:,}")
        lines += [f"  note: {printable(n)}" for n in self.notes]
        lines.append(_count_table(self.class_names, self.counts))
        imb = self.imbalance
        if imb["ratio"]:
            lines.append(f"Imbalance (train): {imb['ratio']:.1f}x "
                         f"(largest {imb['largest']}, smallest {imb['smallest']})")
        for split, st in self.pixel_stats.items():
            lines.append(f"Pixel mean/std ({split}, 0..1, {self.image_size}x{self.image_size}x{self.channels}): "
                         f"{_floats(st['mean'])} / {_floats(st['std'])}")
        lines.append("Image sizes: " + _counter(self.sizes))
        lines.append("Image modes: " + _counter(self.modes))
        s = self.duplicate_summary()
        lines.append(f"Byte-identical groups: {s['groups']:,} ({s['files']:,} files); "
                     f"{s['across_splits']:,} span splits ({s['train_and_eval']:,} span train and val/test); "
                     f"{s['within_split']:,} within one split; {s['conflicting_labels']:,} with different labels")
        n = _group_summary(self.near_duplicate_groups)
        lines.append(f"Near-duplicate groups (perceptual hash, within {MAX_DISTANCE} of {BITS} bits, "
                     f"not byte-identical): {n['groups']:,} ({n['files']:,} faces); "
                     f"{n['across_splits']:,} span splits ({n['train_and_eval']:,} span train and val/test); "
                     f"{n['conflicting_labels']:,} with different labels")
        across = [g for g in self.near_duplicate_groups if g.across_splits]
        lines += _listed("Near-duplicates across splits", [_group_line(g) for g in across], max_listed)
        conflicts = [g for g in self.duplicate_groups if g.conflicting]
        lines += _listed("Groups with different labels", [_group_line(g) for g in conflicts], max_listed)
        lines += _listed(f"Near-blank images (pixel std < {NEAR_BLANK_STD:g})",
                         [f"{printable(p)} (std {v:.2f})" for p, v in self.near_blank], max_listed)
        lines += _listed("Unreadable files (skipped)", [f"{printable(p)}: {r}" for p, r in self.unreadable], max_listed)
        return "\n".join(lines)


def dataset_report(path: str, progress: ProgressFn | None = None, should_stop: StopFn | None = None, *,
                   image_size: int = 48, channels: int = 1, val_fraction: float = 0.1,
                   test_fraction: float = 0.1, split_seed: int = 0, cache_dir: str = "",
                   **data_options: Any) -> DatasetReport:
    """Inspect the dataset at `path` (any format `load_dataset` accepts); `data_options` are
    further `DataConfig` fields (format, label_map, label_mode, subject_regex, split_by, ...)."""
    cfg = DataConfig(path=path, image_size=image_size, channels=cast(Literal[1, 3], channels),
                     val_fraction=val_fraction,
                     test_fraction=test_fraction, split_seed=split_seed, cache_dir=cache_dir, **data_options)
    plan = plan_source(path, cache_dir, progress, should_stop, cfg)
    raw = load_raw(plan, image_size, channels, cache_dir, scaled_progress(progress, 0.0, 0.6), should_stop)
    data = assemble(raw, cfg)
    split_of = np.empty(len(raw.sources), object)
    for name, idx in data.splits.items():
        split_of[idx] = name
    if plan.listing is None:
        facts = _pixel_facts(raw)
    else:
        facts = _cached_file_facts(plan, raw, cache_dir, scaled_progress(progress, 0.6, 1.0), should_stop)
    labels = [CANONICAL_CLASSES[c] for c in raw.classes]
    report = DatasetReport(
        path=str(plan.source) if path != "demo" else "demo", layout=data.layout, class_names=data.class_names,
        counts={s: dict(zip(data.class_names, data.class_counts(s).tolist())) for s in data.splits},
        image_size=image_size, channels=channels,
        pixel_stats={s: _pixel_stats(data.split(s)[0]) for s in data.splits},
        sizes=dict(Counter(f"{w}x{h}" for w, h in zip(facts["width"], facts["height"])).most_common()),
        modes=dict(Counter(facts["mode"]).most_common()),
        unreadable=list(raw.unreadable),
        duplicate_groups=_duplicates(facts["md5"], raw.sources, list(split_of), labels),
        near_blank=[(raw.sources[i], float(facts["std"][i])) for i in np.flatnonzero(facts["std"] < NEAR_BLANK_STD)],
        notes=list(data.notes), samples=_samples(data), label_map=list(data.label_map),
        dropped=dict(raw.dropped), subjects=0 if data.groups is None else len(set(data.groups.tolist())),
        near_duplicate_groups=_near_duplicates(raw, facts, list(split_of), labels),
        split_rule=raw.split_rule)
    report_progress(progress, 1.0, "dataset report ready")
    return report


# -- per-file facts ---------------------------------------------------------------------------------
def _file_facts(path: str) -> tuple[bytes, int, int, str, float]:
    """(md5 digest, width, height, mode, gray pixel std) of one image file, or ValueError/OSError."""
    with open(path, "rb") as f:
        data = f.read()
    with Image.open(io.BytesIO(data)) as im:
        mode, (w, h) = im.mode, im.size
        im.load()
        gray = np.asarray(convert_mode(im, "L"), np.float32)
    return hashlib.md5(data).digest(), w, h, mode, float(gray.std())


def _cached_file_facts(plan: SourcePlan, raw: RawDataset, cache_dir: str, progress: ProgressFn | None,
                       should_stop: StopFn | None) -> dict[str, np.ndarray]:
    target = plan.cache_path(cache_dir, f"facts{FACTS_VERSION}", 0, 0)
    cached = _load_facts(target, raw.sources)
    if cached is not None:
        report_progress(progress, 1.0, "file facts loaded from the cache")
        return cached
    n = len(raw.sources)
    md5 = np.zeros(n, "S16")
    width, height = np.zeros(n, np.int32), np.zeros(n, np.int32)
    std = np.full(n, np.nan, np.float32)
    mode = np.full(n, "", "U8")

    def work(start: int, stop: int) -> None:
        for i in range(start, stop):
            try:
                md5[i], width[i], height[i], mode[i], std[i] = _file_facts(raw.sources[i])
            except (OSError, ValueError, SyntaxError):  # changed since it was decoded: no facts
                md5[i] = hashlib.md5(raw.sources[i].encode("utf-8", "surrogateescape")).digest()

    run_batches(n, work, "checking files (md5, size, mode)", progress, should_stop)
    facts: dict[str, Any] = {"md5": md5, "width": width, "height": height, "mode": mode, "std": std,
                             "phash": phash(raw.images)}
    try:
        with atomic_path(target) as tmp, open(tmp, "wb") as f:
            np.savez(f, sources=np.array(json.dumps(raw.sources)), **facts)
    except OSError:
        pass  # the report is still right; only the next one is slower
    return facts


def _load_facts(target, sources: list[str]) -> dict[str, np.ndarray] | None:
    if not target.exists():
        return None
    try:
        with np.load(target, allow_pickle=False) as z:
            if json.loads(str(z["sources"])) != sources:
                return None
            return {k: z[k] for k in ("md5", "width", "height", "mode", "std", "phash")}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None


def _pixel_facts(raw: RawDataset) -> dict[str, np.ndarray]:
    """Facts of CSV rows: md5 of the pixel bytes, native size, pixel std."""
    n, side = len(raw.images), raw.images.shape[1]
    gray = raw.images[..., 0] if raw.images.shape[-1] == 1 else raw.images.mean(axis=-1)
    return {"md5": np.array([hashlib.md5(raw.images[i].tobytes()).digest() for i in range(n)], "S16"),
            "width": np.full(n, side), "height": np.full(n, side), "mode": np.full(n, "L (CSV)"),
            "std": gray.reshape(n, -1).std(axis=1), "phash": phash(raw.images)}


# -- aggregation ------------------------------------------------------------------------------------
def _duplicates(md5: np.ndarray, sources: list[str], splits: list[str], labels: list[str]) -> list[DuplicateGroup]:
    by_hash: dict[bytes, list[int]] = defaultdict(list)
    for i, h in enumerate(md5.tolist()):
        by_hash[h].append(i)
    groups = [DuplicateGroup([sources[i] for i in idx], [splits[i] for i in idx], [labels[i] for i in idx])
              for idx in by_hash.values() if len(idx) > 1]
    return sorted(groups, key=lambda g: g.files[0])


def _near_duplicates(raw: RawDataset, facts: dict[str, np.ndarray], splits: list[str],
                     labels: list[str]) -> list[DuplicateGroup]:
    """Groups of faces within MAX_DISTANCE bits of pHash; byte-identical copies (one kept) and
    near-blank faces are left out: they are reported on their own."""
    _, first = np.unique(facts["md5"], return_index=True)
    skip = np.ones(len(raw.sources), bool)
    skip[first] = False
    skip |= facts["std"] < NEAR_BLANK_STD
    groups = near_duplicate_groups(facts["phash"], MAX_DISTANCE, skip)
    return [DuplicateGroup([raw.sources[i] for i in g], [splits[i] for i in g], [labels[i] for i in g])
            for g in groups]


def _group_summary(g: list[DuplicateGroup]) -> dict[str, int]:
    return {"groups": len(g), "files": sum(len(x.files) for x in g),
            "across_splits": sum(x.across_splits for x in g),
            "train_and_eval": sum(x.train_and_eval for x in g),
            "within_split": sum(not x.across_splits for x in g),
            "conflicting_labels": sum(x.conflicting for x in g)}


def _pixel_stats(images: np.ndarray) -> dict[str, list[float]]:
    """Per-channel mean and std in 0..1 (float64 sums over chunks: exact and bounded memory)."""
    c = images.shape[-1]
    total, sq, count = np.zeros(c), np.zeros(c), 0
    for start in range(0, len(images), 4096):
        chunk = images[start:start + 4096].reshape(-1, c).astype(np.float64)
        total += chunk.sum(axis=0)
        sq += np.square(chunk).sum(axis=0)
        count += len(chunk)
    mean = total / max(count, 1)
    std = np.sqrt(np.maximum(sq / max(count, 1) - mean ** 2, 0.0))
    return {"mean": (mean / 255).round(5).tolist(), "std": (std / 255).round(5).tolist()}


def _samples(data) -> dict[str, list[str]]:
    """A few sources per class, evenly spread over the training split (else any split)."""
    split = "train" if "train" in data.splits else next(iter(data.splits))
    idx = data.splits[split]
    out = {}
    for c, name in enumerate(data.class_names):
        members = idx[data.labels[idx] == c]
        pick = members[np.linspace(0, len(members) - 1, min(SAMPLES_PER_CLASS, len(members))).astype(int)]
        out[name] = [data.sources[i] for i in pick]
    return out


# -- text -------------------------------------------------------------------------------------------
def _count_table(class_names: list[str], counts: dict[str, dict[str, int]]) -> str:
    header = ["split", "total", *class_names]
    rows = [[s, f"{sum(c.values()):,}", *(f"{c.get(n, 0):,}" for n in class_names)] for s, c in counts.items()]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return "\n".join("  " + "  ".join(v.rjust(w) for v, w in zip(r, widths)) for r in [header, *rows])


def _floats(values: list[float]) -> str:
    return ", ".join(f"{v:.4f}" for v in values)


def _counter(c: dict[str, int], top: int = 5) -> str:
    items = list(c.items())
    text = ", ".join(f"{k} ({v:,})" for k, v in items[:top])
    return text + (f", ... {len(items) - top} more" if len(items) > top else "") if items else "none"


def _group_line(group) -> str:
    """One listed duplicate group: its detail, then its files."""
    return group.to_dict()["detail"] + ": " + ", ".join(map(printable, group.files))


def _listed(title: str, items: list[str], limit: int) -> list[str]:
    if not items:
        return [f"{title}: none"]
    more = [f"    ... and {len(items) - limit} more (use --json for all)"] if len(items) > limit else []
    return [f"{title}: {len(items):,}", *(f"    {x}" for x in items[:limit]), *more]

