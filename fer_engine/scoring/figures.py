"""The confusion matrix as a matplotlib Figure (files, model cards and TensorBoard draw it)."""
from __future__ import annotations

from typing import Sequence

import numpy as np


def confusion_figure(cm: np.ndarray, class_names: Sequence[str], *, normalized: bool = False,
                     title: str = ""):
    """Heat map with a number in every cell; rows of classes absent from the data are dropped."""
    from matplotlib.figure import Figure

    from .metrics import normalize_rows, present_classes

    cm = np.asarray(cm)
    rows = present_classes(cm) if cm.sum() else np.arange(len(cm))
    values = (normalize_rows(cm) if normalized else cm)[rows]
    k = len(class_names)
    fig = Figure(figsize=(1.0 + 0.75 * k, 0.8 + 0.65 * len(rows)))
    ax = fig.add_subplot()
    im = ax.imshow(values, cmap="Blues", vmin=0, vmax=1 if normalized else max(values.max(), 1))
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    ax.set_xticks(range(k), list(class_names), rotation=45, ha="right")
    ax.set_yticks(range(len(rows)), [class_names[int(i)] for i in rows])
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    threshold = values.max() / 2 if values.size else 0
    for r in range(len(rows)):
        for c in range(k):
            text = f"{values[r, c]:.2f}" if normalized else str(int(values[r, c]))
            ax.text(c, r, text, ha="center", va="center", fontsize=8,
                    color="white" if values[r, c] > threshold else "black")
    if title:
        ax.set_title(title)
    return fig
