"""Finding wrong labels with cleanlab: flipped demo labels are found from held-out probabilities."""
from __future__ import annotations

import numpy as np
import pytest

from fer_engine.config import DataConfig
from fer_engine.data import load_dataset
from fer_engine.data.demo import generate_demo
from fer_engine.eval.label_issues import rank_label_issues, rank_with_votes


def _hog(images: np.ndarray) -> np.ndarray:
    import cv2

    hog = cv2.HOGDescriptor((48, 48), (16, 16), (8, 8), (8, 8), 9)
    return np.stack([hog.compute(np.ascontiguousarray(im[..., 0])).ravel() for im in images])


def test_flipped_demo_labels_are_found(tmp_path):
    """10% of 560 demo training labels flipped; out-of-fold probabilities from a quick HOG + LDA
    classifier (a stand-in for a k-fold run, which the run test below covers); precision and
    recall of cleanlab's flags against the flips both >= 0.6."""
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.model_selection import cross_val_predict

    generate_demo(tmp_path / "demo", counts={"train": 80})
    d = load_dataset(DataConfig(path=str(tmp_path / "demo"), cache_dir=str(tmp_path / "cache")))
    idx = d.splits["train"]
    labels = d.labels[idx].copy()
    rng = np.random.default_rng(0)
    flipped = rng.choice(len(labels), len(labels) // 10, replace=False)
    labels[flipped] = (labels[flipped] + rng.integers(1, 7, len(flipped))) % 7
    probs = cross_val_predict(LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto"),
                              _hog(d.images[idx]), labels, cv=4, method="predict_proba")
    flagged, scores = rank_label_issues(labels, probs)
    hits = np.isin(np.flatnonzero(flagged), flipped).sum()
    precision, recall = hits / max(flagged.sum(), 1), hits / len(flipped)
    assert precision >= 0.6 and recall >= 0.6, (precision, recall)
    assert scores[flipped].mean() < scores[np.setdiff1d(np.arange(len(labels)), flipped)].mean()


def test_votes_rank_through_the_multi_annotator_consensus():
    """FERPlus-style votes: a face whose annotators mostly disagree with its label scores low."""
    n, k = 60, 3
    truth = np.arange(n) % k
    votes = np.zeros((n, k))
    for i, t in enumerate(truth):
        votes[i, t] = 7
        votes[i, (t + 1) % k] = 3
    votes[5] = [0, 2, 8]  # face 5 (class 2 truly) ...
    probs = np.full((n, k), 0.05)
    probs[np.arange(n), truth] = 0.9
    consensus, score, agreement = rank_with_votes(votes, probs)
    assert (consensus[np.arange(n) != 5] == truth[np.arange(n) != 5]).all()
    assert agreement[0] == pytest.approx(0.7) and np.all((score >= 0) & (score <= 1))


def test_ranking_never_forks_the_calling_process(monkeypatch):
    """cleanlab forks a Pool by default; a fork of a threaded process (GUI, torch) can deadlock."""
    import multiprocessing

    def no_pool(*a, **k):
        raise AssertionError("cleanlab forked a multiprocessing.Pool")

    monkeypatch.setattr(multiprocessing, "Pool", no_pool)
    monkeypatch.setattr(multiprocessing, "cpu_count", lambda: 4)  # as on a machine with cores to spare
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 7, 700)
    probs = rng.dirichlet(np.ones(7), 700)
    probs[np.arange(700), labels] += 1.0
    flagged, scores = rank_label_issues(labels, probs / probs.sum(1, keepdims=True))
    assert flagged.shape == scores.shape == (700,)
