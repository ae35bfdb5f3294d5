"""The seven canonical FER classes and the folder-name aliases people use for them."""
from __future__ import annotations

#: Canonical order: the FER2013 CSV `emotion` index (0 angry ... 6 neutral).
CANONICAL_CLASSES: tuple[str, ...] = (
    "angry", "disgust", "fear", "happy", "sad", "surprise", "neutral",
)

_ALIASES: dict[str, str] = {
    "angry": "angry", "anger": "angry", "mad": "angry",
    "disgust": "disgust", "disgusted": "disgust", "disgusting": "disgust",
    "fear": "fear", "fearful": "fear", "afraid": "fear", "scared": "fear",
    "happy": "happy", "happiness": "happy", "joy": "happy", "happy_face": "happy",
    "sad": "sad", "sadness": "sad", "unhappy": "sad",
    "surprise": "surprise", "surprised": "surprise", "suprise": "surprise",
    "neutral": "neutral", "calm": "neutral", "none": "neutral",
}


class UnknownClassError(ValueError):
    """Raised with every folder name that matches no canonical class."""

    def __init__(self, names: list[str]):
        self.names = sorted(names)
        known = ", ".join(CANONICAL_CLASSES)
        super().__init__(
            f"unknown class folder name(s): {', '.join(self.names)} "
            f"(expected one of {known} or a common alias such as anger, happiness, sadness, surprised)"
        )


def canonical_name(name: str) -> str | None:
    """Canonical class for a folder name (case-insensitive, aliases), or None."""
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    if key.isdigit() and int(key) < len(CANONICAL_CLASSES):
        return CANONICAL_CLASSES[int(key)]
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


def ordered_present(classes) -> list[str]:
    """The given canonical classes in canonical order (a dataset may hold a subset)."""
    present = set(classes)
    return [c for c in CANONICAL_CLASSES if c in present]
