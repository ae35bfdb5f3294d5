"""How a study switches a trick off (leave-one-out) or on (add-one): config values per trick.

Each entry holds the dotted-key values that turn the trick off and its usual "on" values
(the ones the competition write-ups use). `plan` checks after applying them that the
trick really is off / on, so a wrong entry cannot silently produce a copy of the base.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..registry import Registry


@dataclass(frozen=True)
class Switch:
    name: str  # a TRICKS name
    off: dict[str, Any] = field(default_factory=dict)
    on: dict[str, Any] = field(default_factory=dict)


SWITCHES: Registry[Switch] = Registry("switchable trick")


def _switch(name: str, off: dict[str, Any], on: dict[str, Any]) -> None:
    SWITCHES.register(name, Switch(name, off, on))


_switch("dataset_normalization", {"normalize.mode": "fixed"}, {"normalize.mode": "dataset"})
_switch("backbone_normalization", {"normalize.mode": "dataset"}, {"normalize.mode": "backbone"})
for _key, _on in (("hflip", 0.5), ("rotation", 10.0), ("translate", 0.1), ("scale", 0.1),
                  ("random_resized_crop", 0.8), ("perspective", 0.2), ("blur", 0.2), ("noise", 0.02),
                  ("brightness", 0.2), ("contrast", 0.2), ("erasing", 0.25)):
    _switch(_key, {f"augment.{_key}": 0.0}, {f"augment.{_key}": _on})
_switch("mixup", {"mix.mixup_alpha": 0.0}, {"mix.mixup_alpha": 0.2})
_switch("cutmix", {"mix.cutmix_alpha": 0.0}, {"mix.cutmix_alpha": 1.0})
_switch("balanced_sampler", {"sampler.balanced": False}, {"sampler.balanced": True})
_switch("class_weights", {"loss.class_weights": "none"}, {"loss.class_weights": "inverse"})
_switch("focal_loss", {"loss.name": "ce", "loss.focal_alpha": []}, {"loss.name": "focal"})
_switch("prior_correction", {"eval.prior_correction": "none"}, {"eval.prior_correction": "uniform"})
_switch("nesterov", {"optim.nesterov": False},
        {"optim.name": "sgd", "optim.momentum": 0.9, "optim.nesterov": True})
_switch("warmup", {"schedule.warmup_epochs": 0.0}, {"schedule.warmup_epochs": 1.0})
for _name in ("step_lr", "cosine_lr", "warm_restarts", "plateau_lr"):
    _switch(_name, {"schedule.name": "constant"},
            {"schedule.name": {"step_lr": "step", "cosine_lr": "cosine", "warm_restarts": "warm_restarts",
                               "plateau_lr": "plateau"}[_name]})
_switch("grad_accumulation", {"train.accumulate_steps": 1}, {"train.accumulate_steps": 2})
_switch("grad_clipping", {"train.grad_clip": 0.0}, {"train.grad_clip": 1.0})
_switch("amp", {"train.amp": False}, {"train.amp": True})
_switch("early_stopping", {"train.early_stopping_patience": 0}, {"train.early_stopping_patience": 3})
_switch("label_smoothing", {"loss.label_smoothing": 0.0}, {"loss.label_smoothing": 0.1})
_switch("weight_decay", {"optim.weight_decay": 0.0}, {"optim.weight_decay": 5e-4})
_switch("dropout", {"model.dropout": 0.0, "model.multi_sample_dropout": 0}, {"model.dropout": 0.3})
_switch("multi_sample_dropout", {"model.multi_sample_dropout": 0},
        {"model.multi_sample_dropout": 5, "model.dropout": 0.3})
_switch("tta_flip", {"eval.tta": "none"}, {"eval.tta": "flip"})
_switch("tta_tencrop", {"eval.tta": "none"}, {"eval.tta": "tencrop"})
_switch("tta_hard_vote", {"eval.tta_vote": "soft"}, {"eval.tta_vote": "hard"})
