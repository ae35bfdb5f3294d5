"""Typed run configuration: the single description of a run, shared by GUI and CLI.

A `RunConfig` is a tree of dataclasses saved as JSON with a schema version. Loading
checks every key and type (unknown keys and wrong types are errors that name the key),
migrates older schema versions and refuses newer ones. Nothing is ever executed.
"""
from __future__ import annotations

import dataclasses
import json
import math
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1


class ConfigError(ValueError):
    """A config that cannot be used; the message names the offending key."""


@dataclass
class DataConfig:
    path: str = "demo"  # dataset folder, FER2013 CSV, or "demo" for the built-in demo set
    image_size: int = 48  # faces are decoded to size x size and cached as uint8
    channels: int = 1  # 1 = grayscale, 3 = RGB
    val_fraction: float = 0.1  # used when a layout has no validation split
    test_fraction: float = 0.1  # one folder of class folders or a CSV without Usage: share held out as test
    split_seed: int = 0
    max_per_class: int = 0  # cap training images per class (0 = all); quick experiments
    train_fraction: float = 1.0  # stratified share of the training images kept (class ratios unchanged)
    drop_flagged: bool = False  # drop training images that leak into val/test, conflict in label or are near-blank
    cache_dir: str = ""  # "" = ~/.cache/fer-studio/datasets
    format: str = "auto"  # "auto" or a dataset format: ferplus, rafdb, affectnet, ckplus, jaffe, expw, folders, ...
    label_map: str = ""  # numbering of digit-named class folders: fer2013, rafdb, affectnet, ckplus, expw
    label_mode: str = "majority"  # faces with votes (FERPlus): "majority", "plurality", "probability" (soft targets)
    sequence_frames: int = 3  # CK+: the last k frames of a labelled sequence take its label
    sequence_first_neutral: bool = False  # CK+: the first frame of a labelled sequence as a neutral face
    subject_regex: str = ""  # subject id from each file name (group 1, else the match) where a format has none
    split_by: str = "auto"  # "auto" (per subject when subjects are known), "subject", "image"
    label_overrides: str = ""  # label-overrides JSON (relabel/exclude faces; the dataset is never modified)


@dataclass
class ModelConfig:
    backbone: str = "fer_cnn"
    pretrained: bool = False  # timm hub weights when they can be had (fails over cleanly offline)
    weights_path: str = ""  # local state dict (.pt/.pth/.safetensors) loaded instead of the hub
    input_size: int = 0  # 0 = the backbone's default; batches are resized on the device
    dropout: float = 0.0  # dropout before the classifier
    multi_sample_dropout: int = 0  # number of dropout samples averaged in the head (0/1 = off)


@dataclass
class NormalizeConfig:
    mode: str = "dataset"  # "dataset" (train mean/std), "fixed" (values below), "backbone"
    mean: list[float] = field(default_factory=lambda: [0.5])
    std: list[float] = field(default_factory=lambda: [0.25])


@dataclass
class AugmentConfig:
    hflip: float = 0.5  # probability
    rotation: float = 10.0  # max degrees
    translate: float = 0.1  # max fraction of the side
    scale: float = 0.1  # max relative zoom in/out (affine)
    random_resized_crop: float = 0.0  # min area fraction (0 = off)
    perspective: float = 0.0  # distortion strength 0..1 (0 = off)
    blur: float = 0.0  # probability of a Gaussian blur
    blur_sigma: float = 1.0
    noise: float = 0.0  # std of additive Gaussian noise in [0,1] units
    brightness: float = 0.2  # max relative change
    contrast: float = 0.2  # max relative change
    erasing: float = 0.0  # probability of random erasing


@dataclass
class MixConfig:
    mixup_alpha: float = 0.0  # 0 = off
    cutmix_alpha: float = 0.0  # 0 = off
    prob: float = 1.0  # probability that a batch is mixed
    switch_prob: float = 0.5  # when both are on, probability of cutmix


@dataclass
class LossConfig:
    name: str = "ce"  # "ce" or "focal"
    label_smoothing: float = 0.0
    focal_gamma: float = 2.0
    focal_alpha: list[float] = field(default_factory=list)  # per-class alpha (empty = none)
    class_weights: str = "none"  # "none", "inverse", "effective"
    effective_beta: float = 0.999


