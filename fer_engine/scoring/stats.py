"""Statistics of accuracies and of differences between runs, as plain functions on arrays.

- `accuracy_interval(k, n)`: the Wilson 95% interval of one accuracy (what every accuracy the
  app shows carries).
- `mcnemar(correct_a, correct_b)`: exact McNemar test of two models on the same faces
  (scipy's binomial test on the discordant faces).
- `paired_bootstrap(base, variant)`: the effect of a variant on mean accuracy over seeds, with a
  95% interval and a p-value from a bootstrap that resamples both the seeds of each side and
  the (shared) test faces, so it counts seed-to-seed spread and test-set sampling.
- `holm(pvalues)`: Holm's step-down adjustment across the variants of a study.
- `verdict(...)`: helps / no detectable effect / hurts (or cannot tell, with one seed).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Sequence

import numpy as np

LEVEL = 0.95
ALPHA = 0.05
HELPS, NO_EFFECT, HURTS, ONE_SEED = "helps", "no detectable effect", "hurts", "cannot tell (one seed)"


@dataclass(frozen=True)
class Interval:
    low: float
    high: float

    def contains(self, x: float) -> bool:
        return self.low <= x <= self.high

    def __str__(self) -> str:
        return f"[{self.low:.4f}, {self.high:.4f}]"


def accuracy_interval(k: int, n: int, level: float = LEVEL) -> Interval:
    """Wilson score interval of an accuracy of k correct out of n (NaN bounds when n == 0)."""
    if n <= 0:
        return Interval(math.nan, math.nan)
    if not 0 <= k <= n:
        raise ValueError(f"accuracy_interval needs 0 <= k <= n, got k={k}, n={n}")
    z = NormalDist().inv_cdf(0.5 + level / 2)  # stdlib: scipy.stats takes seconds to import
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    # the bounds are exactly 0 / 1 at k = 0 / n (rounding would leave 0.9999999)
    return Interval(0.0 if k == 0 else centre - half, 1.0 if k == n else centre + half)


def correct_mask(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """(N,) bool: the prediction is right, for faces of classes the model knows (y_true >= 0)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    return (y_pred == y_true)[y_true >= 0]


def mcnemar(correct_a: np.ndarray, correct_b: np.ndarray) -> float:
    """Two-sided exact McNemar p-value of two models on the same faces."""
    from scipy.stats import binomtest

    a, b = np.asarray(correct_a, bool), np.asarray(correct_b, bool)
    if a.shape != b.shape:
        raise ValueError(f"McNemar needs predictions on the same faces, got {a.shape} and {b.shape}")
    only_a, only_b = int((a & ~b).sum()), int((~a & b).sum())
    if only_a + only_b == 0:
        return 1.0
    return float(binomtest(only_b, only_a + only_b, 0.5).pvalue)


def holm(pvalues: Sequence[float]) -> np.ndarray:
    """Holm-adjusted p-values (same order as given; NaN stays NaN and is not counted)."""
    p = np.asarray(pvalues, dtype=np.float64)
    out = np.full_like(p, np.nan)
    idx = np.flatnonzero(np.isfinite(p))
    m = len(idx)
    order = idx[np.argsort(p[idx], kind="stable")]
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = running
    return out


@dataclass(frozen=True)
class Effect:
    effect: float  # mean accuracy of the variant minus that of the base
    interval: Interval
    p: float  # two-sided bootstrap p-value of "no effect"


