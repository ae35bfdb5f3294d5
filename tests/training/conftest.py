"""Fixtures of the training tests: tiny synthetic faces on disk and a runs folder."""
from __future__ import annotations

from pathlib import Path

import pytest
from training_helpers import write_split_folders


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory) -> Path:
    """3 classes x (24 train, 8 val, 8 test) 16x16 grayscale faces in split folders."""
    return write_split_folders(tmp_path_factory.mktemp("tiny_faces"), {"train": 24, "val": 8, "test": 8})


@pytest.fixture
def runs_root(tmp_path) -> Path:
    return tmp_path / "runs"
