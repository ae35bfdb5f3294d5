"""Balanced sampling equalises classes; k-fold folds are disjoint, stratified and covering."""
import numpy as np
import pytest

from fer_engine.recipe.folds import stratified_folds
from fer_engine.recipe.sampling import epoch_indices

IMBALANCED = np.repeat([0, 1, 2, 3], [2000, 400, 60, 12])


def test_plain_epoch_is_a_permutation():
    idx = epoch_indices(IMBALANCED, balanced=False, rng=np.random.default_rng(0))
    assert np.array_equal(np.sort(idx), np.arange(len(IMBALANCED)))


def test_balanced_sampler_batches_are_near_uniform():
    idx = epoch_indices(IMBALANCED, balanced=True, rng=np.random.default_rng(0))
    assert len(idx) == len(IMBALANCED)
    batches = IMBALANCED[idx][: (len(idx) // 64) * 64].reshape(-1, 64)
    per_batch = np.stack([np.bincount(b, minlength=4) / 64 for b in batches])
    np.testing.assert_allclose(per_batch.mean(0), 0.25, atol=0.02)
    assert per_batch.min(0).min() > 0.05  # even the 12-sample class shows up in every batch
    plain = IMBALANCED[epoch_indices(IMBALANCED, False, np.random.default_rng(0))]
    assert np.mean(plain == 3) < 0.01  # without the sampler it is almost never seen


def test_balanced_sampler_is_reproducible_from_the_rng():
    a = epoch_indices(IMBALANCED, True, np.random.default_rng(5))
    assert np.array_equal(a, epoch_indices(IMBALANCED, True, np.random.default_rng(5)))


def test_folds_are_disjoint_covering_and_stratified():
    labels = np.random.default_rng(1).choice(7, size=1003, p=[0.14, 0.02, 0.14, 0.25, 0.17, 0.11, 0.17])
    folds = stratified_folds(labels, 5, seed=0)
    assert len(folds) == 5
    vals = [v for _, v in folds]
    assert np.array_equal(np.sort(np.concatenate(vals)), np.arange(len(labels)))  # covering, disjoint
    for train, val in folds:
        assert np.intersect1d(train, val).size == 0 and len(train) + len(val) == len(labels)
    per_class = np.stack([np.bincount(labels[v], minlength=7) for v in vals])
    assert (per_class.max(0) - per_class.min(0)).max() <= 1  # stratified to within one sample
    sizes = [len(v) for v in vals]
    assert max(sizes) - min(sizes) <= 1


def test_folds_depend_on_the_seed_only():
    labels = np.repeat(np.arange(3), 20)
    a, b = stratified_folds(labels, 4, seed=3), stratified_folds(labels, 4, seed=3)
    assert all(np.array_equal(x[1], y[1]) for x, y in zip(a, b))
    assert not all(np.array_equal(x[1], y[1]) for x, y in zip(a, stratified_folds(labels, 4, seed=4)))


def test_too_few_samples_of_a_class_is_a_clear_error():
    labels = np.array([0] * 10 + [1] * 2)
    with pytest.raises(ValueError, match=r"k=3 needs at least 3 samples.*class\(es\) 1 \(2\)"):
        stratified_folds(labels, 3, seed=0)
    with pytest.raises(ValueError, match="k >= 2"):
        stratified_folds(labels, 1, seed=0)
