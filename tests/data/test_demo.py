"""The built-in demo dataset: all seven expressions, deterministic, loadable as "demo"."""
from __future__ import annotations

import numpy as np

from fer_engine.classes import FER2013_CLASSES
from fer_engine.config import DataConfig
from fer_engine.data import load_dataset
from fer_engine.data.demo import DEMO_COUNTS, generate_demo, render_face


def test_render_face_is_deterministic_by_seed_and_varies():
    a = render_face("happy", np.random.default_rng(5))
    b = render_face("happy", np.random.default_rng(5))
    c = render_face("happy", np.random.default_rng(6))
    assert a.shape == (48, 48) and a.dtype == np.uint8
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert a.std() > 10  # a face, not a blank


def test_expressions_differ_for_the_same_pose():
    faces = [render_face(name, np.random.default_rng(1)) for name in FER2013_CLASSES]
    for i in range(len(faces)):
        for j in range(i + 1, len(faces)):
            assert np.abs(faces[i].astype(int) - faces[j].astype(int)).mean() > 1.0


def test_generate_demo_is_deterministic(tmp_path):
    counts = {"train": 2, "val": 1}
    generate_demo(tmp_path / "a", seed=3, counts=counts)
    generate_demo(tmp_path / "b", seed=3, counts=counts)
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.png"))
    assert len(files) == 3 * len(FER2013_CLASSES)
    for f in files:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()


def test_demo_dataset_has_all_classes_and_splits():
    d = load_dataset(DataConfig(path="demo"))
    assert d.layout == "demo"
    assert d.class_names == list(FER2013_CLASSES)
    for split, n in DEMO_COUNTS.items():
        assert d.class_counts(split).tolist() == [n] * 7
    assert d.images.shape[1:] == (48, 48, 1)
