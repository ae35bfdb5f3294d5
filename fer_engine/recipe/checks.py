"""Config checks: every value outside its declared rule (`config.fld`), settings that contradict
each other or do nothing, and pairs of tricks that conflict.

`check_config(cfg)` returns each as a `Problem` whose message says what to change;
`raise_on_errors` turns errors into a `ConfigError`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

from ..config import ConfigError, RunConfig, fields, value_problem
from ..models import BACKBONES
from .mixing import mix_is_on
from ..devices import device_problems, wants_several
from .tricks import CONFLICTS, active_tricks


@dataclass(frozen=True)
class Problem:
    key: str
    message: str
    severity: str  # "error" | "warning"

    def __str__(self) -> str:
        return f"{self.severity}: {self.key}: {self.message}"


def _non_finite(value: Any) -> bool:
    return any(isinstance(v, float) and not math.isfinite(v) for v in (value if isinstance(value, list) else [value]))


def _value_problems(cfg: RunConfig) -> list[Problem]:
    # loading already refuses inf/nan; a config built in code is checked here
    out = [Problem(key, f"must be a finite number, got {cfg.get(key)!r}", "error")
           for key in fields() if _non_finite(cfg.get(key))]
    bad = {p.key for p in out}
    for key in fields():
        problem = None if key in bad else value_problem(key, cfg.get(key))
        if problem:
            out.append(Problem(key, problem, "error"))
    return out


# settings that only act under a condition: changed from their default otherwise, they do nothing
_ONLY_WHEN: dict[str, tuple[Callable[[RunConfig], bool], str]] = {
    **dict.fromkeys(("schedule.step_size", "schedule.gamma"), (lambda c: c.schedule.name == "step",
                                                               "schedule.name='step'")),
    **dict.fromkeys(("schedule.t0", "schedule.t_mult"), (lambda c: c.schedule.name == "warm_restarts",
                                                         "schedule.name='warm_restarts'")),
    **dict.fromkeys(("schedule.plateau_patience", "schedule.plateau_factor"),
                    (lambda c: c.schedule.name == "plateau", "schedule.name='plateau'")),
    "schedule.min_lr": (lambda c: c.schedule.name != "constant", "a decaying schedule.name"),
    "schedule.warmup_start_factor": (lambda c: c.schedule.warmup_epochs > 0, "schedule.warmup_epochs > 0"),
    "optim.momentum": (lambda c: c.optim.name == "sgd", "optim.name='sgd'"),
    "optim.nesterov": (lambda c: c.optim.name == "sgd", "optim.name='sgd'"),
    "optim.betas": (lambda c: c.optim.name in ("adam", "adamw"), "optim.name is 'adam' or 'adamw'"),
    "loss.focal_gamma": (lambda c: c.loss.name == "focal", "loss.name='focal'"),
    "loss.focal_alpha": (lambda c: c.loss.name == "focal", "loss.name='focal'"),
    "loss.effective_beta": (lambda c: c.loss.class_weights == "effective", "loss.class_weights='effective'"),
    "augment.blur_sigma": (lambda c: c.augment.blur > 0, "augment.blur > 0"),
    "mix.prob": (lambda c: c.mix.mixup_alpha > 0 or c.mix.cutmix_alpha > 0, "mix.mixup_alpha or mix.cutmix_alpha > 0"),
    "mix.switch_prob": (lambda c: c.mix.mixup_alpha > 0 and c.mix.cutmix_alpha > 0,
                        "both mix.mixup_alpha and mix.cutmix_alpha > 0"),
    **dict.fromkeys(("normalize.mean", "normalize.std"), (lambda c: c.normalize.mode == "fixed",
                                                          "normalize.mode='fixed'")),
    "train.early_stopping_min_delta": (lambda c: c.train.early_stopping_patience > 0,
                                       "train.early_stopping_patience > 0"),
    "eval.tta_vote": (lambda c: c.eval.tta != "none", "eval.tta is 'flip' or 'tencrop'"),
    "kfold.final_on_train_val": (lambda c: c.kfold.k >= 2, "kfold.k >= 2"),
}


def _ignored_problems(cfg: RunConfig) -> list[Problem]:
    """Warnings for settings changed from their default where they have no effect."""
    default = RunConfig()
    out = []
    for key, (used, condition) in _ONLY_WHEN.items():
        if cfg.get(key) != default.get(key) and not used(cfg):
            out.append(Problem(key, f"has no effect unless {condition}; set that, or reset {key} to "
                               f"its default {default.get(key)!r}", "warning"))
    return out


def _backbone_problems(cfg: RunConfig) -> list[Problem]:
    name = cfg.model.backbone
    if name not in BACKBONES:
        return [Problem("model.backbone", f"unknown backbone {name!r}; available: "
                        f"{', '.join(BACKBONES.names())}", "error")]
    if cfg.normalize.mode == "backbone" and BACKBONES.get(name).mean is None:
        return [Problem("normalize.mode", f"backbone {name!r} has no pretraining mean/std (it is "
                        "trained from scratch); use normalize.mode='dataset'", "error")]
    return []


def _combination_problems(cfg: RunConfig) -> list[Problem]:
    """Settings that contradict each other or silently do nothing, each with what to change."""
    c, out = cfg, []

    def add(key: str, severity: str, message: str) -> None:
        out.append(Problem(key, message, severity))

    if c.data.val_fraction + c.data.test_fraction >= 1:
        add("data.val_fraction", "error", "val_fraction + test_fraction must leave training data (< 1)")
    if c.normalize.mode == "fixed":
        for key in ("normalize.mean", "normalize.std"):
            if len(c.get(key)) not in (1, c.data.channels):
                add(key, "error", f"needs 1 or data.channels={c.data.channels} values, got {len(c.get(key))}")
    if c.optim.name == "sgd" and c.optim.nesterov and c.optim.momentum <= 0:
        add("optim.nesterov", "error", "Nesterov needs momentum > 0; set optim.momentum (e.g. 0.9) "
            "or optim.nesterov=false")
    if c.optim.name == "adam" and c.optim.weight_decay > 0:
        add("optim.weight_decay", "warning", "Adam applies weight decay as L2 inside the adaptive "
            "update, which regularises weakly; use optim.name='adamw' for decoupled weight decay")
    if c.model.multi_sample_dropout > 1 and c.model.dropout <= 0:
        add("model.multi_sample_dropout", "warning", "multi-sample dropout averages identical "
            "samples when model.dropout is 0; set model.dropout > 0 (e.g. 0.3)")
    if mix_is_on(c.mix) and c.train.batch_size < 2:
        add("mix.prob", "warning", "mixup/cutmix need a batch of at least 2 to pair images; "
            "raise train.batch_size")
    epochs, s = c.train.epochs, c.schedule
    if s.warmup_epochs >= epochs and s.warmup_epochs > 0:
        add("schedule.warmup_epochs", "warning", f"warmup ({s.warmup_epochs} epochs) lasts the whole "
            f"run of {epochs} epochs, so the {s.name} schedule never starts; shorten the warmup")
    if s.name != "constant" and s.min_lr >= c.optim.lr:
        add("schedule.min_lr", "error", f"min_lr ({s.min_lr}) >= optim.lr ({c.optim.lr}): the "
            "schedule cannot decay; lower schedule.min_lr")
    if s.name == "step" and s.step_size >= epochs:
        add("schedule.step_size", "warning", f"step_size ({s.step_size}) >= epochs ({epochs}): the "
            "lr never decays; lower schedule.step_size")
    if s.name == "warm_restarts" and s.t0 >= epochs:
        add("schedule.t0", "warning", f"t0 ({s.t0}) >= epochs ({epochs}): no restart happens (plain "
            "cosine); lower schedule.t0 or use schedule.name='cosine'")
    patience = c.train.early_stopping_patience
    if patience > 0 and s.name == "warm_restarts" and patience < s.t0:
        add("train.early_stopping_patience", "warning", f"patience ({patience}) is shorter than a "
            f"restart cycle (t0={s.t0}); the metric dips after each restart and stopping may cut the "
            "next cycle short; set patience >= schedule.t0")
    if patience > 0 and s.name == "plateau" and patience <= s.plateau_patience + 1:
        add("train.early_stopping_patience", "warning", f"early stopping (patience {patience}) fires "
            f"before or when reduce-on-plateau (patience {s.plateau_patience}) lowers the lr; set "
            "train.early_stopping_patience > schedule.plateau_patience + 1")
    if c.train.time_budget_min > 0:
        out.extend(Problem(k, m, sev) for k, sev, m in _budget_problems(c))
    if c.eval.tta == "tencrop" and c.data.image_size < 24:
        add("eval.tta", "warning", f"ten-crop on {c.data.image_size}px images shifts crops by about "
            "one pixel, giving near-identical views; use eval.tta='flip'")
    return out


def _budget_problems(c: RunConfig) -> list[tuple[str, str, str]]:
    """What a time budget (one process, warmup + cosine laid out by the run) cannot combine with."""
    out = []
    if c.kfold.k >= 2:
        out.append(("train.time_budget_min", "error", "a time budget plans one run, not k-fold's several; "
                    "set kfold.k=0 or train.time_budget_min=0"))
    if wants_several(c):
        out.append(("train.time_budget_min", "error", "a time budget plans a run in one process; set "
                    "train.devices=1 and train.nodes=1, or train.time_budget_min=0"))
    if c.schedule.name != "cosine":
        out.append(("schedule.name", "warning", f"a time budget lays out a warmup + cosine schedule to end on "
                    f"time; schedule.name={c.schedule.name!r} is not used (set 'cosine')"))
    return out


def _pair_problems(cfg: RunConfig) -> list[Problem]:
    on = set(active_tricks(cfg))
    return [Problem(c.key, c.message, "warning") for c in CONFLICTS if c.a in on and c.b in on]


def check_config(cfg: RunConfig) -> list[Problem]:
    """Every range error and conflict of a config (errors first), each saying what to change."""
    problems = _value_problems(cfg)
    bad_keys = {p.key for p in problems}
    problems += _backbone_problems(cfg)
    if not bad_keys:  # combinations of out-of-range values would only repeat the errors
        problems += _combination_problems(cfg) + _pair_problems(cfg) + _ignored_problems(cfg)
        problems += _device_problems(cfg)
    return sorted(problems, key=lambda p: p.severity != "error")


def _device_problems(cfg: RunConfig) -> list[Problem]:
    """Device counts the machine cannot give, device options the plan cannot use."""
    return [Problem(key, message, "error") for key, message in device_problems(cfg)]


def raise_on_errors(cfg: RunConfig) -> list[Problem]:
    """Raise ConfigError listing every error; otherwise return the warnings."""
    problems = check_config(cfg)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        lines = "\n".join(f"  {p.key}: {p.message}" for p in errors)
        raise ConfigError(f"config has {len(errors)} error(s):\n{lines}")
    return problems
