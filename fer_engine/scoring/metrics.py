"""Classification metrics on plain arrays (fastai `ClassificationInterpretation` style).

Every function takes integer label arrays indexing the model's K classes. Faces whose
true class the model does not know (`y_true == -1`, see `predict`) are left out of every
metric. Class-averaged numbers (macro-F1, balanced accuracy) average over the classes
*present* in the data (support > 0), which is what scikit-learn computes with
`labels=present`; with all classes present they equal scikit-learn's defaults.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Sequence

import numpy as np

from .predictions import Predictions


def _known(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y_true, y_pred = np.asarray(y_true, np.int64), np.asarray(y_pred, np.int64)
    keep = y_true >= 0
    return y_true[keep], y_pred[keep]


def vote_cross_entropy(probs: np.ndarray, votes: np.ndarray) -> float:
    """Mean cross-entropy of predicted probabilities (N, K) against vote distributions (N, K)
    (FERPlus): how well a model matches all the annotators, not just the top vote."""
    q = np.asarray(votes, np.float64)
    q = q / np.maximum(q.sum(axis=1, keepdims=True), 1e-12)
    logp = np.log(np.clip(np.asarray(probs, np.float64), 1e-12, 1.0))
    return float(-(q * logp).sum(axis=1).mean()) if len(q) else math.nan


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """(K, K) int64 counts: row = true class, column = predicted class."""
    t, p = _known(y_true, y_pred)
    return np.bincount(t * num_classes + p, minlength=num_classes * num_classes).reshape(
        num_classes, num_classes)


def normalize_rows(cm: np.ndarray) -> np.ndarray:
    """Row-normalised matrix (each row sums to 1: the recall view); empty rows stay 0."""
    cm = np.asarray(cm, dtype=np.float64)
    support = cm.sum(axis=1, keepdims=True)
    return np.divide(cm, support, out=np.zeros_like(cm), where=support > 0)


def present_classes(cm: np.ndarray) -> np.ndarray:
    """Indices of the classes with at least one true face (the rows a matrix shows)."""
    return np.flatnonzero(np.asarray(cm).sum(axis=1) > 0)


@dataclass(frozen=True)
class ClassMetrics:
    name: str
    precision: float
    recall: float
    f1: float
    support: int


def _prf(cm: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-class precision, recall, F1, support; 0 where undefined (sklearn's zero_division=0)."""
    cm = np.asarray(cm, dtype=np.float64)
    tp = np.diag(cm)
    predicted, support = cm.sum(axis=0), cm.sum(axis=1)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    return precision, recall, f1, support


def per_class(cm: np.ndarray, class_names: Sequence[str]) -> list[ClassMetrics]:
    """Precision, recall, F1 and support of each class."""
    precision, recall, f1, support = _prf(cm)
    return [ClassMetrics(str(n), float(p), float(r), float(f), int(s))
            for n, p, r, f, s in zip(class_names, precision, recall, f1, support)]


def accuracy(cm: np.ndarray) -> float:
    total = np.asarray(cm).sum()
    return float(np.trace(cm) / total) if total else 0.0


def macro_f1(cm: np.ndarray) -> float:
    """Mean F1 over the present classes."""
    present = present_classes(cm)
    if not len(present):
        return 0.0
    return float(_prf(cm)[2][present].mean())


def balanced_accuracy(cm: np.ndarray) -> float:
    """Mean recall over the present classes."""
    present = present_classes(cm)
    if not len(present):
        return 0.0
    return float(_prf(cm)[1][present].mean())


@dataclass(frozen=True)
class Baselines:
    """What an accuracy must beat on the same faces: guessing, and always saying the commonest class."""
    chance: float  # 1 / number of classes present (a uniform random guess)
    majority: float  # share of the most frequent true class (always predicting it)
    majority_class: str


def chance_and_majority(class_counts: Sequence[float] | np.ndarray, class_names: Sequence[str]) -> Baselines | None:
    """The two baselines of an accuracy from the evaluated faces' per-class counts (None when empty)."""
    counts = np.asarray(class_counts, dtype=np.float64)
    total = counts.sum()
    if total <= 0 or len(counts) != len(class_names):
        return None
    top = int(np.argmax(counts))
    return Baselines(chance=1.0 / int((counts > 0).sum()), majority=float(counts[top] / total),
                     majority_class=str(class_names[top]))


def accuracy_text(acc: float, baselines: Baselines | None = None,
                  interval: tuple[float, float] | None = None) -> str:
    """An accuracy with its context, the one format of every headline and table:
    "41.2% [95% CI 39.6-42.8] (chance 14.3%, always happy 24.5%)"."""
    text = f"{acc:.1%}"
    if interval is not None and all(math.isfinite(v) for v in interval):
        text += f" [95% CI {100 * interval[0]:.1f}\u2013{100 * interval[1]:.1f}]"
    if baselines is not None:
        text += f" (chance {baselines.chance:.1%}, always {baselines.majority_class} {baselines.majority:.1%})"
    return text


