"""Finding wrong labels: rank the faces whose given label is most likely wrong, with cleanlab.

Input is held-out probabilities: the out-of-fold predictions of a k-fold run (every train+val
face predicted by the fold that did not train on it; the best input) or a run's predictions
on one split. cleanlab's confident learning (`find_label_issues`) flags the faces and
`get_label_quality_scores` ranks them (low score = likely wrong). Where annotator votes exist
(FERPlus), cleanlab's multi-annotator CROWDLAB scores the consensus label instead and the
annotators' agreement is reported beside it.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..scoring.predictions import Predictions

SPLIT_PREFERENCE = ("oof", "val", "test")


@dataclass
class LabelIssue:
    position: int  # face index in the run's dataset (DatasetArrays order)
    source: str  # file path or "file.csv#line": where the face is (label overrides key on it)
    split: str
    given: str  # the label in the dataset
    suggested: str  # the model's class
    score: float  # label quality in [0, 1]; low = likely wrong
    flagged: bool  # cleanlab flags the label as an issue
    agreement: float | None = None  # share of annotators who voted the consensus (votes only)


@dataclass
class LabelIssueReport:
    run_dir: str
    split: str  # "oof", "val" or "test"
    method: str
    class_names: list[str]
    faces: int
    issues: list[LabelIssue]  # flagged faces, most likely wrong first
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"run_dir": self.run_dir, "split": self.split, "method": self.method,
                "class_names": self.class_names, "faces": self.faces, "flagged": len(self.issues),
                "issues": [asdict(i) for i in self.issues], "notes": self.notes}

    def format_text(self, limit: int = 20) -> str:
        lines = [f"Label issues in {self.run_dir} ({self.split} predictions, {self.method}): "
                 f"{len(self.issues):,} of {self.faces:,} faces flagged"]
        lines += [f"  note: {n}" for n in self.notes]
        for i in self.issues[:limit]:
            lines.append(f"  {i.score:.3f}  given {i.given:<9} suggested {i.suggested:<9} {i.source}")
        if len(self.issues) > limit:
            lines.append(f"  ... and {len(self.issues) - limit:,} more (use --json for all)")
        return "\n".join(lines)


def rank_label_issues(labels: np.ndarray, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(flagged mask, label quality score) per face from held-out `probs` (N, K) and given `labels`."""
    from cleanlab.filter import find_label_issues
    from cleanlab.rank import get_label_quality_scores

    labels = np.asarray(labels, np.int64)
    probs = _normalised(probs)
    # n_jobs=1: cleanlab's default forks a multiprocessing.Pool, and a fork of a process with
    # threads (the GUI, torch's pools) can deadlock in the child (it hung the suite once)
    flagged = find_label_issues(labels, probs, filter_by="prune_by_noise_rate", n_jobs=1)
    scores = get_label_quality_scores(labels, probs, method="self_confidence")
    return np.asarray(flagged, bool), np.asarray(scores, np.float64)


def rank_with_votes(votes: np.ndarray, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(consensus label, consensus quality score, annotator agreement) per face from vote counts
    (N, K), through cleanlab's multi-annotator CROWDLAB. Votes carry no annotator ids, so each
    face's i-th vote is read as annotator i's label."""
    from cleanlab.multiannotator import get_label_quality_multiannotator

    counts = np.rint(np.asarray(votes, np.float64)).astype(np.int64)
    width = int(counts.sum(axis=1).max())
    matrix = np.full((len(counts), width), np.nan)
    for row, c in enumerate(counts):
        labels = np.repeat(np.arange(len(c)), c)
        matrix[row, :len(labels)] = labels
    keep = ~np.isnan(matrix).all(axis=0)
    out = get_label_quality_multiannotator(matrix[:, keep], _normalised(probs), verbose=False,
                                           return_annotator_stats=False, return_detailed_quality=False)
    q = out["label_quality"]
    return (q["consensus_label"].to_numpy(np.int64), q["consensus_quality_score"].to_numpy(np.float64),
            q["annotator_agreement"].to_numpy(np.float64))


def label_issues_for_run(run_dir: str | Path, split: str = "auto", progress=None) -> LabelIssueReport:
    """The label issues of the dataset a run trained on, from its held-out predictions."""
    from ..data import load_dataset
    from ..training.rundir import RunDir

    run = RunDir.open(run_dir)
    split = _pick_split(run, split)
    preds = Predictions.load(run.predictions_path(split, False))
    data = load_dataset(run.config().data, progress)
    positions = preds.index if split == "oof" else data.splits[split][preds.index]
    if len(positions) and positions.max() >= len(data.labels):
        raise ValueError(f"{run.path}: its {split} predictions do not match the dataset {run.config().data.path} "
                         f"as it is now (changed since the run?)")
    known = preds.y_true >= 0
    notes = []
    if not known.all():
        notes.append(f"{int((~known).sum())} face(s) of classes the model does not know were left out")
    preds, positions = preds.subset(known), positions[known]
    names = preds.class_names
    agreement = None
    if data.votes is not None and list(data.class_names) == list(names):
        consensus, scores, agreement = rank_with_votes(data.votes[positions], preds.probs)
        flagged, _ = rank_label_issues(preds.y_true, preds.probs)
        flagged |= consensus != preds.y_true
        method = "cleanlab multi-annotator (CROWDLAB) on the votes + confident learning"
    else:
        flagged, scores = rank_label_issues(preds.y_true, preds.probs)
        method = "cleanlab confident learning (prune by noise rate), self-confidence ranking"
    suggested = preds.probs.argmax(1)
    issues = [LabelIssue(position=int(positions[i]), source=data.sources[positions[i]], split=split,
                         given=names[preds.y_true[i]], suggested=names[suggested[i]], score=float(scores[i]),
                         flagged=True, agreement=None if agreement is None else float(agreement[i]))
              for i in np.flatnonzero(flagged)]
    issues.sort(key=lambda x: x.score)
    if split != "oof":
        notes.append(f"ranked from the {split} split only; a k-fold run (kfold.k) covers every training face")
    return LabelIssueReport(run_dir=str(run.path), split=split, method=method, class_names=list(names),
                            faces=len(preds), issues=issues, notes=notes)


def _pick_split(run, split: str) -> str:
    available = [s for s in SPLIT_PREFERENCE if run.predictions_path(s, False).is_file()]
    if split == "auto":
        if not available:
            raise FileNotFoundError(f"{run.path} has no saved predictions (predictions/oof.npz, val.npz or "
                                    f"test.npz); train it to the end, or as a k-fold run for out-of-fold ones")
        return available[0]
    if split not in available:
        raise FileNotFoundError(f"{run.path} has no {split} predictions (has: {', '.join(available) or 'none'})")
    return split


def _normalised(probs: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(probs, np.float64), 1e-12, None)
    return p / p.sum(axis=1, keepdims=True)
