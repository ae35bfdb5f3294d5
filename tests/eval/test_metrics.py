from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from fer_engine.scoring import metrics as M
from fer_engine.scoring.predictions import Predictions, cross_entropy

K = 5
NAMES = ["angry", "fear", "happy", "sad", "neutral"]


def _arrays(seed=0, n=300, k=K):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, k, n)
    y_pred = np.where(rng.random(n) < 0.5, y_true, rng.integers(0, k, n))
    return y_true, y_pred


def _preds(y_true, y_pred, seed=0):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(len(y_true), K)).astype(np.float32)
    logits[np.arange(len(y_pred)), y_pred] += 10  # argmax == y_pred
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    return Predictions(index=np.arange(len(y_true)), y_true=y_true, y_pred=y_pred,
                       probs=probs.astype(np.float32), logits=logits,
                       losses=cross_entropy(probs, y_true),
                       features=rng.normal(size=(len(y_true), 4)).astype(np.float32),
                       class_names=NAMES)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_metrics_equal_sklearn(seed):
    y_true, y_pred = _arrays(seed)
    cm = M.confusion_matrix(y_true, y_pred, K)
    np.testing.assert_array_equal(cm, skm.confusion_matrix(y_true, y_pred, labels=range(K)))
    np.testing.assert_allclose(M.normalize_rows(cm),
                               skm.confusion_matrix(y_true, y_pred, labels=range(K), normalize="true"))
    p, r, f, s = skm.precision_recall_fscore_support(y_true, y_pred, labels=range(K), zero_division=0)
    ours = M.per_class(cm, NAMES)
    np.testing.assert_allclose([m.precision for m in ours], p)
    np.testing.assert_allclose([m.recall for m in ours], r)
    np.testing.assert_allclose([m.f1 for m in ours], f)
    np.testing.assert_array_equal([m.support for m in ours], s)
    assert M.accuracy(cm) == pytest.approx(skm.accuracy_score(y_true, y_pred))
    assert M.macro_f1(cm) == pytest.approx(skm.f1_score(y_true, y_pred, average="macro"))
    assert M.balanced_accuracy(cm) == pytest.approx(skm.balanced_accuracy_score(y_true, y_pred))


def test_subset_of_classes_and_unknown_labels_match_sklearn_on_present_classes():
    y_true, y_pred = _arrays(3)
    y_true = np.where(y_true == 1, 2, y_true)  # class 1 ("fear") absent from the data
    y_true[:7] = -1  # class unknown to the model: excluded
    keep = y_true >= 0
    cm = M.confusion_matrix(y_true, y_pred, K)
    np.testing.assert_array_equal(M.present_classes(cm), [0, 2, 3, 4])
    assert cm.sum() == keep.sum() and cm[1].sum() == 0 and cm[:, 1].sum() > 0
    t, p = y_true[keep], y_pred[keep]
    present = [0, 2, 3, 4]
    assert M.macro_f1(cm) == pytest.approx(skm.f1_score(t, p, labels=present, average="macro"))
    with pytest.warns(UserWarning):  # sklearn warns about the predicted-only class, then ignores it
        expected = skm.balanced_accuracy_score(t, p)
    assert M.balanced_accuracy(cm) == pytest.approx(expected)
    assert M.accuracy(cm) == pytest.approx(skm.accuracy_score(t, p))
    s = M.summary(_preds(y_true, y_pred))
    assert s["num_excluded"] == 7 and s["num_samples"] == keep.sum()
    assert s["present_classes"] == ["angry", "happy", "sad", "neutral"]


def test_most_confused_order_and_min_count():
    cm = np.array([[5, 3, 0], [7, 2, 3], [1, 0, 9]])
    names = ["a", "b", "c"]
    assert M.most_confused(cm, names) == [("b", "a", 7), ("a", "b", 3), ("b", "c", 3), ("c", "a", 1)]
    assert M.most_confused(cm, names, min_count=3) == [("b", "a", 7), ("a", "b", 3), ("b", "c", 3)]


def test_cell_gallery_holds_exactly_that_cell_sorted_by_confidence():
    y_true, y_pred = _arrays(4)
    preds = _preds(y_true, y_pred, seed=4)
    conf = preds.confidence
    for t in range(K):
        for p in range(K):
            rows = M.cell_indices(y_true, y_pred, t, p, conf)
            assert set(rows) == set(np.flatnonzero((y_true == t) & (y_pred == p)))
            assert len(rows) == len(set(rows))
            assert np.all(np.diff(conf[rows]) <= 0)


def test_top_losses_are_the_largest_losses_first():
    y_true, y_pred = _arrays(5)
    y_true[0] = -1
    preds = _preds(y_true, y_pred, seed=5)
    top = M.top_losses(preds, 10)
    known = np.flatnonzero(y_true >= 0)
    expected = known[np.argsort(-preds.losses[known])][:10]
    np.testing.assert_array_equal(np.sort(preds.losses[top]), np.sort(preds.losses[expected]))
    assert np.all(np.diff(preds.losses[top]) <= 0) and 0 not in top
    assert len(M.top_losses(preds)) == len(known)


def test_summary_reports_prior_correction_beside_the_plain_argmax():
    # the model leans to class 0 (frequent in train); the rare class 4 is truly present
    rng = np.random.default_rng(6)
    n = 400
    y_true = rng.integers(0, K, n)
    logits = rng.normal(scale=0.5, size=(n, K)).astype(np.float32)
    logits[np.arange(n), y_true] += 1.0
    train_counts = np.array([1000, 300, 300, 300, 20], dtype=float)
    logits += np.log(train_counts / train_counts.sum()).astype(np.float32)  # train prior baked in
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    preds = Predictions(index=np.arange(n), y_true=y_true, y_pred=probs.argmax(1), probs=probs,
                        logits=logits, losses=cross_entropy(probs, y_true),
                        features=np.zeros((n, 2), np.float32), class_names=NAMES)
    s = M.summary(preds, train_counts=train_counts)
    pc = s["prior_corrected"]
    assert set(pc) >= {"accuracy", "macro_f1", "balanced_accuracy", "confusion_matrix", "target"}
    plain_rare = np.asarray(s["confusion_matrix"])[:, 4].sum()
    corrected_rare = np.asarray(pc["confusion_matrix"])[:, 4].sum()
    assert corrected_rare > plain_rare  # shifted toward the rare class
    assert pc["balanced_accuracy"] > s["balanced_accuracy"]
    assert "prior_corrected" not in M.summary(preds)
