"""`create_model`: a FerModel from the run's model config, with weights when asked."""
from __future__ import annotations

import logging

from ..config import ConfigError, ModelConfig, check_value
from .backbones import BACKBONES
from .fer_model import FerModel
from .pretrained import PretrainedUnavailable, hub_weights_file
from .weights import load_weights_into

log = logging.getLogger(__name__)


def create_model(cfg: ModelConfig, num_classes: int, in_chans: int) -> FerModel:
    """Build `cfg.backbone` for `num_classes` and `in_chans` (1 or 3) at the resolved input size.

    `pretrained=True` fetches timm hub weights (HF cache first, bounded download); when they
    cannot be had the model starts from random init and `model.notes` says why and how to fix
    it. `weights_path` loads a local state dict instead (see `weights.load_weights_into`).
    """
    spec = BACKBONES.get(cfg.backbone)
    if in_chans not in (1, 3):
        raise ConfigError(f"in_chans must be 1 (grayscale) or 3 (RGB), got {in_chans}")
    if num_classes < 1:
        raise ConfigError(f"num_classes must be at least 1, got {num_classes}")
    check_value("model.input_size", cfg.input_size)
    size = cfg.input_size or spec.default_input_size
    notes: list[str] = []
    weights_file = _pretrained_file(cfg, spec, notes)
    try:
        backbone = spec.build(in_chans, size, weights_file)
    except Exception as e:
        if weights_file is None:
            raise ConfigError(f"cannot build backbone {spec.name} at input size {size} "
                              f"with {in_chans} channel(s): {e}") from e
        notes.append(f"hub weights {weights_file} failed to load ({type(e).__name__}: {e}); "
                     "starting from random initialisation")
        backbone = spec.build(in_chans, size, None)
    else:
        if weights_file is not None:
            notes.append(f"pretrained {spec.timm_name} weights loaded from {weights_file}"
                         + (" (body only; the 48x48 stem starts random)" if spec.name == "resnet18_48" else ""))
    model = FerModel(spec, backbone, num_classes=num_classes, in_chans=in_chans, input_size=size,
                     dropout=cfg.dropout, multi_sample_dropout=cfg.multi_sample_dropout, notes=notes)
    if cfg.weights_path:
        report = load_weights_into(model, cfg.weights_path, _classifier_prefixes(spec))
        model.notes.extend(report.lines())
    for note in model.notes:
        log.warning("%s: %s", spec.name, note)
    return model


def _pretrained_file(cfg: ModelConfig, spec, notes: list[str]) -> str | None:
    if not cfg.pretrained:
        return None
    if cfg.weights_path:
        notes.append("model.weights_path is set: hub weights not fetched, the local file is used")
        return None
    if not spec.supports_pretrained:
        notes.append(f"{spec.name} has no pretrained weights (it is trained from scratch); "
                     "starting from random initialisation")
        return None
    try:
        return hub_weights_file(spec.timm_name)
    except PretrainedUnavailable as e:
        notes.append(
            f"pretrained weights for {spec.name} (timm {spec.timm_name}) are not available: {e}. "
            "Starting from random initialisation. To fix: give model.weights_path (a local "
            ".safetensors/.pth state dict), fetch the weights once while online, or set "
            "model.pretrained false.")
        return None


def _classifier_prefixes(spec) -> tuple[str, ...]:
    """timm's classifier names for the architecture (e.g. "fc", "head.fc"): skipped on load."""
    if spec.timm_name is None:
        return ()
    import timm

    cfg = timm.models.get_pretrained_cfg(spec.timm_name)
    names = getattr(cfg, "classifier", None) or ()
    return (names,) if isinstance(names, str) else tuple(names)
