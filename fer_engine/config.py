"""Typed run configuration: the single description of a run, shared by GUI and CLI.

A `RunConfig` is a tree of dataclasses saved as JSON with a schema version. Loading
checks every key and type (unknown keys and wrong types are errors that name the key),
migrates older schema versions and refuses newer ones. Nothing is ever executed.

Each field is declared once with `fld` (help text, range or rule, registry) and a `Literal`
type where the values are a fixed set; `fields()` reads the declarations back, and
validation (`value_problem`, `check_value`, `recipe.checks`) and the GUI form derive from it.
"""
from __future__ import annotations

import dataclasses
import functools
import json
import math
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .config_fields import (MAX_BATCH, MAX_BUDGET_MIN, MAX_COUNT, MAX_EPOCHS, MAX_IMAGE_SIZE, MAX_SEED, ConfigError,
                            FieldInfo, fld, leaves)

SCHEMA_VERSION = 1


_PROB: dict[str, Any] = {"min": 0, "max": 1}  # a probability
_FRACTION: dict[str, Any] = {"min": 0, "max": 1, "hi_open": True}  # [0, 1)


@dataclass
class DataConfig:
    path: str = fld("demo", "dataset folder, FER2013 CSV, or \"demo\" for the built-in demo set")
    image_size: int = fld(48, "faces are decoded to size x size and cached as uint8", min=8, max=MAX_IMAGE_SIZE)
    channels: Literal[1, 3] = fld(1, "1 = grayscale, 3 = RGB")
    val_fraction: float = fld(0.1, "used when a layout has no validation split", **_FRACTION)
    test_fraction: float = fld(0.1, "one folder of class folders or a CSV without Usage: share held out as test",
                               **_FRACTION)
    split_seed: int = fld(0, min=0, max=MAX_SEED)
    max_per_class: int = fld(0, "cap training images per class (0 = all); quick experiments", min=0, max=MAX_COUNT)
    train_fraction: float = fld(1.0, "stratified share of the training images kept (class ratios unchanged)",
                                min=0, max=1, lo_open=True)
    drop_flagged: bool = fld(False, "drop training images that leak into val/test, conflict in label or are near-blank")
    cache_dir: str = fld("", "\"\" = ~/.cache/fer-studio/datasets")
    format: str = fld("auto", "\"auto\" or a dataset format: ferplus, rafdb, affectnet, ckplus, jaffe, expw, "
                      "folders, ...",
                      registry="fer_engine.data.formats:FORMATS")
    label_map: str = fld("", "numbering of digit-named class folders: fer2013, rafdb, affectnet, ckplus, expw",
                         registry="fer_engine.data.label_maps:LABEL_MAPS")
    label_mode: Literal["majority", "plurality", "probability"] = fld(
        "majority", "faces with votes (FERPlus): \"majority\", \"plurality\", \"probability\" (soft targets)")
    sequence_frames: int = fld(3, "CK+: the last k frames of a labelled sequence take its label")
    sequence_first_neutral: bool = fld(False, "CK+: the first frame of a labelled sequence as a neutral face")
    subject_regex: str = fld("", "subject id from each file name (group 1, else the match) where a format has none")
    split_by: Literal["auto", "subject", "image"] = fld(
        "auto", "\"auto\" (per subject when subjects are known), \"subject\", \"image\"")
    label_overrides: str = fld("", "label-overrides JSON (relabel/exclude faces; the dataset is never modified)")


@dataclass
class ModelConfig:
    backbone: str = fld("fer_cnn", registry="fer_engine.models:BACKBONES")
    pretrained: bool = fld(False, "timm hub weights when they can be had (fails over cleanly offline)")
    weights_path: str = fld("", "local state dict (.pt/.pth/.safetensors) loaded instead of the hub")
    input_size: int = fld(0, "0 = the backbone's default; batches are resized on the device",
                          rule=(lambda v: v == 0 or 8 <= v <= MAX_IMAGE_SIZE,
                                f"must be 0 (backbone default) or in [8, {MAX_IMAGE_SIZE}]"))
    dropout: float = fld(0.0, "dropout before the classifier", **_FRACTION)
    multi_sample_dropout: int = fld(0, "number of dropout samples averaged in the head (0/1 = off)", min=0, max=64)


