"""Everything the analysis pages show for one run (or ensemble) on one split, in one object.

`open_analysis` reads the stored predictions (computing them once when missing), the
split's faces from the dataset cache, and derives the metrics; the 2-D embedding is
computed on first request per method and kept. Row `i` of every array refers to the
same face: `images[i]`, `predictions.y_true[i]`, `sources[i]`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..progress import ProgressFn, StopFn, scaled_progress
from ..training.run_files import DatasetInfo
from ..training.rundir import RunDir, RunDirError
from ..scoring import metrics as M
from .embed import Embedding, embed
from ..scoring.predictions import Predictions


@dataclass
class Analysis:
    run_dir: Path
    predictions: Predictions
    images: np.ndarray  # (N, H, W, C) uint8 faces, row-aligned with the predictions
    sources: list[str]  # where each face came from (file path or "file.csv#row")
    data_path: str
    train_counts: np.ndarray | None = None  # per model class, for prior correction
    _embeddings: dict[str, Embedding] = field(default_factory=dict, repr=False)

    # -- metrics ---------------------------------------------------------------------
    @property
    def class_names(self) -> list[str]:
        return self.predictions.class_names

    @property
    def split(self) -> str:
        return self.predictions.split

    @property
    def confusion(self) -> np.ndarray:
        """(K, K) counts, row = true, column = predicted (all model classes)."""
        p = self.predictions
        return M.confusion_matrix(p.y_true, p.y_pred, len(p.class_names))

    @property
    def present_rows(self) -> np.ndarray:
        """Model classes present in the data: the rows the matrix view shows."""
        return M.present_classes(self.confusion)

    def per_class(self) -> list[M.ClassMetrics]:
        return M.per_class(self.confusion, self.class_names)

    def summary(self) -> dict[str, Any]:
        return M.summary(self.predictions, self.train_counts)

    def context(self) -> "AnalysisContext":
        """Which run, dataset and weights these numbers belong to (every headline and export names them)."""
        return analysis_context(self.run_dir, self.data_path, self.predictions.meta)

    def headline(self) -> str:
        """One line naming the run, the data, the checkpoint, the split and its accuracy in context."""
        s, c = self.summary(), self.context()
        b = s.get("baselines")
        base = M.Baselines(**b) if b else None
        tta = " (TTA)" if s.get("tta", "none") != "none" else ""
        return (f"{c.describe()} · {s['split']}{tta} · {s['num_samples']:,} faces · "
                f"accuracy {M.accuracy_text(s['accuracy'], base, s.get('accuracy_ci95'))}")

    def most_confused(self, min_count: int = 1) -> list[tuple[str, str, int]]:
        return M.most_confused(self.confusion, self.class_names, min_count)

    def cell(self, true_class: int, pred_class: int) -> np.ndarray:
        """Rows of one matrix cell, most confident first (the gallery)."""
        p = self.predictions
        return M.cell_indices(p.y_true, p.y_pred, true_class, pred_class, p.confidence)

    def top_losses(self, k: int | None = None) -> np.ndarray:
        return M.top_losses(self.predictions, k)

    def mistakes(self) -> np.ndarray:
        p = self.predictions
        return np.flatnonzero(p.known & (p.y_true != p.y_pred))

    # -- embedding ---------------------------------------------------------------------
    def embedding(self, method: str = "pca", progress: ProgressFn | None = None,
                  should_stop: StopFn | None = None) -> Embedding:
        """2-D points of the features (computed once per method; t-SNE takes a while)."""
        if method not in self._embeddings:
            self._embeddings[method] = embed(self.predictions.features, method,
                                             progress=progress, should_stop=should_stop)
        return self._embeddings[method]


@dataclass(frozen=True)
class AnalysisContext:
    run_name: str  # the display name (the folder id when the run has none)
    run_id: str
    data: str  # the dataset evaluated
    checkpoint: str  # e.g. "best.pt (epoch 12)"

    def describe(self) -> str:
        name = self.run_name if self.run_name == self.run_id else f"{self.run_name} [{self.run_id}]"
        return f"{name} · data {self.data} · {self.checkpoint}"


def analysis_context(run_dir: str | Path, data_path: str, meta: dict[str, Any] | None = None) -> AnalysisContext:
    """Name, dataset and checkpoint of a run (or ensemble) as the headline shows them."""
    from .source import open_source

    run = RunDir(Path(run_dir))
    checkpoint = open_source(run).checkpoint_label(meta or {})
    data = data_path if data_path == "demo" else Path(data_path).name or str(data_path)
    return AnalysisContext(run_name=run.display_name, run_id=run.run_id, data=data, checkpoint=checkpoint)


def run_context(run_dir: str | Path) -> AnalysisContext:
    """Name, training data and checkpoint of a run used outside an analysis (live, snapshots)."""
    run = RunDir(Path(run_dir))
    try:
        data = run.config().data.path
    except Exception:  # noqa: BLE001 - an ensemble or unreadable config: the data stays unnamed
        data = "?"
    return analysis_context(run.path, data)


def run_baselines(run_dir: str | Path, split: str = "val") -> M.Baselines | None:
    """Chance and majority-class accuracy of a run's own split: from dataset.json, else (runs that
    predate the per-split counts) from the split's stored predictions; None when neither exists."""
    run = RunDir(Path(run_dir))
    try:
        info = run.dataset_info()
    except RunDirError:
        info = DatasetInfo()
    base = info.baselines(split)
    if base is not None or not run.predictions_path(split).is_file():
        return base
    try:
        preds = Predictions.load(run.predictions_path(split))
    except (OSError, ValueError):
        return None
    known = preds.y_true[preds.y_true >= 0]
    return M.chance_and_majority(np.bincount(known, minlength=len(preds.class_names)), preds.class_names)


