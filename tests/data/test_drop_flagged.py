"""data.drop_flagged removes leaked, conflicting and near-blank training faces, and says how many."""
from __future__ import annotations

import numpy as np

from fer_engine.config import DataConfig
from fer_engine.data import load_dataset
from fer_engine.data.arrays import DatasetArrays
from fer_engine.data.flagged import drop_flagged, flagged_training_faces


def _arrays() -> DatasetArrays:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (10, 8, 8, 1), dtype=np.uint8)
    labels = np.array([0, 1, 0, 1, 0, 1, 0, 0, 0, 1])  # the leaked copy keeps its label
    images[7] = images[0]  # train 0 is copied into test (row 7): leakage
    images[3] = images[2]  # train 2 (label 0) and train 3 (label 1): a label conflict inside train
    images[4] = 90  # a flat training face
    splits = {"train": np.arange(0, 6), "val": np.array([6]), "test": np.array([7, 8, 9])}
    return DatasetArrays(images=images, labels=labels, class_names=["happy", "sad"], splits=splits,
                         sources=[f"f{i}.png" for i in range(10)])


def test_flagged_faces_by_reason_and_the_drop_note():
    data = _arrays()
    flagged = flagged_training_faces(data)
    assert flagged["leaked"].tolist() == [0]
    assert flagged["conflicting"].tolist() == [2, 3]
    assert flagged["near_blank"].tolist() == [4]
    kept = drop_flagged(data)
    assert kept.splits["train"].tolist() == [1, 5]
    assert kept.splits["test"].tolist() == [7, 8, 9]  # evaluation faces are never dropped
    assert kept.notes[-1].startswith("data.drop_flagged: removed 4 training images (1 copies of val/test")


def test_load_dataset_applies_the_switch_only_when_asked():
    plain = load_dataset(DataConfig(path="demo"))
    dropped = load_dataset(DataConfig(path="demo", drop_flagged=True))
    assert any(n.startswith("data.drop_flagged: removed") for n in dropped.notes)
    assert not any("drop_flagged" in n for n in plain.notes)
    removed = len(plain.splits["train"]) - len(dropped.splits["train"])
    assert f"removed {removed} training images" in dropped.notes[-1]
    assert np.array_equal(plain.splits["test"], dropped.splits["test"])
