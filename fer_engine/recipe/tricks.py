"""The tricks registry: every FER technique by name, which are on for a config, and config checks.

`TRICKS` lists each trick with its title, group, a short description, the config keys it
reads, `is_on(cfg)` and the tricks it conflicts with. `active_tricks(cfg)` is what a run
records and the runs list shows. `check_config(cfg)` returns every range error and conflict
as a `Problem` whose message says what to change; `raise_on_errors` turns errors into a
`ConfigError`.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Callable

from ..config import ConfigError, RunConfig, field_paths
from ..models import BACKBONES
from ..registry import Registry
from .mixing import mix_is_on
from .schedule import SCHEDULES
from .tta import TTA_MODES, TTA_VOTES

GROUPS = ("data", "augment", "imbalance", "optimisation", "regularisation", "evaluation", "multi-run")
OPTIMIZERS = ("sgd", "adam", "adamw")
LOSSES = ("ce", "focal")
CLASS_WEIGHTS = ("none", "inverse", "effective")
NORMALIZE_MODES = ("dataset", "fixed", "backbone")
PRIOR_CORRECTIONS = ("none", "uniform")
MONITORS = ("val_acc", "val_f1", "val_loss")
SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class Trick:
    name: str
    title: str
    group: str
    description: str
    keys: tuple[str, ...]  # dotted config keys it reads
    is_on: Callable[[RunConfig], bool]
    conflicts: tuple[str, ...] = ()  # tricks that warn when combined with this one


@dataclass(frozen=True)
class Problem:
    key: str
    message: str
    severity: str  # "error" | "warning"

    def __str__(self) -> str:
        return f"{self.severity}: {self.key}: {self.message}"


# -- conflicts between two tricks that are both on ------------------------------------------
@dataclass(frozen=True)
class _Conflict:
    a: str
    b: str
    key: str
    message: str


_CONFLICTS = (
    _Conflict("balanced_sampler", "class_weights", "loss.class_weights",
              "the balanced sampler already equalises classes, class weights correct a second time "
              "(rare classes end up over-weighted); set loss.class_weights='none' or sampler.balanced=false"),
    _Conflict("balanced_sampler", "focal_alpha", "loss.focal_alpha",
              "the balanced sampler already equalises classes, a per-class focal alpha corrects a "
              "second time; clear loss.focal_alpha or set sampler.balanced=false"),
    _Conflict("class_weights", "focal_alpha", "loss.focal_alpha",
              "class weights and focal alpha both re-weight classes and multiply; "
              "clear loss.focal_alpha or set loss.class_weights='none'"),
    _Conflict("balanced_sampler", "prior_correction", "eval.prior_correction",
              "with the balanced sampler the model already learnt uniform class priors, so removing "
              "the training-set prior over-corrects toward rare classes; set eval.prior_correction='none'"),
    _Conflict("class_weights", "prior_correction", "eval.prior_correction",
              "class-weighted training already shifts predictions toward rare classes; prior "
              "correction shifts them again; set eval.prior_correction='none' or loss.class_weights='none'"),
)


def input_size(cfg: RunConfig) -> int:
    """The size batches are resized to: model.input_size, else the backbone's default."""
    if cfg.model.input_size:
        return cfg.model.input_size
    if cfg.model.backbone in BACKBONES:
        return BACKBONES.get(cfg.model.backbone).default_input_size
    return cfg.data.image_size


def _conflicts_of(name: str) -> tuple[str, ...]:
    return tuple(c.b if c.a == name else c.a for c in _CONFLICTS if name in (c.a, c.b))


TRICKS: Registry[Trick] = Registry("trick")


def _trick(name: str, title: str, group: str, keys: tuple[str, ...],
           is_on: Callable[[RunConfig], bool], description: str) -> None:
    assert group in GROUPS, group
    TRICKS.register(name, Trick(name, title, group, description, keys, is_on, _conflicts_of(name)))


def _aug(name: str, title: str, key: str, description: str) -> None:
    _trick(name, title, "augment", (f"augment.{key}",), lambda c: getattr(c.augment, key) > 0, description)


