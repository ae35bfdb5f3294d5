"""Live tests: a finished run directory with an untrained tiny model, and the real video."""
from __future__ import annotations

from pathlib import Path

import pytest

from live_runs import make_run


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    return make_run(tmp_path_factory.mktemp("live-runs"))


@pytest.fixture(scope="session")
def video(shared_data) -> Path:
    p = shared_data / "video" / "woman2.mp4"
    if not p.is_file():
        pytest.skip(f"video not found: {p}")
    return p
