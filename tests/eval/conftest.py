"""Tiny models and synthetic predictions for the evaluation tests."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn


class TinyFerModel(nn.Module):
    """A FerModel-shaped net (forward, forward_features) that counts its forwards."""

    def __init__(self, num_classes: int = 3, in_chans: int = 1, dim: int = 8, input_size: int = 12):
        super().__init__()
        self.input_size = input_size
        self.body = nn.Sequential(nn.Conv2d(in_chans, dim, 3, padding=1), nn.ReLU(),
                                  nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(dim, num_classes)
        self.calls = 0

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.forward_features(x))


@pytest.fixture
def tiny_model() -> TinyFerModel:
    torch.manual_seed(0)
    return TinyFerModel()


@pytest.fixture
def faces() -> tuple[np.ndarray, np.ndarray]:
    """20 random 12x12 grayscale faces with labels in 0..2."""
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (20, 12, 12, 1), dtype=np.uint8), rng.integers(0, 3, 20)
