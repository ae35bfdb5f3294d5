"""Optimisers with weight decay only where it regularises (not on biases or norm layers)."""
from __future__ import annotations

import torch
from timm.optim import param_groups_weight_decay
from torch import nn

from ..config import OptimConfig, check_value


def param_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """[decayed weights, exempt params], split by timm's `param_groups_weight_decay`: biases,
    1-d params (norm layers) and the model's `no_weight_decay()` names are exempt.

    The split is asked for at rate 1 and the rate set afterwards, so weight_decay=0 still gives
    both groups (an optimizer state saved before keeps its shape).
    """
    skip = getattr(model, "no_weight_decay", lambda: ())()
    groups = param_groups_weight_decay(model, 1.0, no_weight_decay_list=skip)
    for g in groups:
        g["weight_decay"] = weight_decay if g["weight_decay"] else 0.0
    return groups[::-1]  # timm lists the exempt group first


_FUSED_DEVICES = ("cuda", "cpu")


def build_optimizer(model: nn.Module, cfg: OptimConfig) -> torch.optim.Optimizer:
    """SGD (momentum, optional Nesterov), Adam or AdamW from the config.

    The fused implementation (one kernel updates every parameter) is used where torch has one
    for the parameters' device: on a GPU the per-tensor update loop is otherwise dozens of
    small kernel launches per step. Same update rule; results differ only in rounding.
    """
    check_value("optim.name", cfg.name)
    groups = param_groups(model, cfg.weight_decay)
    devices = {p.device.type for g in groups for p in g["params"]}
    fused = {"fused": True} if devices and devices <= set(_FUSED_DEVICES) else {}
    if cfg.name == "sgd":
        return torch.optim.SGD(groups, lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.nesterov, **fused)
    check_value("optim.betas", cfg.betas)
    cls = torch.optim.Adam if cfg.name == "adam" else torch.optim.AdamW
    return cls(groups, lr=cfg.lr, betas=(cfg.betas[0], cfg.betas[1]), **fused)