@dataclass
class SamplerConfig:
    balanced: bool = False  # class-balanced weighted sampling of training batches


@dataclass
class OptimConfig:
    name: str = "adamw"  # "sgd", "adam", "adamw"
    lr: float = 1e-3
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 1e-4
    betas: list[float] = field(default_factory=lambda: [0.9, 0.999])


@dataclass
class ScheduleConfig:
    name: str = "cosine"  # "constant", "step", "cosine", "warm_restarts", "plateau"
    warmup_epochs: float = 0.0  # linear warmup before the schedule
    warmup_start_factor: float = 0.1
    step_size: int = 10  # epochs, for "step"
    gamma: float = 0.1  # decay factor, for "step"
    t0: int = 10  # epochs of the first cycle, for "warm_restarts"
    t_mult: int = 1
    min_lr: float = 0.0
    plateau_patience: int = 3
    plateau_factor: float = 0.5


@dataclass
class TrainConfig:
    epochs: int = 10
    batch_size: int = 64
    accumulate_steps: int = 1  # gradient accumulation (effective batch = batch_size x steps)
    grad_clip: float = 0.0  # max gradient norm (0 = off)
    amp: bool = True  # bfloat16 autocast where GPU/CPU compute it natively, float16 on older GPUs, else float32
    channels_last: bool = True  # memory format of batches and conv weights
    compile: bool = False  # torch.compile the model
    monitor: str = "val_acc"  # "val_acc", "val_f1", "val_loss": picks the best checkpoint
    early_stopping_patience: int = 0  # epochs without improvement (0 = off)
    early_stopping_min_delta: float = 0.0
    seed: int = 0
    device: str = "auto"  # "auto", "cpu", "cuda", "cuda:1", ...
    max_steps_per_epoch: int = 0  # cap on batches per epoch (0 = all); smoke tests and previews
    devices: str = "1"  # processes on this node: "1", "4" (GPUs, or CPU gloo processes with device "cpu"), "cuda:0,2"
    nodes: int = 1  # machines taking part (multi-node: launch on each node with fer_engine.training.torchrun)
    sync_bn: bool = False  # SyncBatchNorm across processes (CUDA only)
    scale_lr: bool = False  # linear scaling rule: optim.lr is for one process's batch, x processes
    tensorboard: bool = True  # TensorBoard event files in <run>/tensorboard (when tensorboard is installed)


@dataclass
class EvalConfig:
    tta: str = "none"  # "none", "flip", "tencrop"
    tta_vote: str = "soft"  # "soft" (mean probabilities) or "hard" (majority vote)
    prior_correction: str = "none"  # "none" or "uniform": logit adjustment by train priors
    splits: list[str] = field(default_factory=lambda: ["val", "test"])  # saved after training


@dataclass
class KFoldConfig:
    k: int = 0  # 0 = off; otherwise stratified k-fold over train+val
    final_on_train_val: bool = False  # after the folds, train one model on train+val