def _bootstrap_means(sides: Sequence[np.ndarray], n_boot: int, seed: int) -> list[np.ndarray]:
    """(n_boot,) mean accuracy over seeds of each (S, N) side, every draw resampling the shared
    faces once (multinomial weights, the pairing) and each side's seeds with replacement."""
    n = sides[0].shape[1]
    rng = np.random.default_rng(seed)
    out = [np.empty(n_boot) for _ in sides]
    chunk = max(1, min(n_boot, 4_000_000 // n))
    for start in range(0, n_boot, chunk):
        m = min(chunk, n_boot - start)
        weights = rng.multinomial(n, np.full(n, 1.0 / n), size=m).astype(np.float64).T  # (N, m)
        cols = np.arange(m)[:, None]
        for side, means in zip(sides, out):
            acc = (side.astype(np.float64) @ weights) / n  # (S, m): each seed on each resample
            pick = rng.integers(0, len(side), (m, len(side)))
            means[start:start + m] = acc[pick, cols].mean(1)
    return out


def _as_runs(x: np.ndarray) -> np.ndarray:
    return np.atleast_2d(np.asarray(x, bool))


def mean_accuracy_interval(correct: np.ndarray, n_boot: int = 4000, seed: int = 0,
                           level: float = LEVEL) -> Interval:
    """Interval of a mean accuracy over seeds ((S, N) bool) counting seeds and test sampling."""
    c = _as_runs(correct)
    if c.shape[1] == 0:
        return Interval(math.nan, math.nan)
    (means,) = _bootstrap_means([c], n_boot, seed)
    low, high = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return Interval(float(low), float(high))


def paired_bootstrap(base: np.ndarray, variant: np.ndarray, n_boot: int = 4000, seed: int = 0,
                     level: float = LEVEL) -> Effect:
    """Effect of a variant on mean accuracy over seeds, bootstrapping seeds and the shared test faces.

    `base` is (S_b, N) and `variant` (S_v, N) bool: which of the same N faces each seed's run
    got right. Each draw takes the same resample of faces for both sides (the pairing) and
    resamples each side's seeds with replacement.
    """
    b, v = _as_runs(base), _as_runs(variant)
    if b.shape[1] != v.shape[1]:
        raise ValueError(f"the base and the variant were scored on different faces ({b.shape[1]} vs {v.shape[1]})")
    if b.shape[1] == 0:
        return Effect(math.nan, Interval(math.nan, math.nan), math.nan)
    mean_b, mean_v = _bootstrap_means([b, v], n_boot, seed)
    diffs = mean_v - mean_b
    low, high = np.quantile(diffs, [(1 - level) / 2, (1 + level) / 2])
    below, above = (np.sum(diffs <= 0) + 1) / (n_boot + 1), (np.sum(diffs >= 0) + 1) / (n_boot + 1)
    return Effect(float(v.mean() - b.mean()), Interval(float(low), float(high)),
                  float(min(1.0, 2 * min(below, above))))


def verdict(effect: float, p_adjusted: float, seeds: int, alpha: float = ALPHA) -> str:
    """helps / hurts when the Holm-adjusted p is below alpha, else no detectable effect;
    with one seed per side, seed-to-seed spread is unmeasured and nothing can be told."""
    if seeds < 2:
        return ONE_SEED
    if not math.isfinite(p_adjusted) or p_adjusted >= alpha:
        return NO_EFFECT
    return HELPS if effect > 0 else HURTS


def class_recalls(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """(K,) recall of each class (NaN for classes without faces)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    keep = y_true >= 0
    support = np.bincount(y_true[keep], minlength=num_classes).astype(np.float64)
    hits = np.bincount(y_true[keep & (y_true == y_pred)], minlength=num_classes).astype(np.float64)
    return np.divide(hits, support, out=np.full(num_classes, np.nan), where=support > 0)


@dataclass(frozen=True)
class Comparison:
    """Two runs' accuracies on the same faces and whether their difference is significant."""
    n: int
    accuracy_a: float
    interval_a: Interval
    accuracy_b: float
    interval_b: Interval
    difference: float  # b - a
    difference_interval: Interval
    p_mcnemar: float

    @property
    def significant(self) -> bool:
        return self.p_mcnemar < ALPHA


def compare(y_true_a: np.ndarray, y_pred_a: np.ndarray, y_true_b: np.ndarray, y_pred_b: np.ndarray,
            n_boot: int = 4000) -> Comparison:
    """Run A against run B on one test split (the same faces in the same order)."""
    if len(y_true_a) != len(y_true_b) or not np.array_equal(y_true_a, y_true_b):
        raise ValueError("the two runs were not evaluated on the same faces (labels differ); "
                         "compare runs on the same test split")
    a, b = correct_mask(y_true_a, y_pred_a), correct_mask(y_true_b, y_pred_b)
    n = len(a)
    diff = paired_bootstrap(a[None], b[None], n_boot=n_boot)
    return Comparison(n, float(a.mean()) if n else math.nan, accuracy_interval(int(a.sum()), n),
                      float(b.mean()) if n else math.nan, accuracy_interval(int(b.sum()), n),
                      diff.effect, diff.interval, mcnemar(a, b))
