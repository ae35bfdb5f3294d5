"""The canonical FER classes and the folder-name aliases people use for them."""
from __future__ import annotations

#: Canonical order: the FER2013 CSV `emotion` index (0 angry ... 6 neutral), then contempt,
#: the eighth class of the datasets that have it (AffectNet, CK+, FERPlus).
CANONICAL_CLASSES: tuple[str, ...] = (
    "angry", "disgust", "fear", "happy", "sad", "surprise", "neutral", "contempt",
)
#: FER2013's seven classes, in its label order.
FER2013_CLASSES: tuple[str, ...] = CANONICAL_CLASSES[:7]

_ALIASES: dict[str, str] = {
    "angry": "angry", "anger": "angry", "mad": "angry",
    "disgust": "disgust", "disgusted": "disgust", "disgusting": "disgust",
    "fear": "fear", "fearful": "fear", "afraid": "fear", "scared": "fear",
    "happy": "happy", "happiness": "happy", "joy": "happy", "happy_face": "happy",
    "sad": "sad", "sadness": "sad", "unhappy": "sad",
    "surprise": "surprise", "surprised": "surprise", "suprise": "surprise",
    "neutral": "neutral", "calm": "neutral", "none": "neutral",
    "contempt": "contempt", "contemptuous": "contempt",
}


class UnknownClassError(ValueError):
    """Raised with every folder name that matches no canonical class."""

    def __init__(self, names: list[str]):
        self.names = sorted(names)
        known = ", ".join(CANONICAL_CLASSES)
        super().__init__(
            f"unknown class folder name(s): {', '.join(self.names)} "
            f"(expected one of {known} or a common alias such as anger, happiness, sadness, surprised; "
            f"digit folders need data.label_map, e.g. fer2013 or rafdb)"
        )


def canonical_name(name: str) -> str | None:
    """Canonical class for a class name (case-insensitive, aliases), or None.

    Digits are not class names: datasets number their classes differently (see `label_maps`).
    """
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    return _ALIASES.get(key)


def canonicalize(names: list[str]) -> dict[str, str]:
    """Map each folder name to its canonical class; raise listing all unknown names."""
    mapping, unknown = {}, []
    for n in names:
        c = canonical_name(n)
        if c is None:
            unknown.append(n)
        else:
            mapping[n] = c
    if unknown:
        raise UnknownClassError(unknown)
    return mapping

