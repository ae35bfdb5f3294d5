from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from fer_engine.eval import export
from fer_engine.eval.embed import pca_2d
from fer_engine.scoring.metrics import summary
from fer_engine.scoring.predictions import Predictions, cross_entropy

NAMES = ["angry", "happy", "sad"]


def _preds(n=40, seed=0):
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.ones(3), n).astype(np.float32)
    y_true = rng.integers(0, 3, n)
    return Predictions(index=np.arange(n), y_true=y_true, y_pred=probs.argmax(1), probs=probs,
                       logits=np.log(probs), losses=cross_entropy(probs, y_true),
                       features=rng.normal(size=(n, 6)).astype(np.float32), class_names=NAMES)


def test_metrics_as_json_and_csv(tmp_path):
    s = summary(_preds(), train_counts=[50, 30, 20])
    data = json.loads(export.metrics_to_json(s, tmp_path / "m.json").read_text())
    assert data["accuracy"] == pytest.approx(s["accuracy"]) and data["class_names"] == NAMES
    rows = list(csv.reader((export.metrics_to_csv(s, tmp_path / "m.csv")).open()))
    assert rows[0] == ["class", "precision", "recall", "f1", "support"]
    assert [r[0] for r in rows[1:4]] == NAMES
    assert sum(int(r[4]) for r in rows[1:4]) == 40
    flat = {r[0]: r[1] for r in rows if len(r) == 2}
    assert float(flat["accuracy"]) == pytest.approx(s["accuracy"], abs=1e-6)
    assert "prior_corrected_accuracy" in flat


@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG"), (".svg", b"<?xml")])
def test_figures_without_qt(tmp_path, suffix, magic):
    p = _preds()
    s = summary(p)
    cm_path = export.confusion_matrix_figure(s["confusion_matrix"], NAMES, tmp_path / f"cm{suffix}",
                                             normalized=True, title="test")
    e = pca_2d(p.features)
    sc_path = export.scatter_figure(e.points, p.y_true, p.y_pred, NAMES, tmp_path / f"sc{suffix}",
                                    axis_labels=e.axis_labels)
    for path in (cm_path, sc_path):
        assert path.read_bytes().startswith(magic)
    if suffix == ".svg":
        text = cm_path.read_text()
        assert all(name in text for name in NAMES)
    with pytest.raises(ValueError, match="must end in"):
        export.confusion_matrix_figure(s["confusion_matrix"], NAMES, tmp_path / "cm.bmp")


def test_overlay_folder_names_carry_true_and_predicted_class(tmp_path):
    import cv2

    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (3, 12, 12, 1), dtype=np.uint8)
    cams = rng.random((3, 6, 6)).astype(np.float32)
    paths = export.export_overlays(images, cams, [0, 1, 2], [2, 1, 0], NAMES, tmp_path / "ov",
                                   ids=[7, 8, 9], scale=2)
    assert [p.name for p in paths] == ["00007_true-angry_pred-sad.png", "00008_true-happy_pred-happy.png",
                                       "00009_true-sad_pred-angry.png"]
    img = cv2.imread(str(paths[0]))
    assert img.shape == (24, 48, 3)  # face beside its overlay, enlarged twice
    left = cv2.cvtColor(img[:, :24], cv2.COLOR_BGR2GRAY)
    np.testing.assert_array_equal(left[::2, ::2], images[0, ..., 0])
    ov = export.overlay(images[0], np.ones((6, 6)), alpha=1.0)
    assert ov.shape == (12, 12, 3) and (ov[..., 0] > 100).all()  # cam 1 -> red end of jet


def test_every_registered_export_writes_each_of_its_formats(tmp_path):
    p = _preds()
    s = summary(p)
    options = {"matrix": {"normalized": True, "title": "t"}, "metrics": {},
               "scatter": {"embedding": pca_2d(p.features), "y_true": p.y_true, "y_pred": p.y_pred}}
    assert set(export.ANALYSIS_EXPORTS) == set(options)
    magic = {".png": b"\x89PNG", ".svg": b"<?xml", ".csv": b"class,precision", ".json": b"{"}
    for name, spec in export.ANALYSIS_EXPORTS.items():
        assert spec.label.startswith(spec.title) and spec.file_filter.count("(*.") == len(spec.suffixes)
        for sfx in spec.suffixes:
            path = spec.write(s, tmp_path / f"{name}{sfx}", **options[name])
            assert path.read_bytes().startswith(magic[sfx]), (name, sfx)
    assert json.loads((tmp_path / "metrics.json").read_text())["accuracy"] == pytest.approx(s["accuracy"])