#: a run whose test (else best validation) accuracy beats always-the-majority-class by less than
#: this is "near chance" for the live page's caveat
NEAR_CHANCE_MARGIN = 0.05


def run_caveat(run_dir: str | Path) -> str:
    """Why a run's live predictions should not be trusted ("" when none): trained on the generated
    demo faces, or scored near chance on its own test (else validation) faces."""
    run = RunDir(Path(run_dir))
    try:
        if run.config().data.path == "demo":
            return ("trained on the generated demo set: schematic faces, so its predictions on real "
                    "faces mean nothing")
    except Exception:  # noqa: BLE001 - ensembles and unreadable configs have no data of their own
        return ""
    summary = run.status().summary
    for split, key in (("test", "test_acc"), ("val", "best_metric")):
        acc = summary.get(key)
        if acc is None or (key == "best_metric" and summary.get("monitor") != "val_acc"):
            continue
        base = run_baselines(run.path, split)
        n_classes = len(run.preprocess().class_names) if run.preprocess_path.is_file() else 0
        bar = base.majority if base is not None else 1.0 / max(1, n_classes)
        if acc < bar + NEAR_CHANCE_MARGIN:
            return (f"scored {M.accuracy_text(float(acc), base)} on its {split} faces: near chance, "
                    "so its live predictions are little better than a guess")
        return ""
    return ""


def open_analysis(run_dir: str | Path | RunDir, split: str = "test", data_path: str | None = None,
                  tta: bool = False, *, device: str = "auto", progress: ProgressFn | None = None,
                  should_stop: StopFn | None = None) -> Analysis:
    """Bundle predictions, faces and metrics of a run (or ensemble) on a split."""
    from .source import open_source
    from .store import load_data, split_or_error

    src = open_source(run_dir)

    data, dataset = load_data(src.data_config(data_path), scaled_progress(progress, 0.0, 0.3), should_stop)
    idx = split_or_error(dataset, split, data.path)
    preds = src.predictions(split, data_path, tta, device=device, dataset=dataset,
                            progress=scaled_progress(progress, 0.3, 1.0), should_stop=should_stop)
    if len(preds) and preds.index.max() >= len(idx):
        raise ValueError(f"stored predictions of {src.path} ({split}) do not fit the {len(idx)} "
                         f"faces of {data.path}; delete {src.dir.predictions_dir} to recompute")
    rows = idx[preds.index]
    counts = src.train_class_counts()
    if progress is not None:
        progress(1.0, "analysis ready")
    return Analysis(run_dir=src.path, predictions=preds, images=dataset.images[rows],
                    sources=[dataset.sources[i] for i in rows], data_path=data.path,
                    train_counts=counts)

