"""The exported graph: uint8 stored-format faces in, probabilities out, preprocessing inside.

`ExportGraph` wraps one model (a run) or several (an ensemble, probabilities averaged), each
with its own preprocessing: gray from RGB exactly as Pillow computes it (when a member was
trained on gray faces and another on RGB), scale to [0, 1], resize to the member's input
size (bilinear, as `tricks.preprocess.prepare_batch`), per-channel mean/std, softmax.
`reference_probs` is the PyTorch float32 path the export is checked against.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .metadata import ExportError, MemberInfo

# Pillow's RGB -> L: (R*19595 + G*38470 + B*7471 + 0x8000) >> 16 (exact in float32).
_LUMA = (19595.0, 38470.0, 7471.0)


class _Member(nn.Module):
    scale: torch.Tensor  # buffers
    bias: torch.Tensor
    luma: torch.Tensor

    def __init__(self, model: nn.Module, info: MemberInfo, in_channels: int, image_size: int):
        super().__init__()
        if info.channels > in_channels:
            raise ExportError(f"member {info.run_id} takes {info.channels} channels but the input has {in_channels}")
        self.model = model
        self.to_gray = info.channels == 1 and in_channels == 3
        self.resize = info.input_size != image_size
        self.antialias = info.input_size < image_size
        self.input_size = info.input_size
        c = info.channels
        mean = torch.tensor(_per_channel(info.mean, c), dtype=torch.float32).view(1, c, 1, 1)
        std = torch.tensor(_per_channel(info.std, c), dtype=torch.float32).view(1, c, 1, 1)
        self.register_buffer("scale", 1.0 / std, persistent=False)
        self.register_buffer("bias", -mean / std, persistent=False)
        self.register_buffer("luma", torch.tensor(_LUMA).view(1, 3, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: float (B, C, S, S) in 0..255
        if self.to_gray:
            x = torch.floor(((x * self.luma).sum(1, keepdim=True) + 32768.0) / 65536.0)
        x = x / 255.0
        if self.resize:
            x = F.interpolate(x, size=(self.input_size, self.input_size), mode="bilinear",
                              align_corners=False, antialias=self.antialias)
        return torch.softmax(self.model(x * self.scale + self.bias).float(), dim=1)


class ExportGraph(nn.Module):
    """uint8 (B, S, S, C) faces -> (B, K) float32 probabilities (the mean over members)."""

    def __init__(self, models: Sequence[nn.Module], members: Sequence[MemberInfo], channels: int,
                 image_size: int):
        super().__init__()
        self.image_size, self.channels = int(image_size), int(channels)
        self.members = nn.ModuleList(_Member(m, info, channels, image_size) for m, info in zip(models, members))

    def forward(self, faces: torch.Tensor) -> torch.Tensor:
        x = faces.permute(0, 3, 1, 2).float()
        probs = [m(x) for m in self.members]
        return probs[0] if len(probs) == 1 else torch.stack(probs).mean(0)


def _per_channel(values: Sequence[float], channels: int) -> list[float]:
    vals = list(values) * channels if len(values) == 1 else list(values)
    if len(vals) != channels:
        raise ExportError(f"normalisation has {len(vals)} values for {channels}-channel images")
    return [float(v) for v in vals]


def reference_probs(models: Sequence[nn.Module], members: Sequence[MemberInfo], faces: np.ndarray,
                    image_size: int) -> np.ndarray:
    """The PyTorch float32 path the app uses (each member's faces converted by the dataset
    decoder, then `prepare_batch`), averaged over members: what an export must reproduce."""
    from ..data.images import to_stored_format
    from ..recipe.preprocess import prepare_batch

    out = []
    with torch.inference_mode():
        for model, info in zip(models, members):
            stored = to_stored_format(faces, image_size, info.channels)
            x = prepare_batch(torch.from_numpy(stored), info.mean, info.std, info.input_size)
            out.append(torch.softmax(model(x).float(), dim=1).numpy())
    return np.mean(out, axis=0).astype(np.float32)
