"""What an evaluation reads: a run or an ensemble, opened by one function.

`open_source(path)` returns a `RunSource` (`eval.store`) or an `EnsembleSource`
(`eval.ensemble`); both answer the `EvalSource` protocol, so the analysis, the CLI, the
predictor, the export and the model card ask the source instead of probing for
`ensemble.json` themselves.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..config import DataConfig
from ..training.rundir import RunDir
from .ensemble import EnsembleSource
from ..scoring.predictions import Predictions
from .store import RunSource


class EvalSource(Protocol):
    @property
    def kind(self) -> str:
        """"run" or "ensemble"."""

    @property
    def dir(self) -> RunDir:
        """The directory (config, meta, status, stored predictions)."""

    @property
    def runs(self) -> list[RunDir]:
        """The run itself, or the ensemble's members."""

    @property
    def vote(self) -> str:
        """How the members' probabilities combine ("soft" for one run)."""

    @property
    def path(self) -> Path: ...

    @property
    def class_names(self) -> list[str]: ...

    def describe(self) -> str:
        """"single run" or "ensemble (soft vote) of 3 runs"."""

    def checkpoint_label(self, meta: dict[str, Any]) -> str:
        """The weights its predictions came from, as headlines name them."""

    def data_config(self, data_path: str | None = None,
                    data_options: dict[str, Any] | None = None) -> DataConfig:
        """Its own DataConfig, or another dataset read so that it can classify the faces."""

    def predictions(self, split: str = "test", data_path: str | None = None, tta: bool = False,
                    **kw: Any) -> Predictions:
        """Stored predictions on a split (computed and stored on first use)."""

    def train_class_counts(self) -> np.ndarray | None:
        """Training images per model class (prior correction); None if unknown."""


def is_ensemble_dir(path: str | Path) -> bool:
    return (Path(path) / "ensemble.json").is_file()


def open_source(path: str | Path | RunDir) -> EvalSource:
    """The run or ensemble at `path` (a RunDir works too)."""
    p = path.path if isinstance(path, RunDir) else Path(path)
    if is_ensemble_dir(p):
        return EnsembleSource.open(p)
    return RunSource(path if isinstance(path, RunDir) else RunDir.open(p))


def predictions_for(run_dir: str | Path | RunDir, split: str = "test", data_path: str | None = None,
                    tta: bool = False, **kw: Any) -> Predictions:
    """Stored predictions of a run or ensemble on a split (see `EvalSource.predictions`,
    `store.run_predictions` for the keywords)."""
    return open_source(run_dir).predictions(split, data_path, tta, **kw)


def train_class_counts(run_dir: str | Path | RunDir) -> np.ndarray | None:
    """Training images per model class of a run or ensemble (its first member's)."""
    return open_source(run_dir).train_class_counts()
