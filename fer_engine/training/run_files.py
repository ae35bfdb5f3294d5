"""The typed small JSON files of a run directory: `Preprocess` (preprocess.json) and
`DatasetInfo` (dataset.json). `from_dict` checks a file's fields and raises `RunDirError`
naming the file and the field, so a damaged file reads as one line, never a KeyError later."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, get_type_hints

from ..scoring.metrics import Baselines, chance_and_majority


class RunDirError(ValueError):
    """A folder that is not a usable run directory; the message names it."""


_CHECKS = {int: lambda v: isinstance(v, int) and not isinstance(v, bool), str: lambda v: isinstance(v, str),
           list: lambda v: isinstance(v, list), dict: lambda v: isinstance(v, dict)}


def _from_dict(cls, d: Any, where: str, required: tuple[str, ...] = ()):
    if not isinstance(d, dict):
        raise RunDirError(f"{where} holds a JSON {type(d).__name__}, not an object")
    hints = get_type_hints(cls)
    values = {}
    for f in dataclasses.fields(cls):
        if f.name not in d:
            if f.name in required:
                raise RunDirError(f"{where} has no {f.name!r}")
            continue
        kind = getattr(hints[f.name], "__origin__", hints[f.name])
        if not _CHECKS[kind](d[f.name]):
            raise RunDirError(f"{where}: {f.name!r} is {d[f.name]!r}, not a {kind.__name__}")
        values[f.name] = d[f.name]
    return cls(**values)


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
