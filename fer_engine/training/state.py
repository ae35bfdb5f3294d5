"""`TrainState`: where a run is (epochs, steps, best epoch), and the checkpoint that holds it
with every component's state and random generator, so a resume continues bit-for-bit on CPU."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .checkpoint import capture_rng, restore_rng
from .components import Components

CHECKPOINT_FORMAT = 1


@dataclass
class TrainState:
    """The counters of a run; `epoch` is the last completed one."""

    epoch: int = 0
    step: int = 0  # batch within the current epoch
    global_step: int = 0  # batches since the start of the run
    opt_step: int = 0  # optimiser steps since the start (the LR schedule's clock)
    best_epoch: int = 0
    early_stopped: bool = False

    def checkpoint(self, parts: Components, np_rng: np.random.Generator) -> dict[str, Any]:
        """The checkpoint of this state: tensors and plain containers (`checkpoint.save_checkpoint`)."""
        return {
            "format": CHECKPOINT_FORMAT, "model": parts.model.state_dict(),
            "optimizer": parts.optimizer.state_dict(), "schedule": parts.schedule.state_dict(),
            "scaler": parts.scaler.state_dict(), "early_stop": parts.stopper.state_dict(),
            "epoch": self.epoch, "global_step": self.global_step, "opt_step": self.opt_step,
            "best_epoch": self.best_epoch, "early_stopped": self.early_stopped,
            "monitor": parts.monitor, "rng": capture_rng(np_rng, parts.aug_gen),
        }

    @classmethod
    def restore(cls, ckpt: dict[str, Any], parts: Components, np_rng: np.random.Generator) -> "TrainState":
        """Load a checkpoint into `parts` and the generators; the state it was saved in.

        The step clocks follow this run's batches per epoch: a resume on another number of
        devices keeps the LR schedule on its epochs."""
        parts.model.load_state_dict(ckpt["model"])
        parts.optimizer.load_state_dict(ckpt["optimizer"])
        parts.schedule.load_state_dict(ckpt["schedule"])
        if ckpt["scaler"]:  # empty when saved without loss scaling (bfloat16 or float32)
            parts.scaler.load_state_dict(ckpt["scaler"])
        parts.stopper.load_state_dict(ckpt["early_stop"])
        restore_rng(ckpt["rng"], np_rng, parts.aug_gen)
        epoch = int(ckpt["epoch"])
        return cls(epoch=epoch, global_step=epoch * parts.steps_per_epoch,
                   opt_step=epoch * parts.opt_steps_per_epoch, best_epoch=int(ckpt["best_epoch"]),
                   early_stopped=bool(ckpt.get("early_stopped", False)))
