"""The demo study spec as a file (a small real study: fer_cnn_tiny, 1 short epoch, 2 variants x 2 seeds)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from study_fakes import DEMO_STUDY


@pytest.fixture
def demo_spec(tmp_path) -> Path:
    path = tmp_path / "demo-study.json"
    path.write_text(json.dumps(DEMO_STUDY))
    return path