@dataclass
class NormalizeConfig:
    mode: Literal["dataset", "fixed", "backbone"] = fld(
        "dataset", "\"dataset\" (train mean/std), \"fixed\" (values below), \"backbone\"")
    mean: list[float] = fld([0.5])
    std: list[float] = fld([0.25], rule=(lambda v: len(v) > 0 and min(v) > 0, "must be non-empty and every value > 0"))


@dataclass
class AugmentConfig:
    hflip: float = fld(0.5, "probability", **_PROB)
    rotation: float = fld(10.0, "max degrees", min=0, max=180)
    translate: float = fld(0.1, "max fraction of the side", min=0, max=0.5)
    scale: float = fld(0.1, "max relative zoom in/out (affine)", **_FRACTION)
    random_resized_crop: float = fld(0.0, "min area fraction (0 = off)", **_PROB)
    perspective: float = fld(0.0, "distortion strength 0..1 (0 = off)", **_FRACTION)
    blur: float = fld(0.0, "probability of a Gaussian blur", **_PROB)
    blur_sigma: float = fld(1.0, min=0, max=50, lo_open=True)
    noise: float = fld(0.0, "std of additive Gaussian noise in [0,1] units", min=0, max=1)
    brightness: float = fld(0.2, "max relative change", **_PROB)
    contrast: float = fld(0.2, "max relative change", **_PROB)
    erasing: float = fld(0.0, "probability of random erasing", **_PROB)


@dataclass
class MixConfig:
    mixup_alpha: float = fld(0.0, "0 = off", min=0, max=100)
    cutmix_alpha: float = fld(0.0, "0 = off", min=0, max=100)
    prob: float = fld(1.0, "probability that a batch is mixed", **_PROB)
    switch_prob: float = fld(0.5, "when both are on, probability of cutmix", **_PROB)


@dataclass
class LossConfig:
    name: Literal["ce", "focal"] = fld("ce", "\"ce\" or \"focal\"")
    label_smoothing: float = fld(0.0, **_FRACTION)
    focal_gamma: float = fld(2.0, min=0, max=100)
    focal_alpha: list[float] = fld([], "per-class alpha (empty = none)",
                                   rule=(lambda v: all(a >= 0 for a in v), "values must be >= 0"))
    class_weights: Literal["none", "inverse", "effective"] = fld("none", "\"none\", \"inverse\", \"effective\"")
    effective_beta: float = fld(0.999, **_FRACTION)


@dataclass
class SamplerConfig:
    balanced: bool = fld(False, "class-balanced weighted sampling of training batches")


@dataclass
class OptimConfig:
    name: Literal["sgd", "adam", "adamw"] = fld("adamw", "\"sgd\", \"adam\", \"adamw\"")
    lr: float = fld(1e-3, min=0, max=10, lo_open=True)
    momentum: float = fld(0.9, **_FRACTION)
    nesterov: bool = fld(True)
    weight_decay: float = fld(1e-4, min=0, max=10)
    betas: list[float] = fld([0.9, 0.999], rule=(lambda v: len(v) == 2 and all(0 <= b < 1 for b in v),
                                                 "must be two values in [0, 1)"))


@dataclass
class ScheduleConfig:
    name: Literal["constant", "step", "cosine", "warm_restarts", "plateau"] = fld(
        "cosine", "\"constant\", \"step\", \"cosine\", \"warm_restarts\", \"plateau\"")
    warmup_epochs: float = fld(0.0, "linear warmup before the schedule", min=0, max=MAX_EPOCHS)
    warmup_start_factor: float = fld(0.1, min=0, max=1, lo_open=True)
    step_size: int = fld(10, "epochs, for \"step\"", min=1, max=MAX_EPOCHS)
    gamma: float = fld(0.1, "decay factor, for \"step\"", min=0, max=1, lo_open=True)
    t0: int = fld(10, "epochs of the first cycle, for \"warm_restarts\"", min=1, max=MAX_EPOCHS)
    t_mult: int = fld(1, min=1, max=100)
    min_lr: float = fld(0.0, min=0)
    plateau_patience: int = fld(3, min=0, max=MAX_EPOCHS)
    plateau_factor: float = fld(0.5, min=0, max=1, lo_open=True, hi_open=True)


