"""Stratified k-fold splits (per subject when subjects are known): the fold split for
cross-validation runs."""
from __future__ import annotations

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold


def stratified_folds(labels: np.ndarray, k: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """k (train_idx, val_idx) pairs by scikit-learn's StratifiedKFold: validation sets are
    disjoint, cover every sample once, and hold each class in proportion (per-class counts
    differ by at most one between folds)."""
    labels = np.asarray(labels)
    if k < 2:
        raise ValueError(f"k-fold needs k >= 2, got {k}")
    classes, counts = np.unique(labels, return_counts=True)
    too_small = [f"{c} ({n})" for c, n in zip(classes, counts) if n < k]
    if too_small:
        raise ValueError(f"k-fold with k={k} needs at least {k} samples of every class; "
                         f"too few in class(es) {', '.join(too_small)}: lower kfold.k or add data")
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(labels)), labels))


def grouped_folds(labels: np.ndarray, groups: np.ndarray, k: int, seed: int = 0
                  ) -> list[tuple[np.ndarray, np.ndarray]]:
    """k (train_idx, val_idx) pairs in which every subject (group) lies in one validation set
    only, classes as balanced as whole subjects allow (scikit-learn's StratifiedGroupKFold)."""
    if k < 2:
        raise ValueError(f"k-fold needs k >= 2, got {k}")
    n_groups = len(np.unique(groups))
    if n_groups < k:
        raise ValueError(f"subject-wise k-fold with k={k} needs at least {k} subjects; the data has "
                         f"{n_groups}: lower kfold.k")
    splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    return [(tr, va) for tr, va in splitter.split(np.zeros(len(labels)), labels, groups)]
