from __future__ import annotations

import os

import numpy as np
import pytest

from fer_engine.scoring.metrics import summary
from fer_engine.scoring.predictions import Predictions
from fer_engine.eval.source import predictions_for, train_class_counts
from fer_engine.eval.store import map_labels


def test_predictions_are_computed_once_and_stored_in_the_run(fake_runs):
    run = fake_runs.make("synthA")
    first = predictions_for(run, "test")
    assert (run.path / "predictions" / "test.npz").is_file()
    assert fake_runs.forwards() > 0
    ds = fake_runs.datasets["synthA"]
    np.testing.assert_array_equal(first.y_true, ds.labels[ds.splits["test"]])
    calls = fake_runs.forwards()
    again = predictions_for(run, "test")
    assert fake_runs.forwards() == calls  # read from the run directory, the model did not run
    np.testing.assert_array_equal(again.probs, first.probs)
    predictions_for(run, "test", tta=True)
    assert (run.path / "predictions" / "test-tta.npz").is_file() and fake_runs.forwards() > calls


def test_a_new_checkpoint_invalidates_stored_predictions(fake_runs):
    run = fake_runs.make("synthA")
    predictions_for(run, "val")
    calls = fake_runs.forwards()
    best = run.checkpoint_path("best")
    st = best.stat()
    os.utime(best, (st.st_atime, st.st_mtime + 10))
    predictions_for(run, "val")
    assert fake_runs.forwards() > calls


def test_predictions_written_by_fit_without_a_stamp_are_trusted(fake_runs):
    run = fake_runs.make("synthA")
    p = predictions_for(run, "test")
    p.meta = {"run_dir": str(run.path), "checkpoint": "best"}  # what fit records
    p.save(run.predictions_path("test"))
    calls = fake_runs.forwards()
    assert predictions_for(run, "test").meta["checkpoint"] == "best"
    assert fake_runs.forwards() == calls


def test_map_labels_by_canonical_name_and_aliases():
    labels = np.array([0, 1, 2, 1])
    mapped = map_labels(["Happiness", "sadness", "disgust"], ["angry", "happy", "sad"], labels)
    np.testing.assert_array_equal(mapped, [1, 2, -1, 2])
    with pytest.raises(ValueError, match="share none"):
        map_labels(["disgust"], ["angry", "happy"], np.array([0]))


def test_another_dataset_with_a_subset_and_an_unknown_class(fake_runs, make_dataset):
    run = fake_runs.make("synthA")  # model classes angry, happy, sad
    other = fake_runs.add_data("synthB", make_dataset(["disgust", "happy", "sad"], n=36, seed=3))
    p = predictions_for(run, "test", data_path=other)
    stored = list((run.path / "predictions").glob("test@synthB-*.npz"))
    assert len(stored) == 1 and not (run.path / "predictions" / "test.npz").exists()
    ds = fake_runs.datasets["synthB"]
    names = np.array(ds.class_names)[ds.labels[ds.splits["test"]]]
    np.testing.assert_array_equal(p.y_true == -1, names == "disgust")
    np.testing.assert_array_equal(p.y_true[names == "happy"], 1)
    s = summary(p)
    assert s["present_classes"] == ["happy", "sad"]  # angry has no faces: no row
    assert s["num_excluded"] == (names == "disgust").sum() > 0
    assert s["excluded_classes"] == ["disgust"]
    assert len(s["confusion_matrix"][0]) == 3  # columns: every class the model can predict
    calls = fake_runs.forwards()
    predictions_for(run, "test", data_path=other)
    assert fake_runs.forwards() == calls


def test_train_counts_for_prior_correction_come_from_dataset_json(fake_runs):
    run = fake_runs.make("synthA")
    ds = fake_runs.datasets["synthA"]
    np.testing.assert_array_equal(train_class_counts(run), ds.class_counts("train"))
    s = summary(predictions_for(run), train_class_counts(run))
    assert "prior_corrected" in s


def test_missing_split_is_a_clear_error(fake_runs):
    run = fake_runs.make("synthA")
    with pytest.raises(ValueError, match="no 'holdout' split"):
        predictions_for(run, "holdout")


def test_damaged_stored_file_is_recomputed(fake_runs):
    run = fake_runs.make("synthA")
    predictions_for(run)
    run.predictions_path("test").write_bytes(b"garbage")
    p = predictions_for(run)
    assert isinstance(Predictions.load(run.predictions_path("test")), Predictions) and len(p) == 10


def test_stored_predictions_of_a_changed_dataset_are_recomputed(fake_runs, make_dataset):
    run = fake_runs.make("synthA")
    fake_runs.add_data("synthB", make_dataset(["happy", "sad"], n=24, seed=1))
    predictions_for(run, "test", data_path="synthB")
    grown = make_dataset(["happy", "sad"], n=36, seed=1)  # files were added to that folder
    fake_runs.add_data("synthB", grown)
    p = predictions_for(run, "test", data_path="synthB", dataset=grown)
    assert len(p) == len(grown.splits["test"])
