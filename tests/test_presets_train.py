"""Every shipped preset and ensemble recipe loads and trains one step (tiny synthetic faces, CPU)."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from fer_engine.classes import FER2013_CLASSES
from fer_engine.presets import builtin_ensembles, builtin_presets, load_ensemble_recipe, load_preset
from fer_engine.training import events as ev
from fer_engine.training.run import fit
from fer_engine.training.rundir import RunDir

ONE_STEP = {"train.epochs": 1, "train.max_steps_per_epoch": 1, "train.batch_size": 8,
            "train.device": "cpu", "eval.splits": [], "model.pretrained": False}


@pytest.fixture(scope="module")
def faces(tmp_path_factory) -> str:
    """train/val/test folders of random 48x48 faces, 4/2/2 per class."""
    root, rng = tmp_path_factory.mktemp("faces"), np.random.default_rng(0)
    for split, n in (("train", 4), ("val", 2), ("test", 2)):
        for name in FER2013_CLASSES:
            (root / split / name).mkdir(parents=True)
            for i in range(n):
                Image.fromarray(rng.integers(0, 256, (48, 48), dtype=np.uint8)).save(root / split / name / f"{i}.png")
    return str(root)


def train_one_step(cfg, faces, root) -> RunDir:
    cfg = cfg.replace(**ONE_STEP, **{"data.path": faces})
    run = RunDir.create(root, cfg)
    events = []
    summary = fit(cfg, run, events.append, lambda: False)
    assert summary["status"] == "finished", summary
    steps = [e for e in events if isinstance(e, ev.StepProgress)]
    assert steps and np.isfinite(steps[-1].loss)
    return run


def test_the_issue_presets_are_shipped():
    assert {"quick-cpu", "resnet18-48", "seed-resnest50"} <= set(builtin_presets())
    assert "ensemble" in builtin_ensembles()
    r18, seed = load_preset("resnet18-48"), load_preset("seed-resnest50")
    assert (r18.model.backbone, r18.optim.name, r18.schedule.name, r18.eval.tta) == \
        ("resnet18_48", "sgd", "cosine", "tencrop")
    assert r18.mix.mixup_alpha > 0 and r18.loss.label_smoothing > 0
    assert (seed.model.backbone, seed.schedule.name) == ("resnest50d", "warm_restarts")


@pytest.mark.parametrize("name", builtin_presets())
def test_preset_trains_one_step(name, faces, tmp_path):
    train_one_step(load_preset(name), faces, tmp_path)


@pytest.mark.parametrize("name", builtin_ensembles())
def test_ensemble_recipe_trains_its_members_and_votes(name, faces, tmp_path):
    from fer_engine.eval.ensemble import create_ensemble, ensemble_predictions
    from fer_engine.eval.source import predictions_for

    recipe = load_ensemble_recipe(name)
    configs = recipe.member_configs()
    assert len({(c.model.backbone, c.train.seed) for c in configs}) == len(configs)  # distinct members
    runs = [train_one_step(cfg, faces, tmp_path / "runs") for cfg in configs]
    ens = create_ensemble([r.path for r in runs], recipe.vote, tmp_path / "ensemble")
    voted = ensemble_predictions(ens, "test", device="cpu")
    member = [predictions_for(r, "test", device="cpu") for r in runs]
    assert voted.probs.shape == (2 * len(FER2013_CLASSES), len(FER2013_CLASSES))
    if recipe.vote == "soft":
        np.testing.assert_allclose(voted.probs, np.mean([m.probs for m in member], axis=0), atol=1e-5)
