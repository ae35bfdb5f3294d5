"""Tiny synthetic faces and fast configs for the training tests (CPU, a few batches)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fer_engine.config import RunConfig

CLASSES = ("angry", "happy", "sad")
SIZE = 16


def write_split_folders(root: Path, per_class: dict[str, int], seed: int = 0) -> Path:
    """`root/<split>/<class>/*.png`: each class a bright band at its own place, plus noise."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    for split, n in per_class.items():
        for c, name in enumerate(CLASSES):
            folder = root / split / name
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(n):
                img = rng.normal(60, 25, (SIZE, SIZE))
                img[:, c * SIZE // 3:(c + 1) * SIZE // 3] += 120
                Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "L").save(folder / f"{i}.png")
    return root


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory) -> Path:
    """3 classes x (24 train, 8 val, 8 test) 16x16 grayscale faces in split folders."""
    return write_split_folders(tmp_path_factory.mktemp("tiny_faces"), {"train": 24, "val": 8, "test": 8})


def tiny_config(data: Path, **changes) -> RunConfig:
    """fer_cnn_tiny on 16x16 inputs, CPU, batch 8, 2 epochs; `changes` are dotted keys."""
    base = {
        "data.path": str(data), "data.image_size": SIZE, "data.channels": 1,
        "model.backbone": "fer_cnn_tiny", "model.input_size": SIZE,
        "train.epochs": 2, "train.batch_size": 8, "train.device": "cpu", "train.seed": 0,
        "optim.lr": 0.01,
    }
    return RunConfig().replace(**{**base, **changes})


@pytest.fixture
def runs_root(tmp_path) -> Path:
    return tmp_path / "runs"
