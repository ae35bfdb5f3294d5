"""Predictions computed once per (run, dataset, split, TTA) and kept in the run directory.

    predictions/<split>[-tta].npz              the run's own data (also written by `fit`)
    predictions/<split>[-tta]@<name>-<key>.npz another dataset chosen at evaluation time

A stored file is reused while it still describes the run: same checkpoint file
(size + mtime recorded in its meta) and, for the run's own data, written for it. Another
dataset may hold a subset of the classes or name its folders differently: its classes are
matched to the model's by canonical name (`fer_engine.classes`); faces of a class the
model does not know get `y_true == -1` and are left out of the metrics.
"""
from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np

from ..classes import canonical_name
from ..config import DataConfig, RunConfig
from ..training.rundir import RunDir, RunDirError
from ..utils.disk import disk_error_message, is_disk_error
from ..progress import ProgressFn, StopFn
from ..scoring.predictions import Predictions, load_stored
from ..training.predict import collect_predictions

#: DataConfig fields that decide which faces land in which split.
_SPLIT_FIELDS = ("val_fraction", "test_fraction", "split_seed")
#: How another dataset is read unless told otherwise: detected format, every face, no overrides.
OTHER_DATA: dict[str, Any] = {"format": "auto", "label_map": "", "label_mode": "majority", "subject_regex": "",
               "split_by": "auto", "label_overrides": "", "max_per_class": 0, "train_fraction": 1.0}
#: The split name that means every face of a dataset (cross-dataset evaluation).
ALL = "all"


def resolve_device(device: str = "auto") -> str:
    """"auto" = CUDA when present, else CPU (the training loop's rule, as a string)."""
    from ..training.components import resolve_device as resolve

    return str(resolve(device))


def eval_data_config(run: RunDir, data_path: str | None = None,
                     data_options: dict[str, Any] | None = None) -> DataConfig:
    """The run's own DataConfig, or another dataset read at the run's image size and channels
    (its format detected, all of its faces, unless `data_options` such as label_map say otherwise).
    """
    cfg = run.config().data
    if data_path is None:
        return cfg
    other = {**OTHER_DATA, **(data_options or {})}
    pre = run.preprocess()
    channels = cast(Literal[1, 3], pre.channels)  # a trained run's, checked when it trained
    return replace(cfg, path=str(data_path), image_size=pre.image_size, channels=channels, **other)


def _where(path: str) -> str:
    return path if path == "demo" else str(Path(path).expanduser().resolve())


def _same_data(a: DataConfig, b: DataConfig) -> bool:
    return _where(a.path) == _where(b.path) and all(getattr(a, f) == getattr(b, f) for f in _SPLIT_FIELDS)


def predictions_path(run: RunDir, data: DataConfig, split: str, tta: bool) -> Path:
    """Where the predictions of this (dataset, split, TTA) live in the run directory."""
    if _same_data(data, run.config().data):
        return run.predictions_path(split, tta)
    where = _where(data.path)
    ident = "|".join([where, str(data.image_size), str(data.channels),
                      *(str(getattr(data, f)) for f in _SPLIT_FIELDS),
                      *(f"{k}={getattr(data, k)}" for k, v in OTHER_DATA.items() if getattr(data, k) != v)])
    key = hashlib.sha1(ident.encode()).hexdigest()[:10]
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(where).stem or "data")[:32]
    return run.predictions_dir / f"{split}{'-tta' if tta else ''}@{name}-{key}.npz"


def checkpoint_stamp(run: RunDir, which: str = "best") -> dict[str, Any]:
    """What identifies the weights the predictions came from (best.pt, else last.pt)."""
    path = run.checkpoint_path(which)
    if not path.is_file():
        path = run.checkpoint_path("last")
    if not path.is_file():
        raise RunDirError(f"{run.path} has no checkpoint yet (checkpoints/{which}.pt)")
    st = path.stat()
    return {"checkpoint_file": path.name, "checkpoint_size": st.st_size, "checkpoint_mtime": st.st_mtime}


def _still_valid(preds: Predictions, stamp: dict[str, Any]) -> bool:
    """A file without a stamp (written by `fit` from the weights in memory) is trusted."""
    recorded = {k: preds.meta.get(k) for k in stamp}
    return all(v is None for v in recorded.values()) or recorded == stamp


def _fits(preds: Predictions, dataset, split: str) -> bool:
    """The stored predictions describe this dataset's split (its files may have changed)."""
    idx = np.arange(len(dataset.labels)) if split == ALL else dataset.splits.get(split)
    if idx is None or len(idx) != len(preds):
        return False
    labels = map_labels(list(dataset.class_names), preds.class_names, dataset.labels[idx])
    return bool(np.array_equal(labels[preds.index], preds.y_true))


def map_labels(data_classes: list[str], model_classes: list[str], labels: np.ndarray) -> np.ndarray:
    """Data labels -> model class indices by canonical name; -1 for classes the model lacks."""
    model_index = {canonical_name(c) or c: i for i, c in enumerate(model_classes)}
    lut = np.array([model_index.get(canonical_name(c) or c, -1) for c in data_classes], np.int64)
    if len(lut) and (lut < 0).all():
        raise ValueError(f"the dataset's classes ({', '.join(data_classes)}) share none with the "
                         f"model's ({', '.join(model_classes)})")
    return lut[np.asarray(labels, np.int64)]


