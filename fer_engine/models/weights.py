"""Reading weight and checkpoint files safely, and loading weights into a model.

Files are read with safetensors or `torch.load(weights_only=True)`: tensors and plain
containers only. A pickle that would build any other object (a `__reduce__` payload that
runs code) is refused with `UnsafeCheckpointError` before anything in it executes.
"""
from __future__ import annotations

import pickle
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

_WRAPPER_KEYS = ("state_dict", "model_state_dict", "model")
_PREFIXES = ("module.", "_orig_mod.")  # DataParallel / DDP, torch.compile


class UnsafeCheckpointError(ValueError):
    """A checkpoint that holds pickled objects beyond tensors and plain values."""


def load_checkpoint_file(path: str | Path) -> dict[str, Any]:
    """A torch.save'd dict of tensors and primitive values (nested allowed), read safely."""
    obj = _torch_load(Path(path))
    if not isinstance(obj, dict):
        raise ValueError(f"{path}: expected a checkpoint dict, found {type(obj).__name__}")
    return obj


def load_state_dict_file(path: str | Path) -> dict[str, torch.Tensor]:
    """A flat state dict from .safetensors or a torch file (.pt/.pth/.bin/.ckpt).

    Unwraps the usual containers ("state_dict", "model_state_dict", "model") and strips
    "module." / "_orig_mod." prefixes.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"weights file not found: {p}")
    obj: Any = _safetensors_load(p) if p.suffix == ".safetensors" else _torch_load(p)
    while isinstance(obj, dict):
        inner = next((obj[k] for k in _WRAPPER_KEYS if isinstance(obj.get(k), dict)), None)
        if inner is None:
            break
        obj = inner
    if not isinstance(obj, dict) or not obj:
        raise ValueError(f"{p}: no state dict found (got {type(obj).__name__})")
    out: dict[str, torch.Tensor] = {}
    for key, value in obj.items():
        if not isinstance(value, torch.Tensor):
            raise ValueError(f"{p}: entry {key!r} is a {type(value).__name__}, not a tensor; "
                             "expected a state dict")
        out[_strip_prefixes(str(key))] = value
    return out


def _strip_prefixes(key: str) -> str:
    changed = True
    while changed:
        changed = False
        for prefix in _PREFIXES:
            if key.startswith(prefix):
                key, changed = key[len(prefix):], True
    return key


def _torch_load(p: Path) -> Any:
    if not p.is_file():
        raise FileNotFoundError(f"checkpoint not found: {p}")
    try:
        return torch.load(p, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        reason = _unpickling_reason(str(e))
        raise UnsafeCheckpointError(
            f"refused to load {p}: it contains pickled Python objects other than tensors and "
            f"plain values, which could run code when opened ({reason}). Only tensors, "
            "numbers, strings, lists and dicts are accepted; re-save the weights with "
            "torch.save(model.state_dict()) or safetensors from a trusted source."
        ) from None
    except (RuntimeError, EOFError, OSError, ValueError) as e:
        raise ValueError(f"{p}: not a readable PyTorch checkpoint ({type(e).__name__}: {e})") from None


def _unpickling_reason(text: str) -> str:
    """What torch's weights-only unpickler refused, without its advice to load the file
    unsafely ("re-running with weights_only=False will likely succeed")."""
    noise = ("weights only load failed", "weights_only", "check the documentation", "in pytorch 2.6")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    keep = [line for line in lines if not any(n in line.lower() for n in noise)]
    return keep[0].rstrip(".") if keep else "an object other than tensors and plain values"


def _safetensors_load(p: Path) -> dict[str, torch.Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(str(p), device="cpu")
    except (SafetensorError, OSError, ValueError) as e:
        raise ValueError(f"{p}: not a readable safetensors file ({e})") from None


# -- loading into a model -------------------------------------------------------------
@dataclass
class WeightsReport:
    """What a weights file did to a model, as lines for `FerModel.notes`."""

    path: str
    loaded: int = 0
    adapted: list[str] = field(default_factory=list)  # input convs summed/repeated to in_chans
    head_skipped: list[str] = field(default_factory=list)  # classifier tensors not used
    mismatched: list[str] = field(default_factory=list)  # other shape mismatches (kept random)
    missing: list[str] = field(default_factory=list)  # model tensors the file lacks
    unexpected: list[str] = field(default_factory=list)  # file tensors the model lacks

    def lines(self) -> list[str]:
        out = [f"weights {self.path}: loaded {self.loaded} tensors"]
        if self.adapted:
            out.append(f"input conv adapted to the run's channels: {_few(self.adapted)}")
        if self.head_skipped:
            out.append(f"classifier in the file not used (the head is new for this run's "
                       f"classes): {_few(self.head_skipped)}")
        if self.mismatched:
            out.append(f"shape mismatch, kept random init: {_few(self.mismatched)}")
        if self.missing:
            out.append(f"missing in the file, kept random init: {_few(self.missing)}")
        if self.unexpected:
            out.append(f"in the file but not in the model, ignored: {_few(self.unexpected)}")
        return out


def _few(items: list[str], n: int = 6) -> str:
    more = f" ... (+{len(items) - n} more)" if len(items) > n else ""
    return ", ".join(items[:n]) + more


def load_weights_into(model: nn.Module, path: str | Path, classifier_prefixes: tuple[str, ...] = ()
                      ) -> WeightsReport:
    """Load a weights file into a FerModel, tolerating the usual differences.

    A fer-studio checkpoint (keys "backbone.*", "head.*") targets the whole model; any other
    state dict (timm/torch) targets `model.backbone`, through timm's checkpoint filter when
    the architecture has one (resamples ViT position embeddings, converts old Swin keys).
    An input conv with 3 channels loads into 1 channel by summing (timm's adapt_input_conv).
    Classifier tensors that do not fit are skipped and reported. A file of which nothing
    fits is an error.
    """
    from timm.models import adapt_input_conv

    sd = load_state_dict_file(path)
    whole = any(k.startswith("backbone.") for k in sd)
    target: nn.Module = model if whole or not hasattr(model, "backbone") else model.get_submodule("backbone")
    if not whole:
        sd = _timm_filter(target, sd)
    heads = ("head.",) if whole else tuple(p + "." for p in classifier_prefixes)
    own = target.state_dict()
    report, new = WeightsReport(str(path)), {}
    for key, value in sd.items():
        if key not in own:
            (report.head_skipped if key.startswith(heads) else report.unexpected).append(key)
            continue
        want = own[key].shape
        if value.shape == want:
            new[key] = value
        elif _is_input_conv_pair(value, want):
            new[key] = adapt_input_conv(want[1], value.float()).to(value.dtype)
            report.adapted.append(f"{key} {value.shape[1]}->{want[1]}")
        elif key.startswith(heads):
            report.head_skipped.append(f"{key} {tuple(value.shape)} vs {tuple(want)}")
        else:
            report.mismatched.append(f"{key} {tuple(value.shape)} vs {tuple(want)}")
    if not new:
        raise ValueError(f"{path}: none of its {len(sd)} tensors fit this model "
                         f"(file keys: {_few(list(sd), 4)}; model keys: {_few(list(own), 4)}); "
                         "is it a checkpoint of this backbone?")
    target.load_state_dict(new, strict=False)
    report.loaded = len(new)
    report.missing = [k for k in own if k not in new and not k.endswith("num_batches_tracked")]
    return report


def _is_input_conv_pair(value: torch.Tensor, want: torch.Size) -> bool:
    """A conv weight differing only in input channels, 3 -> 1 (sum) or 3 -> N (repeat)."""
    return (value.ndim == 4 and len(want) == 4 and value.shape[1] == 3 and want[1] != 3
            and value.shape[0] == want[0] and value.shape[2:] == want[2:])


def _timm_filter(module: nn.Module, sd: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """timm's per-architecture checkpoint conversion, when the module's file defines one."""
    fn = getattr(sys.modules.get(type(module).__module__), "checkpoint_filter_fn", None)
    if fn is None or not type(module).__module__.startswith("timm."):
        return sd
    try:
        return dict(fn(sd, module))
    except Exception:  # noqa: BLE001 - a filter for another checkpoint flavour: load the keys as they are
        return sd
