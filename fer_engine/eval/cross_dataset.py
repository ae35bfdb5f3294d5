"""Cross-dataset evaluation: runs x datasets, every face of each dataset (split "all" by default).

Classes are matched by canonical name (`store.map_labels`): faces of a class the model does not
know are left out of the numbers and the class is reported beside the cell, so a model trained
without contempt is not scored on AffectNet's contempt faces without saying so.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..scoring.metrics import confusion_matrix, headline
from .source import predictions_for
from .store import ALL


@dataclass
class MatrixCell:
    run: str
    data: str
    split: str
    faces: int  # faces scored (their class is one the model knows)
    accuracy: float
    macro_f1: float
    excluded: int = 0  # faces of classes outside the model's set
    excluded_classes: list[str] = field(default_factory=list)
    error: str = ""  # why this cell could not be computed (the others still are)


@dataclass
class CrossDatasetMatrix:
    runs: list[str]
    datasets: list[str]
    split: str
    cells: list[MatrixCell]

    def cell(self, run: str, data: str) -> MatrixCell:
        return next(c for c in self.cells if c.run == run and c.data == data)

    def to_dict(self) -> dict[str, Any]:
        return {"runs": self.runs, "datasets": self.datasets, "split": self.split,
                "cells": [asdict(c) for c in self.cells]}

    def format_text(self) -> str:
        names = [Path(d).name or d for d in self.datasets]
        width = max(12, *(len(n) for n in names))
        lines = [f"accuracy / macro-F1 on split {self.split!r} (classes matched by name)",
                 "run".ljust(40) + "".join(n.rjust(width + 2) for n in names)]
        notes = []
        for r in self.runs:
            row = (Path(r).name or r)[:40].ljust(40)
            for d in self.datasets:
                c = self.cell(r, d)
                row += ("error" if c.error else f"{c.accuracy:.3f}/{c.macro_f1:.3f}").rjust(width + 2)
                if c.error:
                    notes.append(f"{Path(r).name} on {d}: {c.error}")
                elif c.excluded:
                    notes.append(f"{Path(r).name} on {d}: {c.excluded} face(s) of {', '.join(c.excluded_classes)} "
                                 f"left out (classes outside the model's set)")
            lines.append(row)
        return "\n".join(lines + [f"  note: {n}" for n in notes])


def cross_dataset_matrix(runs: list[str], datasets: list[str], split: str = ALL, *, device: str = "auto",
                         data_options: dict[str, Any] | None = None,
                         progress: Callable[[float, str], None] | None = None) -> CrossDatasetMatrix:
    """Evaluate every run on every dataset; a dataset path "own" means the run's own data.
    Predictions are stored in each run directory and reused."""
    cells = []
    total = max(1, len(runs) * len(datasets))
    for i, run in enumerate(runs):
        for j, data in enumerate(datasets):
            if progress is not None:
                progress((i * len(datasets) + j) / total, f"{Path(run).name} on {data}")
            cells.append(_cell(run, data, split, device, data_options))
    return CrossDatasetMatrix(runs=list(runs), datasets=list(datasets), split=split, cells=cells)


def _cell(run: str, data: str, split: str, device: str, data_options: dict[str, Any] | None) -> MatrixCell:
    from ..scoring.metrics import _unknown_classes

    try:
        preds = predictions_for(run, split, None if data == "own" else data, device=device,
                                data_options=data_options)
    except (ValueError, FileNotFoundError, OSError) as e:
        return MatrixCell(run, data, split, 0, float("nan"), float("nan"), error=str(e))
    h = headline(confusion_matrix(preds.y_true, preds.y_pred, len(preds.class_names)))
    return MatrixCell(run, data, split, int(preds.known.sum()), h["accuracy"], h["macro_f1"],
                      excluded=int((~preds.known).sum()), excluded_classes=_unknown_classes(preds))
