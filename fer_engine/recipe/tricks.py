"""The trick catalogue: every FER technique by name, and which are on for a config.

`TRICKS` lists each trick with its title, group, a short description, the config keys it
reads, `is_on(cfg)` and the tricks it conflicts with (`CONFLICTS`, warned about by
`checks.check_config`). `active_tricks(cfg)` is what a run records and the runs list shows.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..config import RunConfig
from ..models import BACKBONES
from ..registry import Registry
from .mixing import mix_is_on

GROUPS = ("data", "augment", "imbalance", "optimisation", "regularisation", "evaluation", "multi-run")


@dataclass(frozen=True)
class Trick:
    name: str
    title: str
    group: str
    description: str
    keys: tuple[str, ...]  # dotted config keys it reads
    is_on: Callable[[RunConfig], bool]
    conflicts: tuple[str, ...] = ()  # tricks that warn when combined with this one


# -- conflicts between two tricks that are both on ------------------------------------------
@dataclass(frozen=True)
class Conflict:
    a: str
    b: str
    key: str
    message: str


CONFLICTS = (
    Conflict("balanced_sampler", "class_weights", "loss.class_weights",
              "the balanced sampler already equalises classes, class weights correct a second time "
              "(rare classes end up over-weighted); set loss.class_weights='none' or sampler.balanced=false"),
    Conflict("balanced_sampler", "focal_alpha", "loss.focal_alpha",
              "the balanced sampler already equalises classes, a per-class focal alpha corrects a "
              "second time; clear loss.focal_alpha or set sampler.balanced=false"),
    Conflict("class_weights", "focal_alpha", "loss.focal_alpha",
              "class weights and focal alpha both re-weight classes and multiply; "
              "clear loss.focal_alpha or set loss.class_weights='none'"),
    Conflict("balanced_sampler", "prior_correction", "eval.prior_correction",
              "with the balanced sampler the model already learnt uniform class priors, so removing "
              "the training-set prior over-corrects toward rare classes; set eval.prior_correction='none'"),
    Conflict("class_weights", "prior_correction", "eval.prior_correction",
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
    return tuple(c.b if c.a == name else c.a for c in CONFLICTS if name in (c.a, c.b))


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
_trick("warm_restarts", "Cosine with warm restarts", "optimisation",
       ("schedule.t0", "schedule.t_mult", "schedule.min_lr"),
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
