"""Training checkpoints: tensors and primitives only, written atomically, read with weights_only.

A checkpoint holds everything needed to continue a run bit-for-bit on CPU: model,
optimizer, LR schedule, AMP scaler and early-stopping states, the epoch and global step
reached, the best metric so far, and every random generator's state (torch CPU/CUDA,
the augmentation generator, numpy, python). Nothing pickled beyond plain containers,
so `torch.load(weights_only=True)` reads it and a tampered file cannot run code.
"""
from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..utils.atomic import atomic_path


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write `state` to a temp file beside `path`, fsync, rename: never half-written.

    A write error (a full disk) is raised as the OSError it is: torch's zip writer reports it
    as "RuntimeError: [enforce fail ...] unexpected pos", which says nothing to a user.
    """
    with atomic_path(Path(path)) as tmp:
        try:
            with open(tmp, "wb") as f:
                torch.save(state, f)
        except RuntimeError as e:
            if isinstance(e.__context__, OSError):
                e.__context__.filename = e.__context__.filename or str(path)
                raise e.__context__ from None
            raise


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Read a checkpoint with the safe loader (pickled code is refused)."""
    try:
        from ..models.weights import load_checkpoint_file
    except ImportError:  # models package not providing it: same safe load here
        return torch.load(Path(path), map_location="cpu", weights_only=True)
    return load_checkpoint_file(Path(path))


def capture_rng(np_rng: np.random.Generator, aug_gen: torch.Generator | None) -> dict[str, Any]:
    """Every random state the loop draws from, as tensors / plain containers."""
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": _to_plain(np_rng.bit_generator.state),
        "python": _to_plain(random.getstate()),
    }
    if aug_gen is not None:
        state["augment"] = aug_gen.get_state()
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict[str, Any], np_rng: np.random.Generator,
                aug_gen: torch.Generator | None) -> None:
    torch.set_rng_state(state["torch"])
    np_rng.bit_generator.state = state["numpy"]
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    if aug_gen is not None and "augment" in state:
        aug_gen.set_state(state["augment"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _to_plain(obj: Any) -> Any:
    """Numpy scalars/arrays inside RNG states become python ints/lists (weights_only safe)."""
    if isinstance(obj, dict):
        return {k: _to_plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_to_plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    return obj
