from __future__ import annotations

import numpy as np
import torch

from fer_engine.eval.ensemble import create_ensemble
from fer_engine.eval.predictor import EnsemblePredictor, RunPredictor, load_predictor, to_stored_format


def test_faces_of_any_size_and_mode_become_the_stored_format():
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (2, 37, 53, 3), dtype=np.uint8)
    out = to_stored_format(rgb, 12, 1)
    assert out.shape == (2, 12, 12, 1) and out.dtype == np.uint8
    gray = np.full((1, 20, 20, 1), 77, np.uint8)
    assert (to_stored_format(gray, 12, 3) == 77).all()


def test_run_predictor_matches_the_stored_predictions(fake_runs):
    run = fake_runs.make("synthA")
    pred = load_predictor(run.path, device="cpu")
    assert isinstance(pred, RunPredictor) and pred.class_names == ["angry", "happy", "sad"]
    ds = fake_runs.datasets["synthA"]
    faces = ds.images[ds.splits["test"]]  # already in the stored format: identical inputs
    from fer_engine.eval.source import predictions_for

    stored = predictions_for(run, "test")
    np.testing.assert_allclose(pred.predict_faces(faces), stored.probs, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(pred.features(faces), stored.features, rtol=1e-5, atol=1e-6)
    big = np.repeat(np.repeat(faces, 4, axis=1), 4, axis=2)  # 48x48 faces are shrunk back to 12
    probs = pred.predict_faces(big)
    assert probs.shape == (len(faces), 3) and np.allclose(probs.sum(1), 1, atol=1e-5)
    assert pred.predict_faces(faces[:0]).shape == (0, 3)


def test_ensemble_predictor_votes_its_members(fake_runs):
    a, b = fake_runs.make("synthA", seed=1), fake_runs.make("synthA", seed=2)
    ens = create_ensemble([a.path, b.path], "soft", fake_runs.root / "ens")
    pred = load_predictor(ens.path, device="cpu")
    assert isinstance(pred, EnsemblePredictor) and len(pred.members) == 2
    faces = np.random.default_rng(3).integers(0, 256, (5, 30, 30, 3), dtype=np.uint8)
    expected = (RunPredictor(a.path, "cpu").predict_faces(faces) + RunPredictor(b.path, "cpu").predict_faces(faces)) / 2
    np.testing.assert_allclose(pred.predict_faces(faces), expected, rtol=1e-5, atol=1e-6)
    assert isinstance(pred.members[0].model, torch.nn.Module)
