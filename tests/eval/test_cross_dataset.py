"""Cross-dataset evaluation: every face of another dataset (split "all"), runs x datasets matrix,
classes outside a model's set reported."""
from __future__ import annotations

import json

import numpy as np

from fer_engine.cli import main
from fer_engine.eval.cross_dataset import cross_dataset_matrix
from fer_engine.eval.source import predictions_for


def test_split_all_scores_every_face_of_another_dataset(fake_runs, make_dataset):
    other = fake_runs.add_data("synthB", make_dataset(["angry", "happy", "sad", "contempt"], n=40, seed=3))
    run = fake_runs.make("synthA")
    preds = predictions_for(run, "all", other)
    assert len(preds) == 40 and (~preds.known).sum() == 10  # the contempt faces: unknown to the model
    assert sorted(preds.index.tolist()) == list(range(40))
    test_only = predictions_for(run, "test", other)
    assert len(test_only) < 40


def test_matrix_of_runs_and_datasets_in_the_cli(fake_runs, make_dataset, capsys):
    fake_runs.add_data("synthB", make_dataset(["angry", "happy", "sad", "contempt"], n=40, seed=3))
    a, b = fake_runs.make("synthA", seed=1, name="a"), fake_runs.make("synthA", seed=2, name="b")
    m = cross_dataset_matrix([str(a.path), str(b.path)], ["own", "synthB"])
    own, other = m.cell(str(a.path), "own"), m.cell(str(a.path), "synthB")
    assert own.faces == 30 and own.excluded == 0
    assert other.faces == 30 and other.excluded == 10 and other.excluded_classes == ["contempt"]
    assert 0.0 <= other.accuracy <= 1.0 and not other.error
    assert main(["evaluate-matrix", "--runs", str(a.path), str(b.path), "--data", "own", "synthB", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert len(doc["cells"]) == 4 and doc["split"] == "all"
    assert main(["evaluate-matrix", "--runs", str(a.path), "--data", "synthB"]) == 0
    text = capsys.readouterr().out
    assert "10 face(s) of contempt left out" in text
    cell = next(c for c in doc["cells"] if c["run"] == str(a.path) and c["data"] == "synthB")
    assert np.isclose(cell["accuracy"], other.accuracy)
