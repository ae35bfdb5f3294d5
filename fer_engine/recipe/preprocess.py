"""The one conversion from stored uint8 faces to model input, shared by every consumer.

Training, evaluation, analysis and the live page all call `prepare_batch`, so a face is
seen by the model exactly the same way everywhere (only training passes an augmentation).
"""
from __future__ import annotations

from functools import lru_cache
from typing import Callable, Sequence

import torch
import torch.nn.functional as F


def prepare_batch(
    x: torch.Tensor,
    mean: Sequence[float],
    std: Sequence[float],
    input_size: int,
    augment: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> torch.Tensor:
    """uint8 (B, H, W, C) on any device -> normalised float (B, C, S, S) on the same device.

    Steps: scale to [0, 1] channels-first, optional batch augmentation (a function of the
    [0, 1] batch, e.g. a BatchAugment with its random generators bound; it runs at the stored
    resolution, which is cheaper), bilinear resize to `input_size` when it differs (the
    "upscale 48x48 for ImageNet backbones" trick; antialiased when shrinking), then
    per-channel normalisation. The permuted float tensor is channels_last in memory.
    """
    if x.dtype != torch.uint8 or x.ndim != 4:
        raise ValueError(f"prepare_batch expects uint8 (B, H, W, C), got {x.dtype} {tuple(x.shape)}")
    out = x.permute(0, 3, 1, 2).float().div_(255.0)
    if augment is not None:
        out = augment(out)
    h, w = out.shape[-2:]
    if input_size and (h, w) != (input_size, input_size):
        out = F.interpolate(out, size=(input_size, input_size), mode="bilinear",
                            align_corners=False, antialias=input_size < min(h, w))
    scale, bias = _normaliser(tuple(mean), tuple(std), out.shape[1], out.device, out.dtype)
    return torch.addcmul(bias, out, scale)  # (x - mean) / std in one kernel


@lru_cache(maxsize=32)
def _normaliser(mean: tuple[float, ...], std: tuple[float, ...], channels: int, device: torch.device,
                dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """(1, C, 1, 1) constants 1 / std and -mean / std, cached: a fresh host-to-GPU copy per
    batch would stall the stream."""
    m, s = _per_channel(mean, channels, "mean"), _per_channel(std, channels, "std")
    return ((1 / s).to(dtype=dtype, device=device).view(1, channels, 1, 1),
            (-m / s).to(dtype=dtype, device=device).view(1, channels, 1, 1))


def _per_channel(values: tuple[float, ...], channels: int, what: str) -> torch.Tensor:
    """One value per channel (a single value serves them all), in float64."""
    vals = list(values) * channels if len(values) == 1 else list(values)
    if len(vals) != channels:
        raise ValueError(f"normalisation {what} has {len(vals)} values for {channels}-channel images")
    return torch.tensor(vals, dtype=torch.float64)
