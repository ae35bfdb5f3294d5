"""The classifier head shared by every backbone: dropout (optionally multi-sample) + linear."""
from __future__ import annotations

import torch
from torch import nn


class ClassifierHead(nn.Module):
    """features (B, D) -> logits (B, K).

    With `samples > 1`, training averages the logits of `samples` independent dropout masks
    (multi-sample dropout, Inoue 2019, in the common Kaggle form that averages logits rather
    than per-sample losses); in eval mode dropout is the identity and one pass is made.
    """

    def __init__(self, in_features: int, num_classes: int, dropout: float = 0.0, samples: int = 1):
        super().__init__()
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.samples = max(1, int(samples))
        self.fc = nn.Linear(in_features, num_classes)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        if self.training and self.samples > 1 and isinstance(self.dropout, nn.Dropout):
            return torch.stack([self.fc(self.dropout(features)) for _ in range(self.samples)]).mean(0)
        return self.fc(self.dropout(features))