def most_confused(cm: np.ndarray, class_names: Sequence[str],
                  min_count: int = 1) -> list[tuple[str, str, int]]:
    """Off-diagonal cells as (true, predicted, count), largest first, count >= min_count."""
    cm = np.asarray(cm)
    pairs = [(int(cm[t, p]), t, p) for t in range(len(cm)) for p in range(len(cm))
             if t != p and cm[t, p] >= max(min_count, 1)]
    pairs.sort(key=lambda x: (-x[0], x[1], x[2]))
    return [(class_names[t], class_names[p], c) for c, t, p in pairs]


def top_losses(preds: Predictions, k: int | None = None) -> np.ndarray:
    """Rows of `preds` with the largest cross-entropy, largest first (unknown classes excluded)."""
    rows = np.flatnonzero(np.isfinite(preds.losses))
    order = rows[np.argsort(-preds.losses[rows], kind="stable")]
    return order if k is None else order[:k]


def cell_indices(y_true: np.ndarray, y_pred: np.ndarray, t: int, p: int,
                 confidence: np.ndarray) -> np.ndarray:
    """Rows whose true class is `t` and prediction `p`, most confident first (a matrix cell's gallery)."""
    rows = np.flatnonzero((np.asarray(y_true) == t) & (np.asarray(y_pred) == p))
    return rows[np.argsort(-np.asarray(confidence)[rows], kind="stable")]


def prior_corrected_predictions(logits: np.ndarray, train_counts: Sequence[float] | np.ndarray,
                                target: str = "uniform") -> np.ndarray:
    """Argmax after logit adjustment by the train class priors (toward `target` priors)."""
    from ..recipe.priors import prior_correct

    return prior_correct(np.asarray(logits), list(train_counts), target).argmax(axis=1).astype(np.int64)


def _unknown_classes(preds: Predictions) -> list[str]:
    """Classes of the evaluated data that the model does not know (recorded by `store`)."""
    from ..classes import canonical_name

    known = {canonical_name(c) or c for c in preds.class_names}
    return [c for c in preds.meta.get("data_classes") or [] if (canonical_name(c) or c) not in known]


def headline(cm: np.ndarray) -> dict[str, Any]:
    """The three numbers every report starts with, and the accuracy's 95% (Wilson) interval."""
    from .stats import accuracy_interval

    iv = accuracy_interval(int(np.trace(cm)), int(np.asarray(cm).sum()))
    return {"accuracy": accuracy(cm), "accuracy_ci95": [iv.low, iv.high], "macro_f1": macro_f1(cm),
            "balanced_accuracy": balanced_accuracy(cm)}


def _baselines_dict(cm: np.ndarray, class_names: Sequence[str]) -> dict[str, Any] | None:
    b = chance_and_majority(np.asarray(cm).sum(axis=1), class_names)
    return None if b is None else asdict(b)


def summary(preds: Predictions, train_counts: Sequence[float] | np.ndarray | None = None,
            prior_target: str = "uniform") -> dict[str, Any]:
    """Everything a report prints, JSON-ready.

    With `train_counts` (per model class) the prior-corrected accuracy, macro-F1 and
    balanced accuracy are reported beside the plain argmax under `"prior_corrected"`.
    """
    k = len(preds.class_names)
    cm = confusion_matrix(preds.y_true, preds.y_pred, k)
    present = present_classes(cm)
    out: dict[str, Any] = {
        "split": preds.split,
        "tta": preds.tta,
        "num_samples": int(preds.known.sum()),
        "num_excluded": int((~preds.known).sum()),  # true class unknown to the model
        "excluded_classes": _unknown_classes(preds),
        **headline(cm),
        "baselines": _baselines_dict(cm, preds.class_names),
        "class_names": list(preds.class_names),
        "present_classes": [preds.class_names[i] for i in present],
        "per_class": [asdict(m) for m in per_class(cm, preds.class_names)],
        "confusion_matrix": cm.tolist(),
        "most_confused": [list(x) for x in most_confused(cm, preds.class_names)[:10]],
    }
    if train_counts is not None:
        corrected = prior_corrected_predictions(preds.logits, train_counts, prior_target)
        ccm = confusion_matrix(preds.y_true, corrected, k)
        out["prior_corrected"] = {"target": prior_target, **headline(ccm),
                                  "confusion_matrix": ccm.tolist()}
    return out
