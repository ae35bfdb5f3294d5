"""The typed small JSON files of a run directory: `Preprocess` (preprocess.json), `DatasetInfo`
(dataset.json), `RunStatus` (status.json) and `RunMeta` (meta.json). `from_dict` checks a file's
fields and raises `RunDirError` naming the file and the field, so a damaged file reads as one
line, never a KeyError later."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, get_type_hints

from ..scoring.metrics import Baselines, chance_and_majority


class RunDirError(ValueError):
    """A folder that is not a usable run directory; the message names it."""


STATUSES = ("created", "running", "finished", "stopped", "failed", "crashed")
#: what the runs list shows for a run whose files cannot be read (never written as a status)
DAMAGED = "damaged"

_CHECKS = {int: lambda v: isinstance(v, int) and not isinstance(v, bool), str: lambda v: isinstance(v, str),
           list: lambda v: isinstance(v, list), dict: lambda v: isinstance(v, dict),
           bool: lambda v: isinstance(v, bool),
           float: lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)}


def _from_dict(cls, d: Any, where: str, required: tuple[str, ...] = ()):
    """`cls` from the fields of `d` that it declares; with an `extra` field, the other keys go there."""
    if not isinstance(d, dict):
        raise RunDirError(f"{where} holds a JSON {type(d).__name__}, not an object")
    hints = get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)} - {"extra"}
    values: dict[str, Any] = {"extra": {k: v for k, v in d.items() if k not in names}} if "extra" in hints else {}
    for f in dataclasses.fields(cls):
        if f.name not in names:
            continue
        if f.name not in d:
            if f.name in required:
                raise RunDirError(f"{where} has no {f.name!r}")
            continue
        kind = getattr(hints[f.name], "__origin__", hints[f.name])
        if not _CHECKS[kind](d[f.name]):
            raise RunDirError(f"{where}: {f.name!r} is {d[f.name]!r}, not a {kind.__name__}")
        values[f.name] = d[f.name]
    return cls(**values)


def _to_dict(obj: Any) -> dict[str, Any]:
    """The fields that differ from their defaults, then `extra`: what the file holds."""
    out = {}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        if f.name != "extra" and value != default:
            out[f.name] = value
    return {**out, **obj.extra}


@dataclass(frozen=True)
class RunStatus:
    """status.json: a run's state (one of STATUSES; DAMAGED only when read), when it was written,
    the worker's pid and host while running, how it ended; keys other writers add go in `extra`."""

    state: str
    updated: float = 0.0
    pid: int = 0  # 0: no worker recorded
    host: str = ""
    message: str = ""  # why it crashed, or why the file is damaged
    error: str = ""
    hint: str = ""
    summary: dict[str, Any] = field(default_factory=dict)  # the final RunSummary event's fields
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: Any, where: str = "status.json") -> "RunStatus":
        if not isinstance(d, dict) or d.get("status") not in STATUSES:
            what = f"status {d.get('status')!r}" if isinstance(d, dict) else f"a JSON {type(d).__name__}"
            raise RunDirError(f"{where} holds {what}, not a run status")
        return _from_dict(cls, {"state": d["status"], **{k: v for k, v in d.items() if k != "status"}}, where)

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.state, **{k: v for k, v in _to_dict(self).items() if k != "state"}}


@dataclass(frozen=True)
class RunMeta:
    """meta.json: how the runs list shows a run; keys studies and other tools add go in `extra`."""

    display_name: str = ""
    kind: str = ""  # "ensemble" for an ensemble's folder, "" for a trained run
    study_pruned: bool = False  # a study's scheduler stopped it early
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: Any, where: str = "meta.json") -> "RunMeta":
        return _from_dict(cls, d, where)

    def to_dict(self) -> dict[str, Any]:
        return _to_dict(self)


@dataclass(frozen=True)
class Preprocess:
    """preprocess.json: what rebuilds the model input exactly (analysis, live, export)."""

    class_names: list[str]
    channels: int
    image_size: int  # side of the stored faces
    input_size: int  # side the model takes
    mean: list[float]
    std: list[float]
    backbone: str = ""

    @classmethod
    def from_dict(cls, d: Any, where: str = "preprocess.json") -> "Preprocess":
        return _from_dict(cls, d, where, required=("class_names", "channels", "image_size", "input_size",
                                                    "mean", "std"))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class DatasetInfo:
    """dataset.json: the data a run trained on (a field an older run did not write reads as empty)."""

    source: str = ""
    layout: str = ""
    class_names: list[str] = field(default_factory=list)
    image_size: int = 0
    channels: int = 0
    splits: dict[str, int] = field(default_factory=dict)  # split -> faces
    train_class_counts: list[int] = field(default_factory=list)  # class_names order
    notes: list[str] = field(default_factory=list)
    split_class_counts: dict[str, list[int]] = field(default_factory=dict)  # split -> per class

    @classmethod
    def from_dict(cls, d: Any, where: str = "dataset.json") -> "DatasetInfo":
        return _from_dict(cls, d, where)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def baselines(self, split: str = "val") -> Baselines | None:
        """Chance and majority-class accuracy of a split (None for runs that predate the counts)."""
        counts = self.split_class_counts.get(split)
        return chance_and_majority(counts, self.class_names) if counts else None