@dataclass
class TrainConfig:
    epochs: int = fld(10, "epochs; with a time budget, the most it may plan", min=1, max=MAX_EPOCHS)
    time_budget_min: float = fld(0.0, "train within this many minutes (0 = off): the run times its first "
                                 "steps, then plans its epochs and a warmup + cosine LR to end on time, "
                                 "evaluation included", min=0, max=MAX_BUDGET_MIN)
    batch_size: int = fld(64, min=1, max=MAX_BATCH)
    accumulate_steps: int = fld(1, "gradient accumulation (effective batch = batch_size x steps)", min=1, max=1024)
    grad_clip: float = fld(0.0, "max gradient norm (0 = off)", min=0, max=1e6)
    amp: bool = fld(True, "bfloat16 autocast where GPU/CPU compute it natively, float16 on older GPUs, else float32")
    channels_last: bool = fld(True, "memory format of batches and conv weights")
    compile: bool = fld(False, "torch.compile the model")
    monitor: Literal["val_acc", "val_f1", "val_loss"] = fld(
        "val_acc", "\"val_acc\", \"val_f1\", \"val_loss\": picks the best checkpoint")
    early_stopping_patience: int = fld(0, "epochs without improvement (0 = off)", min=0, max=MAX_EPOCHS)
    early_stopping_min_delta: float = fld(0.0, min=0)
    seed: int = fld(0, min=0, max=MAX_SEED)
    device: str = fld("auto", "\"auto\", \"cpu\", \"cuda\", \"cuda:1\", ...",
                      rule=(lambda v: re.fullmatch(r"auto|cpu|mps|cuda(:\d+)?", v) is not None,
                            "must be auto, cpu, mps, cuda or cuda:N"))
    max_steps_per_epoch: int = fld(0, "cap on batches per epoch (0 = all); smoke tests and previews",
                                   min=0, max=MAX_COUNT)
    devices: str = fld("1", "processes on this node: \"1\", \"4\" (GPUs, or CPU gloo processes with device "
                       "\"cpu\"), \"cuda:0,2\"")
    nodes: int = fld(1, "machines taking part (multi-node: launch on each node with fer_engine.training.torchrun)")
    sync_bn: bool = fld(False, "SyncBatchNorm across processes (CUDA only)")
    scale_lr: bool = fld(False, "linear scaling rule: optim.lr is for one process's batch, x processes")
    tensorboard: bool = fld(True, "TensorBoard event files in <run>/tensorboard (when tensorboard is installed)")


@dataclass
class EvalConfig:
    tta: Literal["none", "flip", "tencrop"] = fld("none", "\"none\", \"flip\", \"tencrop\"")
    tta_vote: Literal["soft", "hard"] = fld("soft", "\"soft\" (mean probabilities) or \"hard\" (majority vote)")
    prior_correction: Literal["none", "uniform"] = fld(
        "none", "\"none\" or \"uniform\": logit adjustment by train priors")
    splits: list[Literal["train", "val", "test"]] = fld(["val", "test"], "saved after training")


@dataclass
class KFoldConfig:
    k: int = fld(0, "0 = off; otherwise stratified k-fold over train+val",
                 rule=(lambda v: v == 0 or 2 <= v <= 100, "must be 0 (off) or in [2, 100]"))
    final_on_train_val: bool = fld(False, "after the folds, train one model on train+val")


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
    return [(info.key, info.type, info.default) for info in leaves(cls, prefix)]


@functools.lru_cache(maxsize=1)
def fields() -> dict[str, FieldInfo]:
    """Every leaf of RunConfig by dotted key."""
    return {info.key: info for info in leaves(RunConfig, "")}


def value_problem(key: str, value: Any) -> str | None:
    """What is wrong with `value` for `key` ("must be ..., got ..."), or None when it is allowed."""
    rule = fields()[key].rule
    if rule is None:
        return None
    ok, allowed = rule
    try:
        good = ok(value)
    except TypeError:  # a config built in code with a wrong type
        good = False
    return None if good else f"{allowed}, got {value!r}"


def check_value(key: str, value: Any) -> None:
    """Raise ConfigError("<key> must be ..., got ...") unless `value` is allowed for `key`."""
    problem = value_problem(key, value)
    if problem:
        raise ConfigError(f"{key} {problem}")


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
    if origin is Literal:  # the type is checked on loading; the value by check_config
        return _coerce(type(typing.get_args(tp)[0]), value, key)
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
