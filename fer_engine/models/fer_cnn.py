"""The small VGG-style CNN of FER course reports, built for 48x48 grayscale faces.

Four conv blocks (conv, BatchNorm, ReLU, 2x2 max-pool, dropout) and three fully connected
layers; the first two FC layers (with BatchNorm, ReLU, dropout) form the feature extractor
and the third is `FerModel`'s classifier head, so the penultimate features are the second
FC layer's 512 activations. An adaptive pool before the FC layers lets the same network
accept inputs larger than 48x48.
"""
from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn


def _conv_block(cin: int, cout: int, kernel: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(OrderedDict([
        ("conv", nn.Conv2d(cin, cout, kernel, padding=kernel // 2, bias=False)),
        ("bn", nn.BatchNorm2d(cout)),
        ("act", nn.ReLU()),  # not in-place: Grad-CAM hooks this output
        ("pool", nn.MaxPool2d(2)),
        ("drop", nn.Dropout2d(dropout) if dropout > 0 else nn.Identity()),
    ]))


def _fc_block(din: int, dout: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(OrderedDict([
        ("fc", nn.Linear(din, dout, bias=False)),
        ("bn", nn.BatchNorm1d(dout)),
        ("act", nn.ReLU()),
        ("drop", nn.Dropout(dropout) if dropout > 0 else nn.Identity()),
    ]))


class FerCNN(nn.Module):
    """Feature extractor: (B, C, H, W) -> (B, fc_dims[-1])."""

    def __init__(self, in_chans: int = 1, channels: tuple[int, ...] = (64, 128, 512, 512),
                 kernels: tuple[int, ...] = (3, 5, 3, 3), fc_dims: tuple[int, int] = (256, 512),
                 conv_dropout: float = 0.25, fc_dropout: float = 0.25, pooled_size: int = 3):
        super().__init__()
        blocks: OrderedDict[str, nn.Module] = OrderedDict()
        cin = in_chans
        for i, (cout, k) in enumerate(zip(channels, kernels), start=1):
            blocks[f"block{i}"] = _conv_block(cin, cout, k, conv_dropout)
            cin = cout
        self.features = nn.Sequential(blocks)
        self.pool = nn.AdaptiveAvgPool2d(pooled_size)  # identity at 48x48 (48 / 2**4 = 3)
        self.fc = nn.Sequential(OrderedDict([
            ("fc1", _fc_block(cin * pooled_size * pooled_size, fc_dims[0], fc_dropout)),
            ("fc2", _fc_block(fc_dims[0], fc_dims[1], fc_dropout)),
        ]))
        self.num_features = fc_dims[1]
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.pool(self.features(x)), 1))
