"""Training faces a careful user drops: copies of validation/test faces (leakage), faces whose
identical copies carry another label (conflicts), and near-blank faces. `data.drop_flagged`
turns the drop on; the run records it (its config) and says how many were removed (a note in
dataset.json and the run log).

Faces are compared as decoded pixels (what training sees), so two files that decode to the
same face count as one image even when their bytes differ.
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import replace

import numpy as np

from .arrays import DatasetArrays

NEAR_BLANK_STD = 1.0  # gray pixel standard deviation (0..255) below which a face is blank (as the report)


def flagged_training_faces(data: DatasetArrays) -> dict[str, np.ndarray]:
    """Training rows (indices into `data.images`) by reason: "leaked", "conflicting", "near_blank"."""
    train = data.splits.get("train", np.zeros(0, np.int64))
    split_of = {int(i): name for name, idx in data.splits.items() for i in idx}
    rows = np.fromiter(split_of, np.int64)
    groups: dict[bytes, list[int]] = defaultdict(list)
    for i in rows:
        groups[hashlib.md5(data.images[i].tobytes()).digest()].append(int(i))
    leaked, conflicting = set(), set()
    for members in groups.values():
        if len(members) < 2:
            continue
        in_train = [i for i in members if split_of[i] == "train"]
        if len(in_train) < len(members):
            leaked.update(in_train)
        if len({int(data.labels[i]) for i in members}) > 1:
            conflicting.update(in_train)
    faces = data.images[train].astype(np.float32)
    gray = faces.mean(axis=-1) if faces.shape[-1] > 1 else faces[..., 0]
    blank = train[gray.reshape(len(train), -1).std(axis=1) < NEAR_BLANK_STD] if len(train) else train
    return {"leaked": np.array(sorted(leaked), np.int64), "conflicting": np.array(sorted(conflicting), np.int64),
            "near_blank": np.asarray(blank, np.int64)}


def drop_flagged(data: DatasetArrays) -> DatasetArrays:
    """The dataset without its flagged training faces, with a note saying how many went and why."""
    flagged = flagged_training_faces(data)
    drop = np.unique(np.concatenate(list(flagged.values())))
    train = np.setdiff1d(data.splits.get("train", np.zeros(0, np.int64)), drop)
    note = (f"data.drop_flagged: removed {len(drop)} training images ({len(flagged['leaked'])} copies of "
            f"val/test faces, {len(flagged['conflicting'])} with conflicting labels, "
            f"{len(flagged['near_blank'])} near-blank)")
    return replace(data, splits={**data.splits, "train": train}, notes=[*data.notes, note])
