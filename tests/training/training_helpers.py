"""Tiny synthetic faces and fast configs shared by the training and reliability tests."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from fer_engine.config import RunConfig
from fer_engine.training import events as ev

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


def tiny_config(data: Path, **changes) -> RunConfig:
    """fer_cnn_tiny on 16x16 inputs, CPU, batch 8, 2 epochs; `changes` are dotted keys."""
    base = {
        "data.path": str(data), "data.image_size": SIZE, "data.channels": 1,
        "model.backbone": "fer_cnn_tiny", "model.input_size": SIZE,
        "train.epochs": 2, "train.batch_size": 8, "train.device": "cpu", "train.seed": 0,
        "optim.lr": 0.01,
    }
    return RunConfig().replace(**{**base, **changes})


def drain(handle, timeout: float = 120.0, until=lambda e: False) -> list[ev.Event]:
    """Poll a RunHandle until a terminal event of its run (or `until(event)`); every event seen."""
    seen: list[ev.Event] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for e in handle.poll():
            seen.append(e)
            if (isinstance(e, ev.TERMINAL) and e.run_id == handle.run_id) or until(e):
                return seen
        time.sleep(0.01)
    raise AssertionError(f"nothing conclusive within {timeout}s; last events: {seen[-3:]}")
