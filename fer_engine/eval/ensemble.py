"""Ensembles of finished runs (any backbones), soft or hard voting, usable like one run.

An ensemble is a directory beside the runs:

    <runs>/<id>/ensemble.json   {"members": [run dirs], "vote": "soft"|"hard", "class_names"}
                config.json     the first member's config (so the runs list can show it)
                meta.json       display name; status.json "finished"; dataset.json (first member's)
                predictions/<split>[-tta].npz   the voted predictions, stored like a run's

Each member keeps its own preprocessing (input size, channels, mean/std) and its own
stored predictions; the ensemble combines them. Voting:
- soft: probabilities = mean of the members' probabilities; prediction = argmax.
- hard: `recipe.voting.hard_vote` (the one used by hard-vote TTA): probabilities = vote
  shares (what fraction of members chose each class), ties broken by the mean probability.
Under both, `logits` = log of the mean probability (used by prior correction) and
`losses` = cross-entropy of the mean probability; `features` = the members' features
concatenated. Members must share class names (same classes, same order).
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from ..config import DataConfig
from ..recipe.voting import hard_vote
from ..training.rundir import RunDir, RunDirError
from ..utils.atomic import atomic_write_text
from ..progress import ProgressFn, StopFn
from ..scoring.predictions import Predictions, cross_entropy, load_stored
from .store import (OTHER_DATA, checkpoint_stamp, predictions_path, run_class_counts,
                    run_predictions)

VOTES = ("soft", "hard")


class EnsembleError(ValueError):
    """Members that cannot be combined; the message names the run at fault."""


def vote(member_probs: np.ndarray, how: str) -> tuple[np.ndarray, np.ndarray]:
    """(M, N, K) member probabilities -> (probs (N, K) float32, y_pred (N,) int64)."""
    if how not in VOTES:
        raise EnsembleError(f"vote must be one of {', '.join(VOTES)}, got {how!r}")
    member_probs = np.asarray(member_probs, dtype=np.float64)
    if how == "soft":
        probs = member_probs.mean(axis=0)
    else:
        probs = hard_vote(torch.from_numpy(member_probs)).numpy()
    return probs.astype(np.float32), probs.argmax(axis=1).astype(np.int64)


def _read_spec(path: Path) -> dict:
    try:
        spec = json.loads((path / "ensemble.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunDirError(f"not an ensemble directory (no ensemble.json): {path}") from None
    except (OSError, json.JSONDecodeError) as e:
        raise RunDirError(f"cannot read {path / 'ensemble.json'}: {e}") from None
    if not isinstance(spec.get("members"), list) or spec.get("vote") not in VOTES:
        raise RunDirError(f"{path / 'ensemble.json'} needs 'members' (a list) and 'vote' (soft|hard)")
    return spec


def member_runs(ensemble_dir: str | Path) -> tuple[list[RunDir], str]:
    """(member RunDirs, vote) of an ensemble directory; relative member paths resolve from it."""
    path = Path(getattr(ensemble_dir, "path", ensemble_dir))
    spec = _read_spec(path)
    runs = []
    for m in spec["members"]:
        p = Path(m) if Path(m).is_absolute() else (path / m).resolve()
        runs.append(RunDir.open(p))
    return runs, spec["vote"]


def check_members(runs: Sequence[RunDir]) -> list[str]:
    """The shared class names; a clear error when members differ or are not usable."""
    if len(runs) < 2:
        raise EnsembleError(f"an ensemble needs at least two runs, got {len(runs)}")
    seen: dict[Path, RunDir] = {}
    for run in runs:
        twin = seen.setdefault(run.path.resolve(), run)
        if twin is not run:
            raise EnsembleError(f"run {run.path} is listed twice (as {twin.path} too); an ensemble "
                                "of one model with itself only repeats its predictions")
    names = None
    for run in runs:
        if (run.path / "ensemble.json").is_file():
            raise EnsembleError(f"{run.path} is itself an ensemble; list its member runs instead")
        status = run.status().state
        if status != "finished":
            raise EnsembleError(f"run {run.path} is {status}, not finished")
        these = list(run.preprocess().class_names)
        if names is None:
            names, first = these, run
        elif these != names:
            raise EnsembleError(f"members must share class names: {first.path} has "
                                f"{', '.join(names)} but {run.path} has {', '.join(these)}")
    return names or []


def create_ensemble(member_dirs: Sequence[str | Path], vote_how: str, out_dir: str | Path,
                    name: str = "") -> RunDir:
    """Write an ensemble directory at `out_dir` (must not exist yet, or be empty)."""
    if vote_how not in VOTES:
        raise EnsembleError(f"vote must be one of {', '.join(VOTES)}, got {vote_how!r}")
    runs = [RunDir.open(p) for p in member_dirs]
    class_names = check_members(runs)
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()):
        raise EnsembleError(f"output folder is not empty: {out}")
    out.mkdir(parents=True, exist_ok=True)
    ens = RunDir(out)
    first = runs[0]
    label = name or f"ensemble ({vote_how}) of " + " + ".join(r.display_name for r in runs)
    first.config().replace(name=label).save(ens.config_path)
    spec = {"members": [str(r.path.resolve()) for r in runs], "vote": vote_how,
            "class_names": class_names, "created": time.time()}
    atomic_write_text(out / "ensemble.json", json.dumps(spec, indent=1) + "\n")
    ens.write_dataset(first.dataset_info())
    ens.write_meta({"display_name": label, "kind": "ensemble"})
    ens.write_status("finished", kind="ensemble")
    return ens


def ensemble_data_config(ens: RunDir, data_path: str | None = None) -> DataConfig:
    """The ensemble's own data (its first member's, copied into its config.json), or another
    dataset read at that size (each member converts the faces to its own format)."""
    cfg = ens.config().data
    return cfg if data_path is None else replace(cfg, path=str(data_path), **OTHER_DATA)


def ensemble_predictions(ensemble_dir: str | Path | RunDir, split: str = "test",
                         data_path: str | None = None, tta: bool = False, *, device: str = "auto",
                         batch_size: int = 256, progress: ProgressFn | None = None,
                         should_stop: StopFn | None = None) -> Predictions:
    """The voted predictions of an ensemble, stored in its directory like a run's.

    Every member is evaluated on the same data: the ensemble's own (its first member's
    dataset) unless `data_path` names another; each member's predictions are stored
    in the member's run directory and reused.
    """
    ens = ensemble_dir if isinstance(ensemble_dir, RunDir) else RunDir(Path(ensemble_dir))
    runs, how = member_runs(ens.path)
    class_names = check_members(runs)
    data = ensemble_data_config(ens, data_path)
    path = predictions_path(ens, data, split, tta)
    stamps = _member_stamps(runs)
    stored = load_stored(path)
    if stored is not None and stored.meta.get("members") == stamps:
        return stored
    member_preds = []
    for i, run in enumerate(runs):
        def member_progress(f: float, detail: str, i: int = i) -> None:
            if progress is not None:
                progress((i + f) / len(runs), f"member {i + 1}/{len(runs)}: {detail}")

        member_preds.append(run_predictions(run, split, data.path, tta, device=device,
                                            batch_size=batch_size, progress=member_progress,
                                            should_stop=should_stop))
    preds = combine(member_preds, how, class_names, runs)
    preds.meta.update(members=stamps, data_path=data.path, vote=how)
    preds.save(path)
    return preds


def combine(member_preds: Sequence[Predictions], how: str, class_names: list[str],
            runs: Sequence[RunDir] = ()) -> Predictions:
    """Vote member predictions of the same faces into one `Predictions`."""
    first = member_preds[0]
    for i, p in enumerate(member_preds[1:], 1):
        if not (np.array_equal(p.index, first.index) and np.array_equal(p.y_true, first.y_true)):
            who = runs[i].path if runs else f"member {i}"
            raise EnsembleError(f"{who} was evaluated on different faces than the first member "
                                "(different data or split settings)")
    stacked = np.stack([p.probs for p in member_preds])
    probs, y_pred = vote(stacked, how)
    mean = stacked.mean(axis=0)
    return Predictions(
        index=first.index.copy(), y_true=first.y_true.copy(), y_pred=y_pred, probs=probs,
        logits=np.log(np.clip(mean, 1e-12, 1.0)).astype(np.float32),
        losses=cross_entropy(mean, first.y_true),
        features=np.concatenate([p.features for p in member_preds], axis=1),
        class_names=list(class_names), split=first.split, tta=first.tta,
        meta={"data_classes": first.meta.get("data_classes")},
    )


def _member_stamps(runs: Sequence[RunDir]) -> list[dict]:
    return [{"run_dir": str(r.path.resolve()), **checkpoint_stamp(r)} for r in runs]


@dataclass(frozen=True)
class EnsembleSource:
    """An ensemble directory as an evaluation source (see `eval.source.EvalSource`)."""

    dir: RunDir
    runs: list[RunDir]
    vote: str
    class_names: list[str]
    kind = "ensemble"

    @classmethod
    def open(cls, path: Path) -> "EnsembleSource":
        """The ensemble at `path`; an `EnsembleError` when its members cannot be combined."""
        runs, how = member_runs(path)
        return cls(RunDir(path), runs, how, check_members(runs))

    @property
    def path(self) -> Path:
        return self.dir.path

    def describe(self) -> str:
        return f"ensemble ({self.vote} vote) of {len(self.runs)} runs"

    def checkpoint_label(self, meta: dict[str, Any]) -> str:
        return "members' best.pt"

    def data_config(self, data_path: str | None = None,
                    data_options: dict[str, Any] | None = None) -> DataConfig:
        return ensemble_data_config(self.dir, data_path)

    def predictions(self, split: str = "test", data_path: str | None = None, tta: bool = False, *,
                    checkpoint: str = "best", dataset=None, data_options=None, **kw: Any) -> Predictions:
        """`dataset` and `data_options` are ignored: members may read the data at different sizes."""
        if checkpoint != "best":
            raise ValueError("an ensemble always uses its members' best checkpoints; "
                             "choose the checkpoint of a run, not of an ensemble")
        return ensemble_predictions(self.dir, split, data_path, tta, **kw)

    def train_class_counts(self) -> np.ndarray | None:
        """The first member's counts."""
        return run_class_counts(self.runs[0])