# data
_trick("dataset_normalization", "Training-set normalisation", "data", ("normalize.mode",),
       lambda c: c.normalize.mode == "dataset",
       "Standardise inputs with the training set's own per-channel mean/std; the usual choice "
       "when training from scratch on grayscale FER.")
_trick("backbone_normalization", "Backbone (ImageNet) normalisation", "data", ("normalize.mode",),
       lambda c: c.normalize.mode == "backbone",
       "Use the pretrained backbone's mean/std (averaged to one channel for grayscale) so fine-tuned "
       "ImageNet weights see the input statistics they were trained on.")
_trick("upscale", "Upscaled input", "data", ("model.input_size", "model.backbone", "data.image_size"),
       lambda c: input_size(c) > c.data.image_size,
       "Resize the 48x48 faces on the device to a larger input (e.g. 224) so ImageNet-style "
       "backbones keep enough spatial resolution in their deep layers.")
# augmentation
_aug("hflip", "Horizontal flip", "hflip",
     "Mirror faces left-right; expressions are near-symmetric, so this doubles the data for free.")
_aug("rotation", "Rotation", "rotation",
     "Rotate by a random angle up to the given degrees, for head roll that face alignment missed.")
_aug("translate", "Translation", "translate",
     "Shift by up to a fraction of the side, for imprecise face crops.")
_aug("scale", "Scale (zoom)", "scale", "Zoom in or out by up to the given fraction, for varying face sizes.")
_aug("random_resized_crop", "Random resized crop", "random_resized_crop",
     "Crop a random region (at least the given area fraction, aspect 3/4-4/3) and resize it back; "
     "strong positional augmentation popular in FER2013 competition recipes.")
_aug("perspective", "Perspective", "perspective",
     "Random projective distortion (corners moved inwards), imitating head yaw/pitch.")
_aug("blur", "Gaussian blur", "blur", "Blur a fraction of faces, for low-resolution and out-of-focus webcams.")
_aug("noise", "Gaussian noise", "noise", "Add pixel noise of the given std, for sensor noise and robustness.")
_aug("brightness", "Brightness jitter", "brightness", "Scale brightness randomly, for lighting changes.")
_aug("contrast", "Contrast jitter", "contrast", "Scale contrast around each face's mean, for lighting changes.")
_aug("erasing", "Random erasing", "erasing",
     "Black out a random rectangle, simulating occlusion (hands, glasses) and forcing the model to "
     "use more than one facial region.")
_trick("mixup", "Mixup", "augment", ("mix.mixup_alpha", "mix.prob", "mix.switch_prob"),
       lambda c: mix_is_on(c.mix) and c.mix.mixup_alpha > 0,
       "Blend pairs of faces and their labels with a Beta(alpha, alpha) weight; regularises and "
       "calibrates models on noisy FER labels.")
_trick("cutmix", "CutMix", "augment", ("mix.cutmix_alpha", "mix.prob", "mix.switch_prob"),
       lambda c: mix_is_on(c.mix) and c.mix.cutmix_alpha > 0,
       "Paste a rectangle from another face and mix labels by the pasted area.")
# imbalance
_trick("balanced_sampler", "Class-balanced sampling", "imbalance", ("sampler.balanced",),
       lambda c: c.sampler.balanced,
       "Draw training samples with probability inverse to class frequency so batches are near "
       "uniform; the standard fix for FER2013's rare disgust class.")
_trick("class_weights", "Class-weighted loss", "imbalance", ("loss.class_weights", "loss.effective_beta"),
       lambda c: c.loss.class_weights != "none",
       "Weight the loss per class by inverse frequency or by the effective number of samples "
       "(Cui et al. 2019).")
_trick("focal_loss", "Focal loss", "imbalance", ("loss.name", "loss.focal_gamma"),
       lambda c: c.loss.name == "focal",
       "Down-weight easy examples by (1 - p)^gamma so training focuses on hard, often rare-class faces.")
_trick("focal_alpha", "Focal alpha", "imbalance", ("loss.focal_alpha",),
       lambda c: c.loss.name == "focal" and bool(c.loss.focal_alpha),
       "Per-class alpha factors in the focal loss.")
_trick("prior_correction", "Prior correction", "imbalance", ("eval.prior_correction",),
       lambda c: c.eval.prior_correction != "none",
       "At prediction time, subtract the log training-class priors from the logits (logit adjustment), "
       "reported beside the plain argmax; helps rare classes without retraining.")
