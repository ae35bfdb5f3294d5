from __future__ import annotations

import numpy as np
import pytest

from fer_engine.eval.analysis import open_analysis
from fer_engine.eval.ensemble import create_ensemble
from fer_engine.progress import Cancelled


def test_analysis_bundles_faces_predictions_and_metrics(fake_runs):
    run = fake_runs.make("synthA")
    seen = []
    a = open_analysis(run.path, "test", progress=lambda f, d: seen.append(f))
    ds = fake_runs.datasets["synthA"]
    idx = ds.splits["test"]
    np.testing.assert_array_equal(a.images, ds.images[idx])  # row i is the face of prediction i
    assert a.sources == [ds.sources[i] for i in idx]
    assert a.confusion.sum() == len(idx) and a.class_names == ["angry", "happy", "sad"]
    assert seen[-1] == 1.0 and seen == sorted(seen)
    for t in range(3):
        for p in range(3):
            rows = a.cell(t, p)
            assert np.all(a.predictions.y_true[rows] == t) and np.all(a.predictions.y_pred[rows] == p)
    assert sum(len(a.cell(t, p)) for t in range(3) for p in range(3)) == len(idx)
    np.testing.assert_array_equal(a.mistakes(), np.flatnonzero(a.predictions.y_true != a.predictions.y_pred))
    e = a.embedding("pca")
    assert e.points.shape == (len(idx), 2) and a.embedding("pca") is e
    assert "prior_corrected" in a.summary()


def test_reopen_reads_the_stored_predictions(fake_runs):
    run = fake_runs.make("synthA")
    open_analysis(run.path)
    calls = fake_runs.forwards()
    a = open_analysis(run.path)
    assert fake_runs.forwards() == calls and len(a.predictions) == len(a.images)


def test_analysis_of_an_ensemble_and_of_another_dataset(fake_runs, make_dataset):
    a, b = fake_runs.make("synthA", seed=1), fake_runs.make("synthA", seed=2)
    ens = create_ensemble([a.path, b.path], "hard", fake_runs.root / "ens")
    an = open_analysis(ens.path, "val")
    assert len(an.images) == len(fake_runs.datasets["synthA"].splits["val"])
    assert an.predictions.features.shape[1] == 16
    fake_runs.add_data("synthC", make_dataset(["happy", "sad"], n=24, seed=5))
    other = open_analysis(a.path, "test", data_path="synthC")
    np.testing.assert_array_equal(other.present_rows, [1, 2])


def test_cancel_during_prediction(fake_runs):
    run = fake_runs.make("synthA")
    with pytest.raises(Cancelled):
        open_analysis(run.path, should_stop=lambda: True)
    assert not run.predictions_path("test").exists()
