"""Two runs on the same split: their accuracies with 95% intervals and whether they really differ."""
from __future__ import annotations

import numpy as np

from ..scoring.stats import Comparison, compare
from .source import predictions_for


def compare_runs(run_a: str, run_b: str, split: str = "test", tta: bool = False,
                 device: str = "auto") -> Comparison:
    """The paired comparison of two runs' stored (or computed) predictions on one split;
    ValueError when they were not evaluated on the same faces."""
    a = predictions_for(run_a, split, None, tta, device=device)
    b = predictions_for(run_b, split, None, tta, device=device)
    if a.class_names != b.class_names or len(a) != len(b) or not np.array_equal(a.index, b.index):
        raise ValueError(f"{run_a} and {run_b} were not evaluated on the same {split} faces "
                         "(different data, split or classes); a paired comparison needs the same split")
    return compare(a.y_true, a.y_pred, b.y_true, b.y_pred)


def describe(c: Comparison) -> str:
    """One line: the difference, its interval, McNemar's p and the verdict."""
    verdict = ("significant" if c.significant else "not significant") + " at the 5% level"
    return (f"B - A: {100 * c.difference:+.2f} points, 95% interval [{100 * c.difference_interval.low:+.2f}, "
            f"{100 * c.difference_interval.high:+.2f}]; exact McNemar p = {c.p_mcnemar:.3g}: {verdict}")
