"""A study's results from its saved predictions: per-run scores, per-variant statistics, verdicts.

Per variant: mean ± std over seeds of accuracy and macro-F1 (on `report_on`, with TTA when
the spec says so), the 95% interval of the mean accuracy, the effect against the baseline
with its 95% interval and paired-bootstrap p-value (seeds and test faces resampled), the
Holm-adjusted p across variants, the verdict, the per-class recall effect and the cost
(wall time, img/s). Only finished runs count; the others are listed with their state, and
the random samples ASHA stopped early are named in the notes.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..scoring.metrics import confusion_matrix, macro_f1
from ..scoring.predictions import Predictions
from ..scoring import stats
from .plan import BASELINE
from .spec import StudyError
from .studydir import PRUNED, StudyDir


@dataclass
class RunResult:
    key: str
    variant: str
    seed: int
    state: str
    accuracy: float = math.nan
    interval: tuple[float, float] = (math.nan, math.nan)  # Wilson 95%
    macro_f1: float = math.nan
    val_accuracy: float = math.nan
    wall_time_s: float = math.nan
    img_per_s: float = math.nan
    epochs: int = 0  # epochs trained


@dataclass
class VariantResult:
    name: str
    changes: dict[str, Any]
    seeds: int  # finished runs
    accuracy_mean: float = math.nan
    accuracy_std: float = math.nan
    accuracy_interval: tuple[float, float] = (math.nan, math.nan)
    macro_f1_mean: float = math.nan
    macro_f1_std: float = math.nan
    val_accuracy_mean: float = math.nan
    effect: float = math.nan
    effect_interval: tuple[float, float] = (math.nan, math.nan)
    p: float = math.nan
    p_holm: float = math.nan
    verdict: str = ""
    class_effects: dict[str, float] = field(default_factory=dict)  # recall change per class
    wall_time_s: float = math.nan
    img_per_s: float = math.nan


@dataclass
class StudyResults:
    name: str
    split: str
    tta: bool
    faces: int
    class_names: list[str]
    variants: list[VariantResult]
    runs: list[RunResult]
    notes: list[str]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _mean_std(x: list[float]) -> tuple[float, float]:
    if not x:
        return math.nan, math.nan
    return float(np.mean(x)), float(np.std(x, ddof=1)) if len(x) > 1 else math.nan


def _predictions(study: StudyDir, key: str, split: str, tta: bool) -> Predictions:
    run = study.run_dir(key)
    path = run.predictions_path(split, tta)
    if tta and not path.is_file():
        raise StudyError(f"run {key} has no {split} predictions with TTA ({path}); its config has eval.tta='none'")
    return Predictions.load(path)


def analyze(study: StudyDir, n_boot: int = 4000, seed: int = 0) -> StudyResults:
    """Everything `study report` and the Studies page show, from the study directory alone."""
    spec, plan = study.spec(), study.plan()
    states = study.states()
    runs = []
    correct: dict[str, list[np.ndarray]] = {}  # per variant, one mask per seed
    preds_by: dict[str, list[Predictions]] = {}
    faces_ref: np.ndarray | None = None
    class_names: list[str] = []
    for planned in plan.runs:
        r = RunResult(planned.key, planned.variant, planned.seed, states[planned.key])
        runs.append(r)
        if r.state != "finished":
            continue
        p = _predictions(study, planned.key, spec.report_on, spec.tta)
        known = p.y_true >= 0
        ident = np.stack([p.index[known], p.y_true[known]])
        if faces_ref is None:
            faces_ref, class_names = ident, list(p.class_names)
        elif ident.shape != faces_ref.shape or not np.array_equal(ident, faces_ref):
            raise StudyError(f"run {planned.key} was scored on other {spec.report_on} faces than the "
                             "others; a study's runs must share one data split")
        c = stats.correct_mask(p.y_true, p.y_pred)
        correct.setdefault(r.variant, []).append(c)
        preds_by.setdefault(r.variant, []).append(p)
        cm = confusion_matrix(p.y_true, p.y_pred, len(p.class_names))
        iv = stats.accuracy_interval(int(c.sum()), len(c))
        r.accuracy, r.interval, r.macro_f1 = float(c.mean()), (iv.low, iv.high), macro_f1(cm)
        run_dir = study.run_dir(planned.key)
        val = run_dir.predictions_path(spec.select_on, spec.tta)
        if val.is_file():
            vp = Predictions.load(val)
            r.val_accuracy = float(stats.correct_mask(vp.y_true, vp.y_pred).mean())
        r.wall_time_s = float(run_dir.status().summary.get("wall_time_s", math.nan))
        metrics = run_dir.read_metrics()
        rates = [m["img_per_s"] for m in metrics if "img_per_s" in m]
        r.img_per_s = float(np.mean(rates)) if rates else math.nan
        r.epochs = int(max((m["epoch"] for m in metrics), default=0))
    variants = [_variant(v.name, v.changes, [r for r in runs if r.variant == v.name and r.state == "finished"],
                         correct, preds_by, class_names, n_boot, seed) for v in plan.variants]
    others = [v for v in variants if v.name != BASELINE]
    adjusted = stats.holm([v.p for v in others])
    base_seeds = len(correct.get(BASELINE, []))
    for v, p_adj in zip(others, adjusted):
        v.p_holm = float(p_adj)
        v.verdict = stats.verdict(v.effect, v.p_holm, min(v.seeds, base_seeds)) if v.seeds and base_seeds else ""
    unfinished = [r for r in runs if r.state not in ("finished", PRUNED)]
    notes = list(plan.notes)
    planned_epochs = {r.key: r.config.train.epochs for r in plan.runs}
    pruned = [f"{r.key} (epoch {max((m['epoch'] for m in study.run_dir(r.key).read_metrics()), default=0)}"
              f" of {planned_epochs[r.key]})" for r in runs if r.state == PRUNED]
    if pruned:
        notes.append(f"{len(pruned)} of {len(runs)} runs stopped early by ASHA (poor random samples; they count "
                     f"in no variant): {', '.join(pruned)}")
    if unfinished:
        notes.append(f"{len(unfinished)} of {len(runs)} runs are not finished "
                     f"({', '.join(sorted({r.state for r in unfinished}))}); their variants count only finished seeds")
    epochs = epochs_note([r for r in runs if r.state == "finished"])
    if epochs:
        notes.append(epochs)
    return StudyResults(spec.name, spec.report_on, spec.tta, 0 if faces_ref is None else faces_ref.shape[1],
                        class_names, variants, runs, notes)


def epochs_note(finished: list[RunResult]) -> str:
    """What a reader must know when the finished runs trained different numbers of epochs ("" if not)."""
    if len({r.epochs for r in finished}) < 2:
        return ""
    by: dict[str, list[int]] = {}
    for r in finished:
        by.setdefault(r.variant, []).append(r.epochs)
    spans = [f"{v} {min(e)}" + (f"-{max(e)}" if max(e) > min(e) else "") for v, e in by.items()]
    return ("the runs trained different numbers of epochs (" + ", ".join(spans) + "): each effect includes "
            "the difference in training length")


def _variant(name: str, changes: dict[str, Any], finished: list[RunResult], correct: dict[str, list],
             preds_by: dict[str, list], class_names: list[str], n_boot: int, seed: int) -> VariantResult:
    out = VariantResult(name, dict(changes), len(finished))
    if not finished:
        return out
    out.accuracy_mean, out.accuracy_std = _mean_std([r.accuracy for r in finished])
    out.macro_f1_mean, out.macro_f1_std = _mean_std([r.macro_f1 for r in finished])
    vals = [r.val_accuracy for r in finished if math.isfinite(r.val_accuracy)]
    out.val_accuracy_mean = float(np.mean(vals)) if vals else math.nan
    iv = stats.mean_accuracy_interval(np.stack(correct[name]), n_boot, seed)
    out.accuracy_interval = (iv.low, iv.high)
    out.wall_time_s = float(np.nanmean([r.wall_time_s for r in finished]))
    rates = [r.img_per_s for r in finished if math.isfinite(r.img_per_s)]
    out.img_per_s = float(np.mean(rates)) if rates else math.nan
    if name != BASELINE and correct.get(BASELINE):
        e = stats.paired_bootstrap(np.stack(correct[BASELINE]), np.stack(correct[name]), n_boot, seed)
        out.effect, out.effect_interval, out.p = e.effect, (e.interval.low, e.interval.high), e.p
        k = len(class_names)

        def recalls(v: str) -> np.ndarray:
            return np.nanmean([stats.class_recalls(p.y_true, p.y_pred, k) for p in preds_by[v]], axis=0)

        delta = recalls(name) - recalls(BASELINE)
        out.class_effects = {c: float(d) for c, d in zip(class_names, delta) if math.isfinite(d)}
    return out
