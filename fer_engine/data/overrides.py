"""Label overrides: corrections to a dataset's labels kept beside the runs, never in the dataset.

A file records, per face source, "relabel" to a class or "exclude". Each save writes a new
numbered version (`<runs>/label-overrides/<dataset>-v<n>.json`) and never rewrites an older one,
so a run that recorded `data.label_overrides` in its config is reproduced exactly later.
"""
from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ..classes import CANONICAL_CLASSES, canonical_name
from ..utils.atomic import atomic_write_text
from .cache import RawDataset
from .errors import DatasetError

FORMAT_VERSION = 1
ACTIONS = ("relabel", "exclude")


@dataclass
class LabelOverrides:
    dataset: str  # the data.path the sources belong to
    relabel: dict[str, str] = field(default_factory=dict)  # source -> canonical class name
    exclude: list[str] = field(default_factory=list)  # sources left out of every split
    version: int = 0  # 1, 2, ... per dataset (0 = not saved yet)
    based_on: str = ""  # the file this version was edited from
    created: str = ""

    def mark(self, source: str, action: str, label: str = "") -> None:
        """Record one decision (a later decision on the same face replaces an earlier one)."""
        if action not in ACTIONS:
            raise ValueError(f"label override action must be relabel or exclude, got {action!r}")
        self.relabel.pop(source, None)
        if source in self.exclude:
            self.exclude.remove(source)
        if action == "exclude":
            self.exclude.append(source)
        else:
            name = canonical_name(label)
            if name is None:
                raise ValueError(f"unknown class {label!r} to relabel {source} to")
            self.relabel[source] = name

    def to_dict(self) -> dict:
        return {"format_version": FORMAT_VERSION, "dataset": self.dataset, "version": self.version,
                "based_on": self.based_on, "created": self.created, "relabel": self.relabel,
                "exclude": self.exclude}

    def save_new_version(self, folder: str | Path) -> Path:
        """Write this as the next version for its dataset in `folder`; returns the new file."""
        folder = Path(folder)
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(self.dataset).name or "dataset")[:40]
        taken = [int(m.group(1)) for p in folder.glob(f"{stem}-v*.json")
                 if (m := re.fullmatch(rf"{re.escape(stem)}-v(\d+)\.json", p.name))]
        self.version = max(taken, default=0) + 1
        self.created = time.strftime("%Y-%m-%dT%H:%M:%S")
        path = folder / f"{stem}-v{self.version}.json"
        atomic_write_text(path, json.dumps(self.to_dict(), indent=1) + "\n")
        return path


def load_overrides(path: str | Path) -> LabelOverrides:
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DatasetError(f"label overrides file not found: {p}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise DatasetError(f"cannot read label overrides {p}: {e}") from None
    if not isinstance(doc, dict) or doc.get("format_version") != FORMAT_VERSION:
        raise DatasetError(f"{p} is not a label overrides file of format version {FORMAT_VERSION}")
    bad = sorted({v for v in doc.get("relabel", {}).values() if v not in CANONICAL_CLASSES})
    if bad:
        raise DatasetError(f"{p}: unknown class(es) to relabel to: {', '.join(map(str, bad))}")
    return LabelOverrides(dataset=str(doc.get("dataset", "")), relabel=dict(doc.get("relabel", {})),
                          exclude=list(doc.get("exclude", [])), version=int(doc.get("version", 0)),
                          based_on=str(doc.get("based_on", "")), created=str(doc.get("created", "")))


def apply_overrides(raw: RawDataset, path: str) -> tuple[RawDataset, list[str]]:
    """`raw` with the overrides in `path` applied (relabelled, excluded faces removed), and notes."""
    if not path:
        return raw, []
    ov = load_overrides(path)
    where = {s: i for i, s in enumerate(raw.sources)}
    classes = raw.classes.copy()
    relabelled = [where[s] for s in ov.relabel if s in where]
    classes[relabelled] = [CANONICAL_CLASSES.index(ov.relabel[raw.sources[i]]) for i in relabelled]
    keep = np.ones(len(classes), bool)
    keep[[where[s] for s in ov.exclude if s in where]] = False
    unknown = len(ov.relabel) + len(ov.exclude) - len(relabelled) - int((~keep).sum())
    notes = [f"label overrides {path} (version {ov.version}): {len(relabelled)} face(s) relabelled, "
             f"{int((~keep).sum())} excluded" + (f"; {unknown} entr(ies) name faces not in this dataset"
                                                  if unknown else "")]
    idx = np.flatnonzero(keep)
    out = replace(raw, classes=classes[idx], splits=raw.splits[idx], images=raw.images[idx] if len(idx) < len(keep)
                  else raw.images, sources=[raw.sources[i] for i in idx],
                  groups=[raw.groups[i] for i in idx] if raw.groups else [],
                  votes=None if raw.votes is None else raw.votes[idx])
    return out, notes
