"""`FerModel`: any backbone's features + our classifier head, with uniform hooks for analysis."""
from __future__ import annotations

from functools import partial
from typing import Any, Callable

import torch
from torch import nn

from .head import ClassifierHead
from .spec import BackboneSpec

_CAM_LAYER_DEPTH = 2  # named_cam_layers lists modules at most this deep below `backbone`


class FerModel(nn.Module):
    """logits = head(forward_features(x)); features are the (B, D) penultimate activations."""

    #: a timm-style feature extractor (num_features, and patch_embed / num_prefix_tokens on ViTs),
    #: whose attributes torch's Module typing cannot know
    backbone: Any

    def __init__(self, spec: BackboneSpec, backbone: nn.Module, num_classes: int, in_chans: int,
                 input_size: int, dropout: float = 0.0, multi_sample_dropout: int = 0,
                 notes: list[str] | None = None):
        super().__init__()
        self.spec = spec
        self.backbone = backbone
        self.feature_dim = int(self.backbone.num_features)
        self.head = ClassifierHead(self.feature_dim, num_classes, dropout, multi_sample_dropout)
        self.num_classes = int(num_classes)
        self.in_chans = int(in_chans)
        self.input_size = int(input_size)
        self.notes: list[str] = list(notes or [])
        self._cam_layers: list[str] | None = None

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.backbone(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.forward_features(x))

    def no_weight_decay(self) -> set[str]:
        """The backbone's timm exemptions (position embeddings, tokens), as full names."""
        inner = self.backbone.no_weight_decay() if hasattr(self.backbone, "no_weight_decay") else ()
        own = dict(self.named_parameters())
        return {f"backbone.{n}" for n in inner if f"backbone.{n}" in own}

    # -- Grad-CAM ----------------------------------------------------------------------
    def cam_target_layers(self, layer: str | None = None) -> list[nn.Module]:
        """The module(s) Grad-CAM hooks: `layer` (dotted name) or the backbone's default."""
        name = layer or self.spec.cam_layer
        try:
            return [self.get_submodule(name)]
        except AttributeError:
            raise KeyError(f"backbone {self.spec.name} has no layer {name!r}; "
                           f"choices: {', '.join(self.named_cam_layers())}") from None

    @property
    def cam_reshape_transform(self) -> Callable[[torch.Tensor], torch.Tensor] | None:
        """Turns the hooked activations into (B, C, H, W) for Swin (NHWC) and ViT (tokens)."""
        if self.spec.reshape == "swin":
            return _nhwc_to_nchw
        if self.spec.reshape == "vit":
            grid = tuple(self.backbone.patch_embed.grid_size)
            return partial(_tokens_to_nchw, prefix=int(self.backbone.num_prefix_tokens), grid=grid)
        return None

    def named_cam_layers(self) -> list[str]:
        """Layers whose output is a spatial map Grad-CAM can use, default first then deepest
        first (found once by a dummy forward at the model's input size)."""
        if self._cam_layers is None:
            self._cam_layers = self._find_cam_layers()
        return list(self._cam_layers)

    def _find_cam_layers(self) -> list[str]:
        default = self.spec.cam_layer
        found: list[tuple[str, torch.Tensor]] = []  # in execution order: children before parents
        hooks = []
        is_map = _spatial_test(self)
        for name, module in self.named_modules():
            if name.startswith("backbone.") and name.count(".") <= _CAM_LAYER_DEPTH:
                hooks.append(module.register_forward_hook(
                    lambda m, i, out, name=name: found.append((name, out)) if is_map(out) else None))
        param = next(self.parameters())
        x = torch.zeros(1, self.in_chans, self.input_size, self.input_size, device=param.device)
        was_training = self.training
        try:
            self.eval()
            with torch.no_grad():
                self.forward_features(x)
        finally:
            for h in hooks:
                h.remove()
            self.train(was_training)
        names, seen = [], set()
        for name, out in found:  # a container passing its last child's tensor through is a duplicate
            if id(out) not in seen:
                seen.add(id(out))
                names.append(name)
        return list(dict.fromkeys([default] + names[::-1]))


def _nhwc_to_nchw(t: torch.Tensor) -> torch.Tensor:
    return t.permute(0, 3, 1, 2) if t.ndim == 4 else t


def _tokens_to_nchw(t: torch.Tensor, prefix: int, grid: tuple[int, int]) -> torch.Tensor:
    t = t[:, prefix:, :]
    return t.reshape(t.shape[0], grid[0], grid[1], t.shape[2]).permute(0, 3, 1, 2)


def _spatial_test(model: FerModel) -> Callable[[object], bool]:
    """Whether a module output is a feature map in the layout this backbone's CAM expects."""
    if model.spec.reshape == "vit":
        grid = model.backbone.patch_embed.grid_size
        n_tokens = int(model.backbone.num_prefix_tokens) + grid[0] * grid[1]
        return lambda out: isinstance(out, torch.Tensor) and out.ndim == 3 and out.shape[1] == n_tokens
    if model.spec.reshape == "swin":
        return lambda out: isinstance(out, torch.Tensor) and out.ndim == 4 and min(out.shape[1:3]) > 1
    return lambda out: isinstance(out, torch.Tensor) and out.ndim == 4 and min(out.shape[2:]) > 1
