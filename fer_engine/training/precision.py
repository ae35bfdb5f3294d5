"""Mixed precision and memory format per device: one rule for the training loop.

AMP is bfloat16 autocast wherever the hardware computes bfloat16 natively: GPUs with
bfloat16 tensor cores (NVIDIA Ampere and newer, ROCm) and CPUs with AVX512-BF16 or AMX,
where it roughly doubles the training speed of the convolutional backbones. bfloat16 has
float32's range, so it needs no loss scaling, and so no GradScaler (whose overflow check
reads a value back to the host every step with per-tensor optimisers; the fused optimisers
fit builds take that check on the device). Older GPUs get float16 autocast with loss
scaling; elsewhere AMP is off, since
emulated bfloat16 is slower than float32. channels_last helps convolutions on CUDA and on
CPU (oneDNN) alike.
"""
from __future__ import annotations

import torch

from ..utils import machine


def cuda_has_native_bf16(device: torch.device) -> bool:
    """True when this GPU has bfloat16 tensor cores (compute capability 8.0+, or ROCm)."""
    return bool(torch.version.hip) or torch.cuda.get_device_capability(device)[0] >= 8


def amp_dtype(device: torch.device, enabled: bool) -> torch.dtype | None:
    """The autocast dtype for `device`, or None for plain float32."""
    if not enabled:
        return None
    if device.type == "cuda":
        return torch.bfloat16 if cuda_has_native_bf16(device) else torch.float16
    if device.type == "cpu" and machine.cpu_has_native_bf16():
        return torch.bfloat16
    return None


def describe(device: torch.device, dtype: torch.dtype | None, channels_last: bool) -> str:
    """The device line of the run log, e.g. "cpu (bfloat16 autocast, channels_last)"."""
    extras = [_autocast_name(dtype)] if dtype is not None else []
    if channels_last:
        extras.append("channels_last")
    return f"{device} ({', '.join(extras)})" if extras else str(device)


def amp_note(device: torch.device) -> str:
    """Why `train.amp` changes nothing on `device` ("" when it does): training stays float32."""
    if amp_dtype(device, True) is not None:
        return ""
    if device.type == "cpu":
        return "no effect on this CPU: it has no native bfloat16 (AVX512-BF16/AMX), so training runs in float32"
    return f"no effect on {device}: training runs in float32"


def training_precision(device: torch.device | str, force_float32: bool) -> str:
    """What training with `train.amp` on `device` computes in: "bfloat16 autocast" (or float16
    on older GPUs), "float32" where the hardware has neither, or "float32 (forced)"."""
    if force_float32:
        return "float32 (forced)"
    dtype = amp_dtype(torch.device(device), True)
    return _autocast_name(dtype) if dtype is not None else "float32"


def _autocast_name(dtype: torch.dtype) -> str:
    return f"{str(dtype).removeprefix('torch.')} autocast"
