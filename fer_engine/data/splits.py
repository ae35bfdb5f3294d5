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
                    test_fraction: float, seed: int, groups: np.ndarray | None = None
                    ) -> tuple[np.ndarray, list[str]]:
    """Split codes for every face after applying the layout's rule, and a note on what was done.

    With `groups` (a subject id per face) the faces of one subject all go to one split."""
    codes = splits.copy()
    if rule == SPLIT_NONE:
        return codes, []
    if groups is not None:
        return _group_splits(codes, groups, rule, val_fraction, test_fraction, seed)
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


def _group_splits(codes: np.ndarray, groups: np.ndarray, rule: str, val_fraction: float,
                  test_fraction: float, seed: int) -> tuple[np.ndarray, list[str]]:
    """Whole subjects, in a seeded random order, fill test then val up to their share of faces."""
    pool_code = UNASSIGNED if rule == SPLIT_ALL else TRAIN
    pool = np.flatnonzero(codes == pool_code)
    codes[pool] = TRAIN
    fractions = {TEST: test_fraction, VAL: val_fraction} if rule == SPLIT_ALL else {VAL: val_fraction}
    subjects, inverse = np.unique(groups[pool], return_inverse=True)
    sizes = np.bincount(inverse)
    order = np.random.default_rng(seed).permutation(len(subjects))
    taken, start = {}, 0
    for code, fraction in fractions.items():
        chosen: list[int] = []
        while fraction > 0 and start < len(order) - 1 and sizes[chosen].sum() < fraction * len(pool):
            chosen.append(order[start])  # the last subject always stays in train
            start += 1
        codes[pool[np.isin(inverse, chosen)]] = code
        taken[code] = len(chosen)
    names = {TEST: "test", VAL: "val"}
    detail = ", ".join(f"{taken[c]} in {names[c]}" for c in taken)
    return codes, [f"subject-wise split with seed {seed}: {len(subjects)} subject(s), {detail}, "
                   f"the rest in train; no subject is in two splits"]


def subjects_across_splits(groups: np.ndarray, codes: np.ndarray) -> list[str]:
    """Subjects whose faces lie in more than one split (a leak between training and evaluation)."""
    known = groups != ""
    pairs = {(g, c) for g, c in zip(groups[known].tolist(), codes[known].tolist()) if c >= 0}
    seen: dict[str, int] = {}
    for g, _ in pairs:
        seen[g] = seen.get(g, 0) + 1
    return sorted(g for g, n in seen.items() if n > 1)
