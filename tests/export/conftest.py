"""Export tests: run directories on the demo faces, and the demo test faces themselves."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from export_runs import make_run


@pytest.fixture(scope="session")
def runs_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("export-runs")


@pytest.fixture(scope="session")
def tiny_run(runs_root) -> Path:
    return make_run(runs_root, "fer_cnn_tiny")


@pytest.fixture(scope="session")
def demo_faces() -> np.ndarray:
    """64 demo test faces, RGB 48x48 (each model converts them its own way)."""
    from fer_engine.config import DataConfig
    from fer_engine.data import load_dataset

    data = load_dataset(DataConfig(path="demo", channels=3))
    idx = data.splits["test"][::5][:64]
    return data.images[idx]


@pytest.fixture(scope="session")
def video(shared_data) -> Path:
    p = shared_data / "video" / "woman2.mp4"
    if not p.is_file():
        pytest.skip(f"video not found: {p}")
    return p


@pytest.fixture(scope="session")
def tiny_onnx(tiny_run, tmp_path_factory) -> Path:
    """The tiny run exported to ONNX (any batch size)."""
    from fer_engine.export.build import export_model
    from fer_engine.export.formats import ExportOptions

    out = tmp_path_factory.mktemp("exported") / "tiny.onnx"
    export_model(tiny_run, out, "onnx", ExportOptions(dynamic_batch=True), card=False)
    return out
