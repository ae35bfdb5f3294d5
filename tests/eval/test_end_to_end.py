"""Real runs (tiny CNN trained by `fit` on synthetic face folders) through evaluation."""
from __future__ import annotations

import json

import numpy as np
import pytest

from fer_engine.cli import main
from fer_engine.config import RunConfig
from fer_engine.eval.analysis import open_analysis
from fer_engine.eval.predictor import load_predictor
from fer_engine.training.run import fit
from fer_engine.training.rundir import RunDir

SIZE = 16


def _write_faces(root, classes, per_split, seed=0):
    """root/<split>/<folder>/*.png; each canonical class a bright band at its own place."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    for split, n in per_split.items():
        for folder, band in classes.items():
            (root / split / folder).mkdir(parents=True, exist_ok=True)
            for i in range(n):
                img = rng.normal(60, 25, (SIZE, SIZE))
                img[:, band * SIZE // 3:(band + 1) * SIZE // 3] += 120
                Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "L").save(root / split / folder / f"{i}.png")
    return root


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Two finished runs on angry/happy/sad folders, and another dataset with renamed folders."""
    base = tmp_path_factory.mktemp("e2e")
    data = _write_faces(base / "faces", {"angry": 0, "happy": 1, "sad": 2},
                        {"train": 16, "val": 6, "test": 6})
    other = _write_faces(base / "other", {"Happiness": 1, "SADNESS": 2}, {"train": 2, "test": 5}, seed=1)
    runs = []
    for seed in (0, 1):
        cfg = RunConfig().replace(**{
            "data.path": str(data), "data.image_size": SIZE, "model.backbone": "fer_cnn_tiny",
            "model.input_size": SIZE, "train.epochs": 1, "train.batch_size": 16, "train.device": "cpu",
            "train.seed": seed, "optim.lr": 0.01, "eval.tta": "flip"})
        run = RunDir.create(base / "runs", cfg)
        assert fit(cfg, run, lambda e: None, lambda: False)["status"] == "finished"
        runs.append(run)
    return runs, other


def test_evaluate_a_trained_run(trained, capsys):
    (run, _), _ = trained
    assert main(["evaluate", str(run.path)]) == 0
    out = capsys.readouterr().out
    assert "accuracy" in out and "prior-corrected" in out
    matrix = out[out.index("true \\ pred"):].splitlines()[:4]
    assert matrix[0].split()[-3:] == ["angry", "happy", "sad"]
    assert sum(int(v) for line in matrix[1:] for v in line.split()[1:]) == 18
    status = json.loads((run.path / "status.json").read_text())
    assert main(["evaluate", str(run.path), "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["accuracy"] == pytest.approx(status["summary"]["test_acc"])  # fit's stored predictions


def test_evaluate_on_renamed_subset_folders(trained, capsys):
    (run, _), other = trained
    assert main(["evaluate", str(run.path), "--data", str(other), "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["present_classes"] == ["happy", "sad"] and s["num_samples"] == 10
    assert len(s["confusion_matrix"]) == 3
    assert list((run.path / "predictions").glob("test@other-*.npz"))


def test_ensemble_of_trained_runs_in_analysis_and_live(trained, capsys, tmp_path):
    (a, b), _ = trained
    out = tmp_path / "ens"
    assert main(["ensemble", str(a.path), str(b.path), "--vote", "soft", "--out", str(out), "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["num_samples"] == 18
    an = open_analysis(out, "val")
    assert len(an.images) == 18 and an.images.shape[1:] == (SIZE, SIZE, 1)
    probs = load_predictor(out, "cpu").predict_faces(an.images[:4])
    np.testing.assert_allclose(probs, open_analysis(out, "val").predictions.probs[:4], rtol=1e-4, atol=1e-5)
