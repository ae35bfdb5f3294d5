"""Seeded, stratified splitting and per-class capping of decoded datasets."""
from __future__ import annotations

import numpy as np

from .layouts import SPLIT_ALL, SPLIT_NONE, SPLIT_VAL_FROM_TRAIN, SPLITS, UNASSIGNED

TRAIN, VAL, TEST = (SPLITS.index(s) for s in SPLITS)


#: the split-fraction keys a layout's split rule leaves without effect, and why
_UNUSED_FRACTIONS = {
    SPLIT_NONE: {"data.val_fraction": "the dataset brings its own validation split",
                 "data.test_fraction": "the dataset brings its own test split"},
    SPLIT_VAL_FROM_TRAIN: {"data.test_fraction": "split folders: the test split is the test/ folder "
                                                 "(no test split without one)"},
    SPLIT_ALL: {},
}


def unused_fraction_keys(rule: str) -> dict[str, str]:
    """Config keys that change nothing for a layout with this split rule -> the reason."""
    return dict(_UNUSED_FRACTIONS.get(rule, {}))


def complete_splits(labels: np.ndarray, splits: np.ndarray, rule: str, val_fraction: float,
                    test_fraction: float, seed: int) -> tuple[np.ndarray, list[str]]:
    """Split codes for every face after applying the layout's rule, and a note on what was done."""
    codes = splits.copy()
    if rule == SPLIT_NONE:
        return codes, []
    if rule == SPLIT_ALL:
        pool = np.flatnonzero(codes == UNASSIGNED)
        codes[pool] = TRAIN
        fractions = {VAL: val_fraction, TEST: test_fraction}
        note = (f"stratified split with seed {seed}: {val_fraction:g} val, {test_fraction:g} test")
    elif rule == SPLIT_VAL_FROM_TRAIN:
        pool = np.flatnonzero(codes == TRAIN)
        fractions = {VAL: val_fraction}
        note = f"validation carved from train: {val_fraction:g} per class, seed {seed}"
    else:
        raise ValueError(f"unknown split rule {rule!r}")
    rng = np.random.default_rng(seed)
    for c in np.unique(labels[pool]):
        members = rng.permutation(pool[labels[pool] == c])
        start = 0
        for code, fraction in fractions.items():
            take = _share(len(members), fraction)
            codes[members[start:start + take]] = code
            start += take
    return codes, [note]


def _share(n: int, fraction: float) -> int:
    """round(n * fraction), but at least one face of a class with 3+ faces when fraction > 0."""
    if fraction <= 0 or n == 0:
        return 0
    k = int(round(n * fraction))
    return min(max(k, 1 if n >= 3 else 0), n - 1)


def stratified_subset(indices: np.ndarray, labels: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """A random `fraction` of `indices` in every class (class proportions kept, at least one
    face per class), chosen with `seed`, in ascending order."""
    if fraction >= 1.0:
        return indices
    rng = np.random.default_rng(seed)
    kept = []
    for c in np.unique(labels[indices]):
        members = indices[labels[indices] == c]
        kept.append(rng.choice(members, max(1, round(fraction * len(members))), replace=False))
    return np.sort(np.concatenate(kept)) if kept else indices


def cap_per_class(indices: np.ndarray, labels: np.ndarray, cap: int, seed: int) -> np.ndarray:
    """At most `cap` of `indices` per class, chosen at random with `seed`, in ascending order."""
    if cap <= 0:
        return indices
    rng = np.random.default_rng(seed)
    kept = []
    for c in np.unique(labels[indices]):
        members = indices[labels[indices] == c]
        kept.append(members if len(members) <= cap else rng.choice(members, cap, replace=False))
    return np.sort(np.concatenate(kept)) if kept else indices
