"""Shared test set-up: offscreen Qt, quiet threads, real-data locator, tiny synthetic data."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_NUM_THREADS", "2")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory, monkeypatch):
    """Caches and runs of a test never touch the user's real folders."""
    base = tmp_path_factory.getbasetemp()
    monkeypatch.setenv("FER_STUDIO_CACHE", str(base / "cache"))
    monkeypatch.setenv("FER_STUDIO_RUNS", str(base / "runs"))
    monkeypatch.setenv("FER_STUDIO_CONFIG_DIR", str(base / "settings"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data (or $FER_SHARED_DATA); tests that need it skip with a reason when absent."""
    from fer_engine.paths import shared_data_dir

    p = shared_data_dir()
    if p is None:
        pytest.skip("real data not found: set FER_SHARED_DATA or put shared/data beside the repo")
    return p


@pytest.fixture(scope="session")
def fer2013_dir(shared_data) -> Path:
    p = shared_data / "fer2013"
    if not (p / "train").is_dir():
        pytest.skip(f"FER2013 image folders not found under {p}")
    return p