# optimisation
_trick("nesterov", "SGD Nesterov momentum", "optimisation", ("optim.name", "optim.momentum", "optim.nesterov"),
       lambda c: c.optim.name == "sgd" and c.optim.nesterov and c.optim.momentum > 0,
       "SGD with Nesterov momentum, the optimiser behind many of the strongest published FER2013 "
       "CNN results.")
_trick("warmup", "Linear warmup", "optimisation", ("schedule.warmup_epochs", "schedule.warmup_start_factor"),
       lambda c: c.schedule.warmup_epochs > 0,
       "Ramp the learning rate up linearly at the start; stabilises large learning rates and fine-tuning.")
_trick("step_lr", "Step decay", "optimisation", ("schedule.step_size", "schedule.gamma"),
       lambda c: c.schedule.name == "step", "Multiply the learning rate by gamma every step_size epochs.")
_trick("cosine_lr", "Cosine annealing", "optimisation", ("schedule.min_lr",),
       lambda c: c.schedule.name == "cosine", "Decay the learning rate along a half cosine to min_lr.")
_trick("warm_restarts", "Cosine with warm restarts", "optimisation", ("schedule.t0", "schedule.t_mult", "schedule.min_lr"),
       lambda c: c.schedule.name == "warm_restarts",
       "SGDR: cosine cycles of t0, t0*t_mult, ... epochs, each restarting at the base learning rate.")
_trick("plateau_lr", "Reduce on plateau", "optimisation",
       ("schedule.plateau_patience", "schedule.plateau_factor", "train.monitor"),
       lambda c: c.schedule.name == "plateau",
       "Multiply the learning rate by a factor when the monitored metric stops improving.")
_trick("grad_accumulation", "Gradient accumulation", "optimisation", ("train.accumulate_steps",),
       lambda c: c.train.accumulate_steps > 1,
       "Sum gradients over several batches before a step: effective batch = batch x steps on small GPUs.")
_trick("grad_clipping", "Gradient clipping", "optimisation", ("train.grad_clip",),
       lambda c: c.train.grad_clip > 0, "Clip the global gradient norm to avoid loss spikes.")
_trick("amp", "Mixed precision", "optimisation", ("train.amp",), lambda c: c.train.amp,
       "bfloat16 autocast on GPUs with bf16 tensor cores (Ampere and newer) and on CPUs with native "
       "bf16 (AVX512-BF16/AMX, about 2x faster there); float16 with loss scaling on older GPUs; "
       "float32 elsewhere.")
_trick("early_stopping", "Early stopping", "optimisation",
       ("train.early_stopping_patience", "train.early_stopping_min_delta", "train.monitor"),
       lambda c: c.train.early_stopping_patience > 0,
       "Stop when the monitored metric has not improved for `patience` epochs; the best checkpoint is kept.")
# regularisation
_trick("label_smoothing", "Label smoothing", "regularisation", ("loss.label_smoothing",),
       lambda c: c.loss.label_smoothing > 0,
       "Soften one-hot targets; counters over-confidence on FER's ambiguous and mislabelled faces.")
_trick("weight_decay", "Weight decay", "regularisation", ("optim.weight_decay",),
       lambda c: c.optim.weight_decay > 0, "L2 / decoupled weight decay on weights (not biases or norm layers).")
_trick("dropout", "Dropout", "regularisation", ("model.dropout",), lambda c: c.model.dropout > 0,
       "Randomly zero the pooled features before the classifier during training; the usual "
       "regulariser of FER heads (rates 0.2-0.5).")
_trick("multi_sample_dropout", "Multi-sample dropout", "regularisation",
       ("model.multi_sample_dropout", "model.dropout"), lambda c: c.model.multi_sample_dropout > 1,
       "Average the head over several dropout masks per step (Inoue 2019): faster, steadier training.")
# evaluation
_trick("tta_flip", "Flip TTA", "evaluation", ("eval.tta",), lambda c: c.eval.tta == "flip",
       "Average predictions over the face and its mirror at test time.")
