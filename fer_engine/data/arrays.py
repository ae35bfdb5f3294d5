"""The in-memory form of a dataset that training, evaluation and the GUI share."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import DatasetError

HELD_OUT = ("val", "test")


@dataclass
class DatasetArrays:
    """All faces of a dataset decoded once, as compact uint8 arrays.

    images: (N, H, W, C) uint8, C = 1 (grayscale) or 3 (RGB), H = W = DataConfig.image_size.
    labels: (N,) int64, indexes into `class_names`.
    class_names: canonical names present (fer_engine.classes order), a subset of the seven.
    splits: split name ("train", "val", "test") -> int64 indices into images.
    sources: (N,) where each face came from: a file path, or "file.csv#row" for CSV rows.
    notes: human-readable lines about how the layout was read (e.g. PublicTest used as val).
    unreadable: files that could not be decoded and were skipped, with the reason.
    """

    images: np.ndarray
    labels: np.ndarray
    class_names: list[str]
    splits: dict[str, np.ndarray]
    sources: list[str]
    layout: str = ""  # "split_folders", "kaggle_fer2013", "class_folders", "fer2013_csv", "demo"
    notes: list[str] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (file, reason), skipped
    groups: np.ndarray | None = None  # (N,) subject id per face, where the format or data.subject_regex gives one
    votes: np.ndarray | None = None  # (N, K) float32 annotator votes over class_names (FERPlus)
    soft: np.ndarray | None = None  # (N, K) float32 target distributions (data.label_mode "probability")
    label_map: list[str] = field(default_factory=list)  # the label map read, e.g. "RAF-DB label 1 -> surprise"

    def split(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(images, labels) of one split."""
        idx = self.splits[name]
        return self.images[idx], self.labels[idx]

    def class_counts(self, split: str) -> np.ndarray:
        return np.bincount(self.labels[self.splits[split]], minlength=len(self.class_names))

    def check_trainable(self, source: str) -> list[str]:
        """Raise DatasetError when no classifier can be trained on this dataset (no training
        images, one class); otherwise warnings about classes missing from a split."""
        if len(self.splits.get("train", ())) == 0:
            raise DatasetError(f"dataset {source} has no training images")
        trained = [n for n, c in zip(self.class_names, self.class_counts("train")) if c]
        if len(trained) < 2:
            raise DatasetError(
                f"dataset {source} has only one class to train on ({', '.join(trained)}): a classifier "
                "needs at least two; add another class folder")
        splits = ["train", *(s for s in HELD_OUT if len(self.splits.get(s, ())))]
        counts = {s: self.class_counts(s) for s in splits}
        totals = np.bincount(self.labels, minlength=len(self.class_names))
        out = []
        for k, name in enumerate(self.class_names):
            missing = [s for s in splits if counts[s][k] == 0]
            if missing:
                out.append(f"class {name!r} has {totals[k]} image(s), none in {' or '.join(missing)}: "
                           f"it is {'never learnt' if 'train' in missing else 'not measured there'}; "
                           f"give it at least {len(splits)} images")
        return out
