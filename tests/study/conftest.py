"""A small real study on the demo set: fer_cnn_tiny, 1 short epoch, 2 variants x 2 seeds."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

DEMO_STUDY = {
    "schema_version": 1, "name": "demo ablation",
    "base": {"preset": "quick-cpu", "set": {
        "data.path": "demo", "model.backbone": "fer_cnn_tiny", "train.epochs": 1, "train.batch_size": 32,
        "train.max_steps_per_epoch": 2, "schedule.warmup_epochs": 0.0, "eval.tta": "none", "train.device": "cpu"}},
    "ablate": {"tricks": ["hflip"], "mode": "leave-one-out"},
    "seeds": [0, 1],
}


@pytest.fixture
def demo_spec(tmp_path) -> Path:
    path = tmp_path / "demo-study.json"
    path.write_text(json.dumps(DEMO_STUDY))
    return path
