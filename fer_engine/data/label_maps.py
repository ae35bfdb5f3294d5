"""Label maps: how each dataset numbers its classes, so no label order is ever assumed.

A silent label-order mistake is the most common error in FER (FER2013 counts from angry, RAF-DB
from surprise, AffectNet from neutral). Every importer reads its labels through one of these
maps, the dataset report prints the map it used, and a folder of digit-named class folders
must name its map (`data.label_map`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..classes import CANONICAL_CLASSES, FER2013_CLASSES
from .errors import DatasetError


@dataclass(frozen=True)
class LabelMap:
    """Source label (an int or a code such as "AN") -> canonical class; `dropped` labels are
    valid in the source but carry no expression (AffectNet's none/uncertain/no-face)."""

    name: str
    title: str
    classes: dict[int | str, str]
    dropped: dict[int | str, str] = field(default_factory=dict)

    def lookup(self, label: int | str, where: str) -> str | None:
        """The canonical class of `label`, None when the source marks it as no expression;
        `DatasetError` naming `where` when the label is not in the map."""
        if label in self.classes:
            return self.classes[label]
        if label in self.dropped:
            return None
        known = sorted(list(self.classes) + list(self.dropped), key=str)
        raise DatasetError(f"{where}: {self.title} label {label!r} out of range "
                           f"(expected one of {', '.join(map(str, known))})")

    def parse(self, text: str, where: str) -> str | None:
        """`lookup` of a label read from a text file ("5", "3.0000000e+00" or a code)."""
        text = text.strip()
        keys = {type(k) for k in (*self.classes, *self.dropped)}
        if int in keys:
            try:
                value = float(text)
            except ValueError:
                raise DatasetError(f"{where}: {self.title} label {text!r} is not a number") from None
            if not value.is_integer():
                raise DatasetError(f"{where}: {self.title} label {text!r} is not a whole number")
            return self.lookup(int(value), where)
        return self.lookup(text.upper(), where)

    def describe(self) -> list[str]:
        """One line per label, e.g. "RAF-DB label 1 -> surprise", as the report prints them."""
        lines = [f"{self.title} label {k} -> {v}" for k, v in self.classes.items()]
        return lines + [f"{self.title} label {k} ({v}) -> dropped" for k, v in self.dropped.items()]


LABEL_MAPS: dict[str, LabelMap] = {}


def register(label_map: LabelMap) -> LabelMap:
    LABEL_MAPS[label_map.name] = label_map
    return label_map


def get_label_map(name: str) -> LabelMap:
    try:
        return LABEL_MAPS[name]
    except KeyError:
        raise DatasetError(f"unknown data.label_map {name!r} (expected one of {', '.join(LABEL_MAPS)})") from None


def _numbered(names, start: int = 0) -> dict[int | str, str]:
    return {i + start: n for i, n in enumerate(names)}


assert CANONICAL_CLASSES[7] == "contempt"
FER2013 = register(LabelMap("fer2013", "FER2013", _numbered(FER2013_CLASSES)))
RAFDB = register(LabelMap("rafdb", "RAF-DB", _numbered(
    ("surprise", "fear", "disgust", "happy", "sad", "angry", "neutral"), start=1)))
AFFECTNET = register(LabelMap("affectnet", "AffectNet", _numbered(
    ("neutral", "happy", "sad", "surprise", "fear", "disgust", "angry", "contempt")),
    dropped={8: "none", 9: "uncertain", 10: "no-face"}))
CKPLUS = register(LabelMap("ckplus", "CK+", _numbered(
    ("neutral", "angry", "contempt", "disgust", "fear", "happy", "sad", "surprise"))))
EXPW = register(LabelMap("expw", "ExpW", _numbered(FER2013_CLASSES)))
JAFFE = register(LabelMap("jaffe", "JAFFE", {
    "AN": "angry", "DI": "disgust", "FE": "fear", "HA": "happy", "NE": "neutral", "SA": "sad", "SU": "surprise"}))
#: FERPlus vote columns, in the order of fer2013new.csv; the last two are not expressions.
FERPLUS_COLUMNS = ("neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt",
                   "unknown", "NF")
FERPLUS = register(LabelMap("ferplus", "FERPlus", {
    "neutral": "neutral", "happiness": "happy", "surprise": "surprise", "sadness": "sad", "anger": "angry",
    "disgust": "disgust", "fear": "fear", "contempt": "contempt"},
    dropped={"unknown": "top vote unknown", "NF": "top vote not a face"}))