def tta_mode(config: RunConfig) -> str:
    """The run's TTA setting, or horizontal flip when it was trained without one."""
    return config.eval.tta if config.eval.tta != "none" else "flip"


def load_eval_data(run: RunDir, data_path: str | None = None, progress: ProgressFn | None = None,
                   should_stop: StopFn | None = None, data_options: dict[str, Any] | None = None):
    """(DataConfig, DatasetArrays) the run is evaluated on (the dataset cache makes this fast)."""
    return load_data(eval_data_config(run, data_path, data_options), progress, should_stop)


def load_data(data: DataConfig, progress: ProgressFn | None = None, should_stop: StopFn | None = None):
    """(DataConfig, DatasetArrays) of `data` (the dataset cache makes this fast)."""
    from ..data import load_dataset

    return data, load_dataset(data, progress=progress, should_stop=should_stop)


def split_or_error(dataset, split: str, where: str) -> np.ndarray:
    """The faces of `split` ("all": every face of the dataset, whatever its split)."""
    if split == ALL:
        return np.arange(len(dataset.labels))
    if split not in dataset.splits or not len(dataset.splits[split]):
        raise ValueError(f"{where} has no {split!r} split (splits: {', '.join(dataset.splits)})")
    return dataset.splits[split]


def run_predictions(run: RunDir, split: str = "test", data_path: str | None = None,
                    tta: bool = False, *, device: str = "auto", batch_size: int = 256,
                    dataset=None, progress: ProgressFn | None = None,
                    should_stop: StopFn | None = None, data_options: dict[str, Any] | None = None,
                    checkpoint: str = "best") -> Predictions:
    """Stored predictions of one run on a split; computed and stored on first use.

    `checkpoint` "last" evaluates last.pt (kept apart from the best checkpoint's predictions).
    `dataset` may pass the already loaded DatasetArrays of `data_path` (saves a cache read).
    """
    data = eval_data_config(run, data_path, data_options)
    path = predictions_path(run, data, split, tta)
    if checkpoint != "best":
        path = path.with_name(f"{path.stem}@{checkpoint}{path.suffix}")
    stamp = checkpoint_stamp(run, checkpoint)
    stored = load_stored(path)
    if stored is not None and _still_valid(stored, stamp) and (
            dataset is None or _fits(stored, dataset, split)):
        return stored
    if dataset is None:
        data, dataset = load_eval_data(run, data_path, progress, should_stop, data_options)
    idx = split_or_error(dataset, split, data.path)
    from ..training.rundir import load_run_model

    dev = resolve_device(device)
    model, pre = load_run_model(run, checkpoint, dev)
    labels = map_labels(list(dataset.class_names), list(pre.class_names), dataset.labels[idx])
    cfg = run.config()
    preds = collect_predictions(
        model, dataset.images[idx], labels, pre.class_names, mean=pre.mean, std=pre.std,
        input_size=pre.input_size, tta=tta_mode(cfg) if tta else "none",
        tta_vote=cfg.eval.tta_vote, device=dev, amp=cfg.train.amp, batch_size=batch_size, split=split,
        meta={**stamp, "run_dir": str(run.path), "data_path": data.path,
              "data_classes": list(dataset.class_names)},
        progress=progress, should_stop=should_stop,
    )
    try:
        preds.save(path)
    except OSError as e:  # a full or read-only run folder: the result stands, it is only not kept
        if not is_disk_error(e):
            raise
        logging.getLogger(__name__).warning("predictions not stored: %s", disk_error_message(e, path))
    return preds


def run_class_counts(run: RunDir) -> np.ndarray | None:
    """Training images per model class (for prior correction) from dataset.json; None if unknown."""
    info = run.dataset_info()
    counts, names = info.train_class_counts, info.class_names
    if not counts or not names or len(counts) != len(names):
        return None
    by_name = dict(zip(names, counts))
    return np.array([float(by_name.get(c, 0)) for c in run.preprocess().class_names])


def checkpoint_label(run: RunDir, meta: dict[str, Any]) -> str:
    """The weights predictions came from as headlines name them, e.g. "best.pt (epoch 12)"."""
    checkpoint = meta.get("checkpoint_file") or "best.pt"
    best_epoch = run.status().summary.get("best_epoch")
    if checkpoint == "best.pt" and best_epoch:
        return checkpoint + f" (epoch {int(best_epoch)})"
    return checkpoint + " (no best checkpoint)" if checkpoint == "last.pt" else checkpoint


@dataclass(frozen=True)
class RunSource:
    """One trained run as an evaluation source (see `eval.source.EvalSource`)."""

    dir: RunDir
    kind = "run"
    vote = "soft"  # one member: nothing to vote

    @property
    def path(self) -> Path:
        return self.dir.path

    @property
    def runs(self) -> list[RunDir]:
        return [self.dir]

    @property
    def class_names(self) -> list[str]:
        return list(self.dir.preprocess().class_names)

    def describe(self) -> str:
        return "single run"

    def checkpoint_label(self, meta: dict[str, Any]) -> str:
        return checkpoint_label(self.dir, meta)

    def data_config(self, data_path: str | None = None,
                    data_options: dict[str, Any] | None = None) -> DataConfig:
        return eval_data_config(self.dir, data_path, data_options)

    def predictions(self, split: str = "test", data_path: str | None = None, tta: bool = False,
                    **kw: Any) -> Predictions:
        return run_predictions(self.dir, split, data_path, tta, **kw)

    def train_class_counts(self) -> np.ndarray | None:
        return run_class_counts(self.dir)
