"""Optimisers with weight decay only where it regularises (not on biases or norm layers)."""
from __future__ import annotations

import torch
from torch import nn

from ..config import ConfigError, OptimConfig

_NORM_TYPES = (nn.modules.batchnorm._BatchNorm, nn.LayerNorm, nn.GroupNorm,
               nn.modules.instancenorm._InstanceNorm, nn.LocalResponseNorm)


def param_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Two groups: decayed weights, and biases / norm-layer params / 1-d params / the
    model's `no_weight_decay()` names (timm convention: position embeddings, class tokens)."""
    skip_names = set(model.no_weight_decay()) if hasattr(model, "no_weight_decay") else set()
    decay, no_decay = [], []
    for mod_name, module in model.named_modules():
        for p_name, p in module.named_parameters(recurse=False):
            if not p.requires_grad:
                continue
            full = f"{mod_name}.{p_name}" if mod_name else p_name
            exempt = (isinstance(module, _NORM_TYPES) or p.ndim <= 1 or p_name.endswith("bias")
                      or full in skip_names or p_name in skip_names)
            (no_decay if exempt else decay).append(p)
    groups = [{"params": decay, "weight_decay": weight_decay},
              {"params": no_decay, "weight_decay": 0.0}]
    return [g for g in groups if g["params"]]


_FUSED_DEVICES = ("cuda", "cpu")


def build_optimizer(model: nn.Module, cfg: OptimConfig) -> torch.optim.Optimizer:
    """SGD (momentum, optional Nesterov), Adam or AdamW from the config.

    The fused implementation (one kernel updates every parameter) is used where torch has one
    for the parameters' device: on a GPU the per-tensor update loop is otherwise dozens of
    small kernel launches per step. Same update rule; results differ only in rounding.
    """
    groups = param_groups(model, cfg.weight_decay)
    devices = {p.device.type for g in groups for p in g["params"]}
    fused = {"fused": True} if devices and devices <= set(_FUSED_DEVICES) else {}
    if cfg.name == "sgd":
        return torch.optim.SGD(groups, lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.nesterov, **fused)
    if cfg.name in ("adam", "adamw"):
        if len(cfg.betas) != 2:
            raise ConfigError(f"optim.betas needs two values, got {cfg.betas}")
        cls = torch.optim.Adam if cfg.name == "adam" else torch.optim.AdamW
        return cls(groups, lr=cfg.lr, betas=tuple(cfg.betas), **fused)
    raise ConfigError(f"optim.name must be 'sgd', 'adam' or 'adamw', got {cfg.name!r}")
