"""Out-of-fold predictions of a k-fold run, `fer-studio label-issues`, and label-overrides files
that later runs apply (the dataset itself is never modified)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from fer_engine.cli import main
from fer_engine.data import DatasetError, load_dataset
from fer_engine.scoring.predictions import Predictions
from fer_engine.training.run import fit
from fer_engine.training.rundir import RunDir
from fer_engine.recipe.folds import grouped_folds
from training_helpers import tiny_config, write_split_folders


@pytest.fixture
def flipped_data(tmp_path):
    """The tiny band faces with 3 training faces moved into a wrong class folder."""
    root = write_split_folders(tmp_path / "faces", {"train": 24, "val": 8, "test": 8})
    moved = []
    for src, dst in (("angry", "happy"), ("happy", "sad"), ("sad", "angry")):
        f = root / "train" / src / "0.png"
        target = root / "train" / dst / f"moved-from-{src}.png"
        f.rename(target)
        moved.append(str(target))
    return root, moved


def test_kfold_oof_predictions_feed_label_issues_and_overrides(flipped_data, tmp_path, capsys):
    """The plumbing from a k-fold run to an overrides file; how well flips are found is
    `tests/eval/test_label_issues.py`'s and `benchmarks/label_issues.py`'s job."""
    root, moved = flipped_data
    cfg = tiny_config(root, **{"kfold.k": 3, "train.epochs": 1, "train.max_steps_per_epoch": 3,
                               "data.cache_dir": str(tmp_path / "cache")})
    parent = RunDir.create(tmp_path / "runs", cfg)
    assert fit(cfg, parent, lambda e: None, lambda: False)["status"] == "finished"
    oof = Predictions.load(parent.predictions_path("oof"))
    assert oof.split == "oof" and sorted(oof.index.tolist()) == sorted(set(oof.index.tolist()))
    assert len(oof) == 72 + 24  # every train+val face once, predicted by the fold that did not train on it

    assert main(["label-issues", str(parent.path), "--json", "--mark-top", "3"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["split"] == "oof" and doc["faces"] == 96
    full = load_dataset(cfg.data)
    assert (oof.y_true == full.labels[oof.index]).all()  # oof rows are the dataset's faces, in place
    scores = [i["score"] for i in doc["issues"]]
    assert scores == sorted(scores) and len(scores) >= 3
    for i in doc["issues"]:  # each issue names its face and its given label in the dataset
        assert full.sources[i["position"]] == i["source"]
        assert full.class_names[full.labels[i["position"]]] == i["given"]
    top = [i["source"] for i in doc["issues"][:3]]
    written = doc["overrides_written"]
    assert written.endswith("faces-v1.json")
    ov = json.loads(open(written).read())
    assert sorted(ov["exclude"]) == sorted(top) and ov["version"] == 1

    data = load_dataset(cfg.data.__class__(**{**cfg.data.__dict__, "label_overrides": written}))
    assert not set(top) & set(data.sources) and len(data.sources) == 120 - 3
    assert any("3 excluded" in n for n in data.notes)
    assert (root / "train" / "happy" / "moved-from-angry.png").is_file()  # the dataset is untouched

    run = RunDir.open(doc["run_dir"])
    assert main(["label-issues", str(run.path), "--mark-top", "1", "--action", "relabel",
                 "--overrides", written]) == 0
    v2 = json.loads(open(written.replace("-v1", "-v2")).read())
    assert v2["based_on"] == written and len(v2["relabel"]) == 1 and len(v2["exclude"]) == 2


def test_label_issue_errors(tiny_data, tmp_path, capsys):
    run = RunDir.create(tmp_path / "runs", tiny_config(tiny_data))
    assert main(["label-issues", str(run.path)]) == 2
    assert "has no saved predictions" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format_version": 1, "relabel": {"x.png": "grumpy"}}))
    with pytest.raises(DatasetError, match="unknown class\\(es\\) to relabel to: grumpy"):
        load_dataset(tiny_config(tiny_data, **{"data.label_overrides": str(bad)}).data)


def test_grouped_folds_keep_each_subject_in_one_fold():
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(12), 5).astype(str)
    labels = rng.integers(0, 3, len(groups))
    folds = grouped_folds(labels, groups, 4, seed=1)
    seen = np.concatenate([va for _, va in folds])
    assert sorted(seen.tolist()) == list(range(len(groups)))
    for tr, va in folds:
        assert not set(groups[tr]) & set(groups[va])
    with pytest.raises(ValueError, match="needs at least 20 subjects; the data has 12"):
        grouped_folds(labels, groups, 20)
