"""Early stopping on a monitored validation metric."""
from __future__ import annotations

import math


def monitor_mode(metric_name: str) -> str:
    """"min" for losses/errors, "max" for accuracy-like metrics."""
    name = metric_name.lower()
    return "min" if ("loss" in name or "error" in name) else "max"


class EarlyStopping:
    """Counts epochs without an improvement larger than `min_delta`; stops after `patience` of them.

    patience 0 disables stopping (the best value is still tracked, e.g. for the best checkpoint).
    """

    def __init__(self, patience: int, min_delta: float = 0.0, mode: str = "max"):
        if mode not in ("max", "min"):
            raise ValueError(f"mode must be 'max' or 'min', got {mode!r}")
        self.patience = patience
        self.min_delta = abs(min_delta)
        self.mode = mode
        self.best = -math.inf if mode == "max" else math.inf
        self.bad_epochs = 0

    def is_improvement(self, value: float) -> bool:
        if math.isnan(value):
            return False
        if self.mode == "max":
            return value > self.best + self.min_delta
        return value < self.best - self.min_delta

    def update(self, value: float) -> bool:
        """Record one epoch's metric; True when it is a new best."""
        if self.is_improvement(value):
            self.best = float(value)
            self.bad_epochs = 0
            return True
        self.bad_epochs += 1
        return False

    @property
    def should_stop(self) -> bool:
        return self.patience > 0 and self.bad_epochs >= self.patience

    def state_dict(self) -> dict:
        return {"best": self.best, "bad_epochs": self.bad_epochs}

    def load_state_dict(self, state: dict) -> None:
        self.best = float(state["best"])
        self.bad_epochs = int(state["bad_epochs"])