@dataclass
class RunConfig:
    schema_version: int = SCHEMA_VERSION
    name: str = ""
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    normalize: NormalizeConfig = field(default_factory=NormalizeConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    mix: MixConfig = field(default_factory=MixConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    sampler: SamplerConfig = field(default_factory=SamplerConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    kfold: KFoldConfig = field(default_factory=KFoldConfig)

    # -- conversion -------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False)

    def save(self, path: str | Path) -> None:
        from .utils.atomic import atomic_write_text

        atomic_write_text(Path(path), self.to_json() + "\n")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RunConfig":
        if not isinstance(data, dict):
            raise ConfigError(f"a config must be a JSON object, got {type(data).__name__}")
        data = migrate(dict(data))
        return _build(cls, data, "")

    @classmethod
    def from_json(cls, text: str) -> "RunConfig":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise ConfigError(f"config is not valid JSON: {e}") from None
        return cls.from_dict(data)

    @classmethod
    def load(cls, path: str | Path) -> "RunConfig":
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(f"config file not found: {p}") from None
        except (OSError, UnicodeDecodeError) as e:
            raise ConfigError(f"cannot read config file {p}: {e}") from None
        try:
            return cls.from_json(text)
        except ConfigError as e:
            raise ConfigError(f"{p}: {e}") from None

    # -- editing ----------------------------------------------------------------
    def replace(self, **changes: Any) -> "RunConfig":
        """A copy with dotted keys changed, e.g. replace(**{"optim.lr": 0.1})."""
        d = self.to_dict()
        for key, value in changes.items():
            _set_dotted(d, key, value)
        return RunConfig.from_dict(d)

    def with_overrides(self, assignments: list[str]) -> "RunConfig":
        """Apply CLI-style `key=value` strings (value parsed as JSON, else as text)."""
        d = self.to_dict()
        for a in assignments:
            if "=" not in a:
                raise ConfigError(f"--set expects key=value, got {a!r}")
            key, raw = a.split("=", 1)
            try:
                value = json.loads(raw)
            except json.JSONDecodeError:
                value = raw
            _set_dotted(d, key.strip(), value)
        return RunConfig.from_dict(d)

    def get(self, dotted: str) -> Any:
        obj: Any = self
        for part in dotted.split("."):
            obj = getattr(obj, part)
        return obj


def field_paths(cls=RunConfig, prefix: str = "") -> list[tuple[str, Any, Any]]:
    """Every leaf as (dotted key, type, default): what a generated form shows."""
    out = []
    hints = typing.get_type_hints(cls)
    inst = cls()
    for f in dataclasses.fields(cls):
        if f.name == "schema_version":
            continue
        tp = hints[f.name]
        key = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(tp):
            out.extend(field_paths(tp, key + "."))
        else:
            out.append((key, tp, getattr(inst, f.name)))
    return out


# -- schema migration -------------------------------------------------------------
def migrate(data: dict[str, Any]) -> dict[str, Any]:
    """Bring an older config up to SCHEMA_VERSION; refuse a newer one."""
    version = data.get("schema_version", 0)
    if not isinstance(version, int) or isinstance(version, bool):
        raise ConfigError(f"schema_version must be an integer, got {version!r}")
    if version > SCHEMA_VERSION:
        raise ConfigError(
            f"this config has schema version {version}, newer than this fer-studio "
            f"understands ({SCHEMA_VERSION}); upgrade fer-studio to open it"
        )
    if version < 1:
        data = _migrate_0_to_1(data)
    data["schema_version"] = SCHEMA_VERSION
    return data


def _migrate_0_to_1(data: dict[str, Any]) -> dict[str, Any]:
    """Version 0 (unversioned) kept backbone, epochs, batch_size, lr at the top level."""
    top = {"backbone": ("model", "backbone"), "epochs": ("train", "epochs"),
           "batch_size": ("train", "batch_size"), "lr": ("optim", "lr"),
           "data_path": ("data", "path")}
    for old, (section, key) in top.items():
        if old in data:
            data.setdefault(section, {})
            if isinstance(data[section], dict):
                data[section].setdefault(key, data.pop(old))
    return data


# -- typed building -----------------------------------------------------------------
def _build(cls, data: dict[str, Any], where: str):
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        keys = ", ".join(f"{where}{k}" for k in unknown)
        raise ConfigError(f"unknown config key(s): {keys}")
    kwargs = {}
    for name, value in data.items():
        kwargs[name] = _coerce(hints[name], value, f"{where}{name}")
    return cls(**kwargs)


def _coerce(tp, value, key: str):
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(f"{key} must be an object, got {type(value).__name__}")
        return _build(tp, value, key + ".")
    origin = typing.get_origin(tp)
    if origin is list:
        (item_tp,) = typing.get_args(tp)
        if not isinstance(value, list):
            raise ConfigError(f"{key} must be a list, got {type(value).__name__}")
        return [_coerce(item_tp, v, f"{key}[{i}]") for i, v in enumerate(value)]
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key} must be true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                return int(value)
            raise ConfigError(f"{key} must be an integer, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{key} must be a number, got {value!r}")
        if not math.isfinite(value):  # JSON's Infinity/NaN: a run would diverge or never stop
            raise ConfigError(f"{key} must be a finite number, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{key} must be a string, got {value!r}")
        return value
    raise ConfigError(f"{key}: unsupported type {tp}")


def _set_dotted(d: dict[str, Any], key: str, value: Any) -> None:
    parts = key.split(".")
    node = d
    for p in parts[:-1]:
        if not isinstance(node.get(p), dict):
            raise ConfigError(f"unknown config key: {key}")
        node = node[p]
    if parts[-1] not in node:
        raise ConfigError(f"unknown config key: {key}")
    node[parts[-1]] = value
