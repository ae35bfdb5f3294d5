"""Tiny synthetic image datasets written by the tests (a few 12x12 faces per class)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fer_engine.config import DataConfig


def write_faces(folder: Path, n: int, seed: int = 0, prefix: str = "img", size: int = 12) -> list[Path]:
    """n distinct random gray PNG faces in folder."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(n):
        p = folder / f"{prefix}_{i:03d}.png"
        Image.fromarray(rng.integers(0, 256, (size, size), dtype=np.uint8), "L").save(p)
        paths.append(p)
    return paths


def make_tree(root: Path, spec: dict[str, int], seed: int = 0) -> Path:
    """spec: {"train/angry": 5, "val/happy": 2, ...} -> that many faces per folder."""
    for i, (rel, n) in enumerate(spec.items()):
        write_faces(root / rel, n, seed=seed * 1000 + i, prefix=rel.replace("/", "_"))
    return root


@pytest.fixture
def cache_folder(tmp_path_factory) -> Path:
    """A per-test dataset cache folder (outside the test's dataset folder)."""
    return tmp_path_factory.mktemp("dataset-cache")


@pytest.fixture
def data_cfg(cache_folder):
    """DataConfig factory with a per-test cache folder and small faces."""
    def make(path, **kw) -> DataConfig:
        kw.setdefault("image_size", 16)
        kw.setdefault("cache_dir", str(cache_folder))
        return DataConfig(path=str(path), **kw)
    return make


@pytest.fixture
def tree():
    """make_tree(root, {"train/angry": 5, ...})."""
    return make_tree


@pytest.fixture
def faces():
    """write_faces(folder, n, seed=0, prefix="img", size=12)."""
    return write_faces
