"""Smaller faults of the second pass (issue 19, item 8): a forced stop, the same run twice in an
ensemble, unsafe weights refused before a run folder exists, torch's unsafe advice dropped,
a damaged best.pt pointing to last.pt."""
from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "training"))
from training_helpers import drain, tiny_config, write_split_folders  # noqa: E402

from fer_engine.cli import main  # noqa: E402
from fer_engine.cli.commands.train import EventPrinter  # noqa: E402
from fer_engine.eval.ensemble import EnsembleError, create_ensemble  # noqa: E402
from fer_engine.models.weights import UnsafeCheckpointError, load_state_dict_file  # noqa: E402
from fer_engine.training import events as ev  # noqa: E402
from fer_engine.training.run import fit  # noqa: E402
from fer_engine.training.rundir import RunDir  # noqa: E402
from fer_engine.training.worker import start_run  # noqa: E402


class _Payload:
    def __reduce__(self):
        return (os.getpid, ())


@pytest.fixture(scope="module")
def faces(tmp_path_factory) -> Path:
    return write_split_folders(tmp_path_factory.mktemp("faces"), {"train": 16, "val": 6, "test": 6})


@pytest.fixture
def evil(tmp_path) -> Path:
    p = tmp_path / "evil.pt"
    torch.save({"w": torch.zeros(2), "x": _Payload()}, p)
    return p


def test_a_kill_after_ctrl_c_is_a_forced_stop_with_a_resume_hint(faces, tmp_path):
    cfg = tiny_config(faces, **{"train.epochs": 1000, "train.batch_size": 4, "eval.splits": []})
    handle = start_run(cfg, tmp_path / "runs")
    try:
        drain(handle, until=lambda e: isinstance(e, ev.StepProgress) and e.epoch >= 2)
        handle.kill()  # what a second Ctrl-C does
        end = drain(handle)[-1]
    finally:
        handle.join(10)
        handle.close()
    assert isinstance(end, ev.RunStopped) and end.forced and end.epoch >= 1
    status = RunDir(handle.run_dir.path).status()
    assert status.state == "stopped" and status.summary["forced"] and status.summary["resumable"]
    out = io.StringIO()
    EventPrinter(out)(end)
    assert out.getvalue().startswith(f"stopped, forced (second Ctrl-C) during epoch {end.epoch + 1}")


def test_an_ensemble_of_one_run_twice_is_refused(faces, tmp_path, capsys):
    run = RunDir.create(tmp_path / "runs", tiny_config(faces))
    with pytest.raises(EnsembleError, match="is listed twice"):
        create_ensemble([run.path, Path(str(run.path) + "/")], "soft", tmp_path / "ens")
    assert main(["ensemble", str(run.path), str(run.path), "--out", str(tmp_path / "ens")]) == 2
    assert "is listed twice" in capsys.readouterr().err
    assert not (tmp_path / "ens").exists()


def test_unsafe_weights_are_refused_before_a_run_folder_exists(faces, tmp_path, evil, capsys):
    runs = tmp_path / "runs"
    cfg = tiny_config(faces, **{"model.weights_path": str(evil)})
    with pytest.raises(UnsafeCheckpointError, match="refused to load"):
        start_run(cfg, runs)
    assert not runs.exists()
    assert main(["train", "--data", str(faces), "--backbone", "fer_cnn_tiny", "--set", "data.image_size=16",
                 "--set", f"model.weights_path={evil}", "--out", str(runs)]) == 2
    assert "refused to load" in capsys.readouterr().err and not runs.exists()


def test_the_refusal_does_not_repeat_torchs_advice_to_load_unsafely(evil):
    with pytest.raises(UnsafeCheckpointError) as info:
        load_state_dict_file(evil)
    text = str(info.value)
    assert "weights_only" not in text and "likely succeed" not in text
    assert "GLOBAL posix.getpid" in text and "re-save the weights" in text


def test_evaluate_with_a_damaged_best_checkpoint_offers_last(faces, tmp_path, capsys):
    cfg = tiny_config(faces, **{"train.epochs": 1, "eval.splits": []})
    run = RunDir.create(tmp_path / "runs", cfg)
    assert fit(cfg, run, lambda e: None, lambda: False)["status"] == "finished"
    best = run.checkpoint_path("best")
    best.write_bytes(best.read_bytes()[:1000])  # truncated
    assert main(["evaluate", str(run.path), "--device", "cpu"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "best.pt: not a readable PyTorch checkpoint" in err[0]
    assert err[0].endswith("its last.pt can be used instead (fer-studio evaluate --checkpoint last)")
    assert main(["evaluate", str(run.path), "--device", "cpu", "--checkpoint", "last"]) == 0
    assert "accuracy" in capsys.readouterr().out
    assert (run.predictions_dir / "test@last.npz").is_file()