_trick("tta_tencrop", "Ten-crop TTA", "evaluation", ("eval.tta",), lambda c: c.eval.tta == "tencrop",
       "Average over 4 corner + centre crops and their mirrors: the FER2013 standard test protocol.")
_trick("tta_hard_vote", "Hard-vote TTA", "evaluation", ("eval.tta_vote",),
       lambda c: c.eval.tta != "none" and c.eval.tta_vote == "hard",
       "Combine TTA views by majority vote instead of mean probability.")
# multi-run
_trick("kfold", "Stratified k-fold", "multi-run", ("kfold.k",), lambda c: c.kfold.k >= 2,
       "One run per stratified fold of train+val, reported as mean and spread of each metric.")
_trick("final_on_train_val", "Final model on train+val", "multi-run", ("kfold.final_on_train_val",),
       lambda c: c.kfold.k >= 2 and c.kfold.final_on_train_val,
       "After the folds, train one model on all of train+val for deployment.")


def active_tricks(cfg: RunConfig) -> list[str]:
    """Names of the tricks a config turns on, in registry order."""
    return [name for name, t in TRICKS.items() if t.is_on(cfg)]


# -- value checks ---------------------------------------------------------------------------------
def _in(lo: float, hi: float, lo_open: bool = False, hi_open: bool = False) -> tuple[Callable[[Any], bool], str]:
    ok = (lambda v: (v > lo if lo_open else v >= lo) and (v < hi if hi_open else v <= hi))
    return ok, f"must be in {'(' if lo_open else '['}{lo}, {hi}{')' if hi_open else ']'}"


def _at_least(lo: float, strict: bool = False) -> tuple[Callable[[Any], bool], str]:
    return (lambda v: v > lo if strict else v >= lo), f"must be {'>' if strict else '>='} {lo}"


def _one_of(options: tuple) -> tuple[Callable[[Any], bool], str]:
    return (lambda v: v in options), f"must be one of {', '.join(map(str, options))}"


