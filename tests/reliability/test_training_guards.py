"""A run that cannot mean anything is refused or stopped, and every warning is shown and kept
(issue 19, items 2, 4 and 7)."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "training"))
from training_helpers import tiny_config, write_split_folders  # noqa: E402

from fer_engine.cli import main  # noqa: E402
from fer_engine.config import DataConfig  # noqa: E402
from fer_engine.data import DatasetError, load_dataset  # noqa: E402
from fer_engine.training import events as ev  # noqa: E402
from fer_engine.training.checkpoint import load_checkpoint  # noqa: E402
from fer_engine.training.run import DIVERGED_HINT, fit  # noqa: E402
from fer_engine.training.rundir import RunDir  # noqa: E402

FAST = ["--backbone", "fer_cnn_tiny", "--epochs", "1", "--set", "data.image_size=16", "--set",
        "model.input_size=16", "--set", "train.batch_size=8", "--set", "train.device=cpu",
        "--set", "eval.splits=[]"]


@pytest.fixture(scope="module")
def faces(tmp_path_factory) -> Path:
    return write_split_folders(tmp_path_factory.mktemp("faces"), {"train": 16, "val": 6, "test": 6})


def _class_folders(root: Path, counts: dict[str, int]) -> Path:
    """One folder of class folders (split by the loader), `n` distinct faces per class."""
    rng = np.random.default_rng(0)
    for name, n in counts.items():
        (root / name).mkdir(parents=True)
        for i in range(n):
            Image.fromarray(rng.integers(0, 256, (16, 16), dtype=np.uint8), "L").save(root / name / f"{i}.png")
    return root


# -- item 2: a diverging run ---------------------------------------------------------------------
def test_infinite_lr_is_refused_before_a_run_exists(faces, tmp_path, capsys):
    runs = tmp_path / "runs"
    assert main(["train", "--data", str(faces), *FAST, "--set", "optim.lr=Infinity", "--out", str(runs)]) == 2
    assert "optim.lr must be a finite number, got inf" in capsys.readouterr().err
    assert not runs.exists()


def test_a_run_whose_loss_becomes_nan_fails_as_diverged_and_saves_no_nan_weights(faces, tmp_path):
    # a fixed std of 1e-38 turns every non-black pixel into inf: the first batch loss is NaN
    cfg = tiny_config(faces, **{"normalize.mode": "fixed", "normalize.mean": [0.0],
                                "normalize.std": [1e-38], "train.epochs": 2})
    run = RunDir.create(tmp_path / "runs", cfg)
    events: list[ev.Event] = []
    summary = fit(cfg, run, events.append, lambda: False)
    failed = events[-1]
    assert isinstance(failed, ev.RunFailed), events[-3:]
    assert failed.error.startswith("diverged at epoch 1 step 1: the training loss became")
    assert failed.hint == DIVERGED_HINT and "optim.lr" in failed.hint and "train.grad_clip" in failed.hint
    assert summary["status"] == run.status().state == "failed"
    assert not run.checkpoint_path("best").exists() and not run.checkpoint_path("last").exists()
    assert not any(isinstance(e, (ev.EpochMetrics, ev.RunFinished)) for e in events)


def test_divergence_after_a_good_epoch_keeps_that_epoch_as_best(faces, tmp_path, monkeypatch):
    import torch

    from fer_engine.training import loop

    cfg = tiny_config(faces, **{"train.epochs": 3, "eval.splits": []})
    run = RunDir.create(tmp_path / "runs", cfg)
    real = loop.Training._optimizer_step

    def poisoned(self):  # from epoch 2 on, an update that destroys the weights (lr far too high)
        real(self)
        if self.epoch >= 1:
            with torch.no_grad():
                next(self.model.parameters()).fill_(float("nan"))

    monkeypatch.setattr(loop.Training, "_optimizer_step", poisoned)
    events: list[ev.Event] = []
    fit(cfg, run, events.append, lambda: False)
    assert events[-1].error.startswith("diverged at epoch 2 step ")
    for kind in ("best", "last"):
        state = load_checkpoint(run.checkpoint_path(kind))
        assert state["epoch"] == 1 and all(torch.isfinite(t).all() for t in state["model"].values())


# -- item 4: config warnings ----------------------------------------------------------------------
def test_cli_prints_every_config_warning_before_training_and_records_it(faces, tmp_path, capsys):
    runs = tmp_path / "runs"
    assert main(["train", "--data", str(faces), *FAST, "--set", "sampler.balanced=true",
                 "--set", "loss.class_weights=inverse", "--out", str(runs)]) == 0
    err = capsys.readouterr().err
    warning = "warning: loss.class_weights: the balanced sampler already equalises classes"
    assert err.count(warning) == 1 and err.index(warning) < err.index("run ")
    (run_dir,) = runs.iterdir()
    run = RunDir(run_dir)
    assert any(w.startswith("loss.class_weights: the balanced sampler") for w in run.warnings())
    started = next(e for e in run.read_events() if isinstance(e, ev.RunStarted))
    assert any(n.startswith("warning: loss.class_weights") for n in started.notes)  # the GUI shows these


# -- item 7: degenerate datasets --------------------------------------------------------------------
def test_one_class_is_refused_by_the_cli_and_by_a_run(tmp_path, capsys):
    data = _class_folders(tmp_path / "one", {"happy": 12})
    runs = tmp_path / "runs"
    assert main(["train", "--data", str(data), *FAST, "--out", str(runs)]) == 2
    err = capsys.readouterr().err
    assert "has only one class to train on (happy): a classifier needs at least two" in err
    assert not runs.exists()
    cfg = tiny_config(data)
    run = RunDir.create(runs, cfg)
    events: list[ev.Event] = []
    assert fit(cfg, run, events.append, lambda: False)["status"] == "failed"
    assert "only one class" in events[-1].error


def test_a_class_too_small_for_every_split_is_warned_about(tmp_path):
    data = _class_folders(tmp_path / "thin", {"happy": 20, "sad": 20, "fear": 1})
    d = load_dataset(DataConfig(path=str(data), image_size=16, cache_dir=str(tmp_path / "c")))
    warnings = d.check_trainable(str(data))
    assert len(warnings) == 1
    assert warnings[0].startswith("class 'fear' has 1 image(s), none in val or test")
    with pytest.raises(DatasetError, match="only one class"):
        load_dataset(DataConfig(path=str(_class_folders(tmp_path / "solo", {"sad": 5})), image_size=16,
                                cache_dir=str(tmp_path / "c"))).check_trainable("solo")
