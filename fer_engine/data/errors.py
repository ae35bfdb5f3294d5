"""The error a dataset loader raises for an unusable dataset, and printable file names."""
from __future__ import annotations


class DatasetError(ValueError):
    """A dataset that cannot be used; the message names the path and the problem."""

    def __init__(self, message: str):
        super().__init__(printable(message))


def printable(text: str) -> str:
    """Text safe to print or show: bytes of non-UTF-8 file names (surrogate escapes) as \\xNN."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
