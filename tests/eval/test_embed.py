from __future__ import annotations

import numpy as np
import pytest
from sklearn.decomposition import PCA

from fer_engine.eval.embed import embed, pca_2d, tsne_2d
from fer_engine.progress import Cancelled


def _features(n=120, d=16, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n, d)) * np.linspace(3, 0.1, d)).astype(np.float32)


def test_pca_shape_variance_and_equality_with_sklearn():
    x = _features()
    e = pca_2d(x)
    assert e.points.shape == (120, 2) and e.points.dtype == np.float32
    ref = PCA(n_components=2).fit(x)
    np.testing.assert_allclose(e.explained_variance_ratio, ref.explained_variance_ratio_, rtol=1e-4)
    assert 0 < e.explained_variance_ratio.sum() <= 1
    expected = ref.transform(x)
    signs = np.sign((e.points * expected).sum(0))  # components are defined up to sign
    np.testing.assert_allclose(e.points * signs, expected, rtol=1e-3, atol=1e-3)
    assert "of variance" in e.axis_labels[0]


def test_pca_of_tiny_inputs_still_gives_two_columns():
    assert pca_2d(np.ones((1, 5))).points.shape == (1, 2)
    e = pca_2d(_features(10, 1))
    assert e.points.shape == (10, 2) and e.explained_variance_ratio.sum() == pytest.approx(1.0)


def test_tsne_is_an_option_and_is_cancellable():
    x = _features(60, 64)
    e = embed(x, "tsne", perplexity=10)
    assert e.points.shape == (60, 2) and e.method == "tsne" and e.explained_variance_ratio is None
    with pytest.raises(Cancelled):
        tsne_2d(x, should_stop=lambda: True)


def test_tsne_in_a_process_matches_in_process_and_a_stop_ends_it():
    import multiprocessing as mp
    import time

    x = _features(40, 8)
    inline = tsne_2d(x, perplexity=8)
    in_child = tsne_2d(x, perplexity=8, should_stop=lambda: False)
    np.testing.assert_allclose(in_child.points, inline.points, rtol=1e-4, atol=1e-4)
    deadline = time.monotonic() + 0.3
    with pytest.raises(Cancelled):
        tsne_2d(_features(3000, 8), should_stop=lambda: time.monotonic() > deadline)
    assert not mp.active_children()
    with pytest.raises(ValueError, match="unknown embedding 'umap'"):
        embed(x, "umap")
