"""`fer-studio train --preset <ensemble recipe>` trains every member as its own run and writes the vote."""
from __future__ import annotations

import json

import numpy as np

from fer_engine.cli import main
from fer_engine.eval.ensemble import ensemble_predictions
from fer_engine.eval.source import predictions_for
from fer_engine.presets import load_ensemble_recipe
from fer_engine.training.rundir import RunDir

TINY = ["--data", "demo", "--backbone", "fer_cnn_tiny", "--epochs", "1", "--set", "data.image_size=16",
        "--set", "model.input_size=16", "--set", "train.batch_size=8", "--set", "train.device=cpu",
        "--set", "train.max_steps_per_epoch=1", "--set", "eval.tta=none", "--set", "train.tensorboard=false"]


def test_ensemble_preset_trains_the_members_and_votes(tmp_path, capsys):
    runs = tmp_path / "runs"
    recipe = load_ensemble_recipe("quick-cpu-ensemble")
    assert main(["train", "--preset", "quick-cpu-ensemble", *TINY, "--out", str(runs)]) == 0
    err = capsys.readouterr().err
    (ens_dir,) = [p for p in runs.iterdir() if (p / "ensemble.json").exists()]
    assert f"ensemble directory: {ens_dir}" in err
    spec = json.loads((ens_dir / "ensemble.json").read_text())
    assert spec["vote"] == recipe.vote and len(spec["members"]) == len(recipe.members)
    members = [RunDir.open(p) for p in spec["members"]]
    assert [m.status().state for m in members] == ["finished"] * len(members)
    assert sorted(m.config().train.seed for m in members) == sorted(s["train.seed"] for _, s in recipe.members)
    voted = ensemble_predictions(ens_dir, "test", device="cpu")
    probs = np.mean([predictions_for(m, "test", device="cpu").probs for m in members], axis=0)
    np.testing.assert_allclose(voted.probs, probs, atol=1e-5)  # the recipe's soft vote
