from __future__ import annotations

import numpy as np
import pytest
import torch

from fer_engine.progress import Cancelled
from fer_engine.scoring.predictions import Predictions
from fer_engine.training.predict import collect_predictions

CLASSES = ["angry", "happy", "sad"]


def _collect(model, faces, **kw):
    images, labels = faces
    return collect_predictions(model, images, labels, CLASSES, mean=[0.5], std=[0.25],
                               input_size=12, batch_size=8, **kw)


def test_collect_matches_the_model_and_cross_entropy(tiny_model, faces):
    p = _collect(tiny_model, faces)
    images, labels = faces
    x = (torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255 - 0.5) / 0.25
    with torch.no_grad():
        logits = tiny_model(x).numpy()
    np.testing.assert_allclose(p.logits, logits, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(p.y_pred, logits.argmax(1))
    expected_ce = torch.nn.functional.cross_entropy(torch.from_numpy(logits), torch.from_numpy(labels),
                                                    reduction="none").numpy()
    np.testing.assert_allclose(p.losses, expected_ce, rtol=1e-4, atol=1e-5)
    assert p.features.shape == (20, 8) and p.features.dtype == np.float32
    np.testing.assert_array_equal(p.index, np.arange(20))
    assert p.probs.dtype == np.float32 and np.allclose(p.probs.sum(1), 1, atol=1e-5)


def test_unknown_class_has_no_loss(tiny_model, faces):
    images, labels = faces
    labels = labels.copy()
    labels[:3] = -1
    p = collect_predictions(tiny_model, images, labels, CLASSES, mean=[0.5], std=[0.25], input_size=12)
    assert np.isnan(p.losses[:3]).all() and np.isfinite(p.losses[3:]).all()
    assert p.known.sum() == 17


def test_save_load_round_trip_without_pickle(tiny_model, faces, tmp_path):
    p = _collect(tiny_model, faces, meta={"run_dir": "/x", "data": "demo"})
    path = p.save(tmp_path / "predictions" / "test.npz")
    q = Predictions.load(path)
    for name in ("index", "y_true", "y_pred", "probs", "logits", "losses", "features"):
        np.testing.assert_array_equal(getattr(q, name), getattr(p, name))
        assert getattr(q, name).dtype == getattr(p, name).dtype
    assert q.class_names == CLASSES and q.meta == {"run_dir": "/x", "data": "demo"}
    assert (q.split, q.tta) == ("test", "none")
    with np.load(path, allow_pickle=False) as z:  # every member reads without pickle
        assert all(z[k].dtype != object for k in z.files)
    assert [f.name for f in path.parent.iterdir()] == ["test.npz"]  # no temp file left


def test_load_rejects_a_foreign_file(tmp_path):
    bad = tmp_path / "x.npz"
    np.savez(bad, a=np.zeros(3))
    with pytest.raises(ValueError, match="not a fer-studio predictions file"):
        Predictions.load(bad)


def test_should_stop_cancels_between_batches(tiny_model, faces):
    seen = []
    with pytest.raises(Cancelled):
        _collect(tiny_model, faces, progress=lambda f, d: seen.append(f), should_stop=lambda: len(seen) >= 1)
    assert seen == [8 / 20]


def test_flip_tta_averages_the_views_and_keeps_plain_features(tiny_model, faces):
    plain = _collect(tiny_model, faces)
    tta = _collect(tiny_model, faces, tta="flip")
    images, _ = faces
    x = (torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255 - 0.5) / 0.25
    with torch.no_grad():
        expected = (tiny_model(x).softmax(1) + tiny_model(x.flip(-1)).softmax(1)).numpy() / 2
    np.testing.assert_allclose(tta.probs, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(tta.features, plain.features, rtol=1e-6)
    np.testing.assert_array_equal(tta.y_pred, expected.argmax(1))
    assert tta.tta == "flip"


def test_one_forward_per_batch_for_a_fer_model(tiny_model, faces):
    _collect(tiny_model, faces)  # 20 faces in batches of 8: features and logits from one pass each
    assert tiny_model.calls == 3
