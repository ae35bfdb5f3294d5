"""Exports of the analysis without Qt: metrics as CSV/JSON, figures as PNG/SVG, overlay folders.

`ANALYSIS_EXPORTS` names each file an analysis can be written as (name, suffixes, writer);
the CLI's `evaluate --out` and the Analysis page's Export menu both offer them from there.

Figures use matplotlib's object API with the Agg canvas (no pyplot state, no display),
so they can be written from a worker thread or a headless CLI; the file suffix
(.png, .svg, .pdf) picks the format.
"""
from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from ..scoring.figures import confusion_figure
from ..utils.atomic import atomic_path, atomic_write_text

_FIGURE_SUFFIXES = (".png", ".svg", ".pdf")


def metrics_to_json(summary: dict[str, Any], path: str | Path) -> Path:
    """The `metrics.summary` dict as indented JSON."""
    path = Path(path)
    atomic_write_text(path, json.dumps(summary, indent=1) + "\n")
    return path


def metrics_to_csv(summary: dict[str, Any], path: str | Path) -> Path:
    """Per-class table (class, precision, recall, f1, support), then the overall rows."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["class", "precision", "recall", "f1", "support"])
    for m in summary["per_class"]:
        w.writerow([m["name"], f"{m['precision']:.6f}", f"{m['recall']:.6f}", f"{m['f1']:.6f}", m["support"]])
    w.writerow([])
    w.writerow(["metric", "value"])
    for key in ("accuracy", "macro_f1", "balanced_accuracy"):
        w.writerow([key, f"{summary[key]:.6f}"])
    for bound, value in zip(("accuracy_ci95_low", "accuracy_ci95_high"), summary.get("accuracy_ci95", ())):
        w.writerow([bound, f"{value:.6f}"])
    for key in ("accuracy", "macro_f1", "balanced_accuracy"):
        if "prior_corrected" in summary:
            w.writerow([f"prior_corrected_{key}", f"{summary['prior_corrected'][key]:.6f}"])
    if summary.get("baselines"):
        w.writerow(["chance_accuracy", f"{summary['baselines']['chance']:.6f}"])
        w.writerow([f"majority_accuracy_{summary['baselines']['majority_class']}",
                    f"{summary['baselines']['majority']:.6f}"])
    w.writerow(["num_samples", summary["num_samples"]])
    for key in ("run_name", "run_id", "data", "checkpoint"):  # the analysis page's context, when given
        if key in summary:
            w.writerow([key, summary[key]])
    path = Path(path)
    atomic_write_text(path, buf.getvalue())
    return path


def _save_figure(fig, path: str | Path) -> Path:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    path = Path(path)
    if path.suffix.lower() not in _FIGURE_SUFFIXES:
        raise ValueError(f"figure file must end in {', '.join(_FIGURE_SUFFIXES)}: {path}")
    FigureCanvasAgg(fig)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=path.suffix[1:].lower(), dpi=150, bbox_inches="tight")
    return path


def confusion_matrix_figure(cm: np.ndarray, class_names: Sequence[str], path: str | Path, *,
                            normalized: bool = False, title: str = "") -> Path:
    """Heat map with a number in every cell; rows of classes absent from the data are dropped."""
    return _save_figure(confusion_figure(cm, class_names, normalized=normalized, title=title), path)


def scatter_figure(points: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray,
                   class_names: Sequence[str], path: str | Path, *,
                   axis_labels: tuple[str, str] = ("1", "2"), title: str = "") -> Path:
    """2-D feature scatter coloured by true class; mistakes drawn as crosses."""
    from matplotlib import colormaps
    from matplotlib.figure import Figure

    points, y_true, y_pred = np.asarray(points), np.asarray(y_true), np.asarray(y_pred)
    fig = Figure(figsize=(7, 6))
    ax = fig.add_subplot()
    colours = colormaps["tab10"]
    for k, name in enumerate(class_names):
        sel = y_true == k
        if not sel.any():
            continue
        ok, wrong = sel & (y_pred == y_true), sel & (y_pred != y_true)
        ax.scatter(points[ok, 0], points[ok, 1], s=6, color=colours(k % 10), label=name, alpha=0.7)
        ax.scatter(points[wrong, 0], points[wrong, 1], s=14, color=colours(k % 10), marker="x",
                   linewidths=0.8, alpha=0.9)
    ax.set_xlabel(axis_labels[0])
    ax.set_ylabel(axis_labels[1])
    ax.legend(markerscale=2, fontsize=8, title="true class (x = mistake)", title_fontsize=8)
    if title:
        ax.set_title(title)
    return _save_figure(fig, path)


def to_rgb(image: np.ndarray) -> np.ndarray:
    """uint8 (H, W), (H, W, 1) or (H, W, 3|4) -> (H, W, 3)."""
    img = np.asarray(image)
    if img.ndim == 2:
        img = img[..., None]
    return np.repeat(img, 3, axis=-1) if img.shape[-1] == 1 else img[..., :3]


def overlay(image: np.ndarray, cam: np.ndarray, alpha: float = 0.5) -> np.ndarray:
    """uint8 face (H, W, C) and a [0, 1] map (h, w) -> (H, W, 3) uint8 RGB heat-map overlay."""
    import cv2

    rgb = to_rgb(image)
    cam = np.clip(np.asarray(cam, np.float32), 0.0, 1.0)
    if cam.shape != rgb.shape[:2]:
        cam = cv2.resize(cam, (rgb.shape[1], rgb.shape[0]), interpolation=cv2.INTER_LINEAR)
    heat = cv2.cvtColor(cv2.applyColorMap(np.uint8(255 * cam), cv2.COLORMAP_JET), cv2.COLOR_BGR2RGB)
    return np.uint8(np.clip((1 - alpha) * rgb + alpha * heat, 0, 255))


def export_overlays(images: np.ndarray, cams: np.ndarray, y_true: Sequence[int], y_pred: Sequence[int],
                    class_names: Sequence[str], out_dir: str | Path, *, ids: Sequence[int] | None = None,
                    alpha: float = 0.5, scale: int = 4) -> list[Path]:
    """Write one PNG per face: `<id>_true-<class>_pred-<class>.png` (face beside its overlay).

    images (N, H, W, C) uint8, cams (N, h, w) in [0, 1]; `ids` name the files (default
    0..N-1, e.g. pass the split positions); `scale` enlarges 48x48 faces for viewing.
    """
    import cv2

    if not (len(images) == len(cams) == len(y_true) == len(y_pred)):
        raise ValueError(f"images, cams, y_true and y_pred differ in length: {len(images)}, "
                         f"{len(cams)}, {len(y_true)}, {len(y_pred)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ids = list(range(len(images))) if ids is None else list(ids)
    paths = []
    for i, (img, cam, t, p) in enumerate(zip(images, cams, y_true, y_pred)):
        pair = np.concatenate([to_rgb(img), overlay(img, cam, alpha)], axis=1)
        if scale > 1:
            pair = cv2.resize(pair, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
        true_name = class_names[t] if t >= 0 else "unknown"
        name = f"{ids[i]:05d}_true-{_slug(true_name)}_pred-{_slug(class_names[p])}.png"
        ok, buf = cv2.imencode(".png", cv2.cvtColor(pair, cv2.COLOR_RGB2BGR))
        if not ok:
            raise OSError(f"could not encode overlay {name}")
        with atomic_path(out / name) as tmp:
            tmp.write_bytes(buf.tobytes())
        paths.append(out / name)
    return paths


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", str(name))


def write_metrics(summary: dict[str, Any], path: str | Path) -> Path:
    """The summary as JSON (.json) or as the per-class CSV table (any other suffix)."""
    writer = metrics_to_json if str(path).lower().endswith(".json") else metrics_to_csv
    return writer(summary, path)


def write_confusion(summary: dict[str, Any], path: str | Path, *, normalized: bool = False,
                    title: str = "") -> Path:
    return confusion_matrix_figure(np.asarray(summary["confusion_matrix"]), summary["class_names"], path,
                                   normalized=normalized, title=title)


def write_scatter(summary: dict[str, Any], path: str | Path, *, embedding: Any, y_true: np.ndarray,
                  y_pred: np.ndarray, title: str = "") -> Path:
    """`embedding`: an `eval.embed.Embedding` of the analysis' features."""
    return scatter_figure(embedding.points, y_true, y_pred, summary["class_names"], path,
                          axis_labels=embedding.axis_labels, title=title)


@dataclass(frozen=True)
class AnalysisExport:
    """One file an analysis can be written as: `write(summary, path, **options) -> path`."""

    name: str
    title: str  # what menus call it
    stem: str  # file name stem in `evaluate --out` folders
    suffixes: tuple[str, ...]  # the formats, the first one the default
    write: Callable[..., Path]

    @property
    def label(self) -> str:
        return f"{self.title} ({'/'.join(s[1:].upper() for s in self.suffixes)})"

    @property
    def file_filter(self) -> str:
        """A file dialog's filter, e.g. "PNG (*.png);;SVG (*.svg)"."""
        return ";;".join(f"{s[1:].upper()} (*{s})" for s in self.suffixes)


ANALYSIS_EXPORTS: dict[str, AnalysisExport] = {e.name: e for e in (
    AnalysisExport("matrix", "Confusion matrix", "confusion", (".png", ".svg"), write_confusion),
    AnalysisExport("scatter", "Feature scatter", "scatter", (".png", ".svg"), write_scatter),
    AnalysisExport("metrics", "Metrics", "metrics", (".csv", ".json"), write_metrics),
)}
