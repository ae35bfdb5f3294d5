"""Well-known locations: user cache and runs folders, and the shared real-data folder."""
from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    return Path(os.environ.get("FER_STUDIO_CACHE", Path.home() / ".cache" / "fer-studio"))


def default_runs_dir() -> Path:
    return Path(os.environ.get("FER_STUDIO_RUNS", Path.home() / "fer-studio-runs"))


def shared_data_dir() -> Path | None:
    """Real data for tests and benchmarks: $FER_SHARED_DATA, else ../shared/data beside the repo."""
    env = os.environ.get("FER_SHARED_DATA")
    if env:
        p = Path(env)
        return p if p.is_dir() else None
    p = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
    return p if p.is_dir() else None