_PROBABILITY = _in(0, 1)
# upper bounds: beyond them a run cannot fit in memory or finish, or a seed overflows numpy
MAX_IMAGE_SIZE = 1024
MAX_EPOCHS = 100_000
MAX_BATCH = 65_536
MAX_COUNT = 100_000_000
MAX_SEED = 2 ** 32 - 1
_RANGES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "data.image_size": _in(8, MAX_IMAGE_SIZE),
    "data.channels": _one_of((1, 3)),
    "data.val_fraction": _in(0, 1, hi_open=True),
    "data.test_fraction": _in(0, 1, hi_open=True),
    "data.max_per_class": _in(0, MAX_COUNT),
    "data.split_seed": _in(0, MAX_SEED),
    "data.train_fraction": _in(0, 1, lo_open=True),
    "model.input_size": ((lambda v: v == 0 or 8 <= v <= MAX_IMAGE_SIZE),
                          f"must be 0 (backbone default) or in [8, {MAX_IMAGE_SIZE}]"),
    "model.dropout": _in(0, 1, hi_open=True),
    "model.multi_sample_dropout": _in(0, 64),
    "normalize.mode": _one_of(NORMALIZE_MODES),
    "normalize.std": ((lambda v: len(v) > 0 and min(v) > 0), "must be non-empty and every value > 0"),
    "augment.hflip": _PROBABILITY,
    "augment.rotation": _in(0, 180),
    "augment.translate": _in(0, 0.5),
    "augment.scale": _in(0, 1, hi_open=True),
    "augment.random_resized_crop": _PROBABILITY,
    "augment.perspective": _in(0, 1, hi_open=True),
    "augment.blur": _PROBABILITY,
    "augment.blur_sigma": _in(0, 50, lo_open=True),
    "augment.noise": _in(0, 1),
    "augment.brightness": _PROBABILITY,
    "augment.contrast": _PROBABILITY,
    "augment.erasing": _PROBABILITY,
    "mix.mixup_alpha": _in(0, 100),
    "mix.cutmix_alpha": _in(0, 100),
    "mix.prob": _PROBABILITY,
    "mix.switch_prob": _PROBABILITY,
    "loss.name": _one_of(LOSSES),
    "loss.label_smoothing": _in(0, 1, hi_open=True),
    "loss.focal_gamma": _in(0, 100),
    "loss.focal_alpha": ((lambda v: all(a >= 0 for a in v)), "values must be >= 0"),
    "loss.class_weights": _one_of(CLASS_WEIGHTS),
    "loss.effective_beta": _in(0, 1, hi_open=True),
    "optim.name": _one_of(OPTIMIZERS),
    "optim.lr": _in(0, 10, lo_open=True),
    "optim.momentum": _in(0, 1, hi_open=True),
    "optim.weight_decay": _in(0, 10),
    "optim.betas": ((lambda v: len(v) == 2 and all(0 <= b < 1 for b in v)), "must be two values in [0, 1)"),
    "schedule.name": _one_of(SCHEDULES),
    "schedule.warmup_epochs": _in(0, MAX_EPOCHS),
    "schedule.warmup_start_factor": _in(0, 1, lo_open=True),
    "schedule.step_size": _in(1, MAX_EPOCHS),
    "schedule.gamma": _in(0, 1, lo_open=True),
    "schedule.t0": _in(1, MAX_EPOCHS),
    "schedule.t_mult": _in(1, 100),
    "schedule.min_lr": _at_least(0),
    "schedule.plateau_patience": _in(0, MAX_EPOCHS),
    "schedule.plateau_factor": _in(0, 1, lo_open=True, hi_open=True),
    "train.epochs": _in(1, MAX_EPOCHS),
    "train.batch_size": _in(1, MAX_BATCH),
    "train.accumulate_steps": _in(1, 1024),
    "train.grad_clip": _in(0, 1e6),
    "train.monitor": _one_of(MONITORS),
    "train.early_stopping_patience": _in(0, MAX_EPOCHS),
    "train.early_stopping_min_delta": _at_least(0),
    "train.device": ((lambda v: re.fullmatch(r"auto|cpu|mps|cuda(:\d+)?", v) is not None),
                     "must be auto, cpu, mps, cuda or cuda:N"),
    "train.max_steps_per_epoch": _in(0, MAX_COUNT),
    "train.seed": _in(0, MAX_SEED),
    "eval.tta": _one_of(TTA_MODES),
    "eval.tta_vote": _one_of(TTA_VOTES),
    "eval.prior_correction": _one_of(PRIOR_CORRECTIONS),
    "eval.splits": ((lambda v: set(v) <= set(SPLITS)), f"must only name {', '.join(SPLITS)}"),
    "kfold.k": ((lambda v: v == 0 or 2 <= v <= 100), "must be 0 (off) or in [2, 100]"),
}


def _non_finite(value: Any) -> bool:
    return any(isinstance(v, float) and not math.isfinite(v) for v in (value if isinstance(value, list) else [value]))


def _value_problems(cfg: RunConfig) -> list[Problem]:
    # loading already refuses inf/nan; a config built in code is checked here
    out = [Problem(key, f"must be a finite number, got {cfg.get(key)!r}", "error")
           for key, _, _ in field_paths() if _non_finite(cfg.get(key))]
    for key, (ok, rule) in _RANGES.items():
        if any(p.key == key for p in out):
            continue
        value = cfg.get(key)
        try:
            good = ok(value)
        except TypeError:  # a config built in code with a wrong type
            good = False
        if not good:
            out.append(Problem(key, f"{rule}, got {value!r}", "error"))
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
    if c.eval.tta == "tencrop" and c.data.image_size < 24:
        add("eval.tta", "warning", f"ten-crop on {c.data.image_size}px images shifts crops by about "
            "one pixel, giving near-identical views; use eval.tta='flip'")
    return out


def _pair_problems(cfg: RunConfig) -> list[Problem]:
    on = set(active_tricks(cfg))
    return [Problem(c.key, c.message, "warning") for c in _CONFLICTS if c.a in on and c.b in on]


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
    from ..training.distributed import device_problems

    return [Problem(key, message, "error") for key, message in device_problems(cfg)]


def raise_on_errors(cfg: RunConfig) -> list[Problem]:
    """Raise ConfigError listing every error; otherwise return the warnings."""
    problems = check_config(cfg)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        lines = "\n".join(f"  {p.key}: {p.message}" for p in errors)
        raise ConfigError(f"config has {len(errors)} error(s):\n{lines}")
    return problems
