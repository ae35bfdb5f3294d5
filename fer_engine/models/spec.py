"""`BackboneSpec`: what the GUI, the trainer and Grad-CAM need to know about a backbone."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Optional, cast

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

# build(in_chans, input_size, pretrained_file) -> feature extractor: (B, C, H, W) -> (B, D),
# with a `num_features` attribute (D). pretrained_file is a local hub weights file or None.
BuildFn = Callable[[int, int, Optional[str]], nn.Module]

RESHAPE_KINDS = (None, "swin", "vit")


@dataclass(frozen=True)
class BackboneSpec:
    name: str
    title: str
    family: str  # "fer": designed for small faces; "timm": an ImageNet architecture from timm
    default_input_size: int
    channels: int  # recommended input channels (1 = grayscale faces, 3 = RGB)
    mean: tuple[float, ...] | None  # pretraining statistics; None = use the dataset's
    std: tuple[float, ...] | None
    cam_layer: str  # dotted module name inside FerModel that Grad-CAM targets by default
    build: BuildFn
    reshape: str | None = None  # Grad-CAM activation layout: None (NCHW), "swin" (NHWC), "vit" (tokens)
    timm_name: str | None = None  # timm architecture whose hub weights `pretrained=True` fetches
    notes: str = ""

    def __post_init__(self):
        if self.family not in ("fer", "timm"):
            raise ValueError(f"backbone {self.name}: family must be 'fer' or 'timm', got {self.family!r}")
        if self.reshape not in RESHAPE_KINDS:
            raise ValueError(f"backbone {self.name}: reshape must be one of {RESHAPE_KINDS}")

    @property
    def supports_pretrained(self) -> bool:
        return self.timm_name is not None

    def param_count(self, num_classes: int = 7, in_chans: int | None = None,
                    input_size: int | None = None) -> int:
        """Parameters of the full model (backbone + head), counted without allocating weights."""
        return _param_count(self, num_classes, in_chans or self.channels,
                            input_size or self.default_input_size)


@lru_cache(maxsize=256)
def _param_count(spec: BackboneSpec, num_classes: int, in_chans: int, input_size: int) -> int:
    # Shapes only: weights on the meta device, initialisers skipped (on meta they run torch's
    # Python reference kernels, whose first use imports torch._dynamo: seconds of GIL-holding
    # imports in the GUI process).
    with torch.no_grad(), torch.device("meta"), _SkipInitialisers():
        features = spec.build(in_chans, input_size, None)
    n = sum(p.numel() for p in features.parameters())
    width = int(cast(Any, features).num_features)  # timm's attribute, unknown to Module's typing
    return n + width * num_classes + num_classes


class _SkipInitialisers(TorchFunctionMode):
    """Turns in-place tensor ops (`normal_`, `kaiming_uniform_`, ...) into no-ops returning
    their tensor: a parameter count needs shapes, not values."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        name = getattr(func, "__name__", "")
        if name.endswith("_") and not name.endswith("__") and args and isinstance(args[0], torch.Tensor):
            return args[0]
        return func(*args, **(kwargs or {}))
