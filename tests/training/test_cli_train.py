"""`fer-studio train`: bad inputs give one clear message, exit 2 and no run; a run and its resume."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fer_engine.cli import main
from fer_engine.training import events as ev
from fer_engine.training.run import fit
from fer_engine.training.rundir import RunDir
from fer_engine.training.runs_list import list_runs
from training_helpers import tiny_config

FAST = ["--backbone", "fer_cnn_tiny", "--epochs", "1", "--set", "data.image_size=16",
        "--set", "model.input_size=16", "--set", "train.batch_size=8", "--set", "train.device=cpu"]


def _bad_inputs(root: Path) -> dict[str, Path]:
    from PIL import Image

    empty_class = root / "empty_class"
    for name in ("happy", "sad"):
        (empty_class / "train" / name).mkdir(parents=True)
    for i in range(3):
        Image.fromarray(np.full((16, 16), 40 * i, np.uint8)).save(empty_class / "train" / "happy" / f"{i}.png")
    (root / "no_images").mkdir()
    (root / "no_images" / "notes.txt").write_text("not a face")
    good_row = "0," + " ".join(["128"] * 2304) + ",Training"
    (root / "bad.csv").write_text(f"emotion,pixels,Usage\n{good_row}\n3,1 2 3,Training\n")
    return {"empty_class": empty_class, "no_images": root / "no_images", "bad_csv": root / "bad.csv"}


@pytest.mark.parametrize("args, message", [
    (lambda d, t: ["--data", str(d / "nowhere")], "dataset not found: .*nowhere"),
    (lambda d, t: ["--data", str(t["empty_class"])], r"class folder .*sad holds no images"),
    (lambda d, t: ["--data", str(t["no_images"])], "no_images holds no images"),
    (lambda d, t: ["--data", str(t["bad_csv"])], r"bad.csv: 1 malformed row.*line 3: 3 pixel values"),
    (lambda d, t: ["--data", str(d), "--backbone", "resnet_999"], "unknown backbone 'resnet_999'"),
    (lambda d, t: ["--data", str(d), "--set", "optim.lrr=0.1"], "unknown config key: optim.lrr"),
    (lambda d, t: ["--data", str(d), "--set", "train.batch_size=0"], "train.batch_size: must be in \\[1, 65536\\]"),
    (lambda d, t: ["--data", str(d), "--config", str(d / "missing.json")], "config file not found"),
    (lambda d, t: [], "no dataset: give --data"),
    (lambda d, t: ["--resume", str(d)], "not a run directory"),
    (lambda d, t: ["--data", str(d), "--devices", "cuda:0,0"], "train.devices: .*lists a GPU twice"),
    (lambda d, t: ["--data", str(d), "--budget", "15 minutes"], "budget '15 minutes' not understood"),
    (lambda d, t: ["--data", str(d), "--budget", "0m"], "budget '0m' must be more than 0"),
    (lambda d, t: ["--data", str(d), "--budget", "200h"], r"train.time_budget_min: must be in \[0, 10080\]"),
    (lambda d, t: ["--resume", str(d), "--budget", "5m"], "other options are not allowed"),
], ids=["missing-path", "empty-class", "no-images", "malformed-csv", "unknown-backbone",
        "unknown-key", "bad-value", "missing-config", "no-data", "resume-not-a-run", "devices-twice",
        "budget-not-understood", "budget-zero", "budget-too-long", "budget-on-resume"])
def test_bad_input_one_message_exit_2_and_no_run(tiny_data, tmp_path, capsys, args, message):
    import re

    runs = tmp_path / "runs"
    bad = _bad_inputs(tmp_path / "bad")
    assert main(["train", *args(tiny_data, bad), "--out", str(runs)]) == 2
    err = capsys.readouterr().err
    assert err.count("fer-studio: error: ") == 1 and re.search(message, err), err
    assert not runs.exists() or not any(runs.iterdir())


def test_train_then_resume_a_stopped_run(tiny_data, tmp_path, capsys):
    runs = tmp_path / "runs"
    assert main(["train", "--data", str(tiny_data), *FAST, "--out", str(runs), "--name", "cli run"]) == 0
    err = capsys.readouterr().err
    (summary,) = list_runs(runs)
    assert summary.status == "finished" and summary.name == "cli run"
    assert f"run directory: {summary.path}" in err and "val_acc" in err and "test_acc" in err
    assert main(["train", "--resume", str(summary.path)]) == 2
    assert "already finished" in capsys.readouterr().err

    cfg = tiny_config(tiny_data, **{"train.epochs": 2})
    stopped = RunDir.create(runs, cfg)
    flag = {"stop": False}

    def stop_after_epoch_1(e):
        flag["stop"] = flag["stop"] or isinstance(e, ev.EpochMetrics)

    assert fit(cfg, stopped, stop_after_epoch_1, lambda: flag["stop"])["status"] == "stopped"
    assert main(["train", "--resume", str(stopped.path)]) == 0
    err = capsys.readouterr().err
    assert "resumed after epoch 1" in err and "epoch 2/2" in err, err
    assert stopped.status().state == "finished"
    assert [r["epoch"] for r in stopped.read_metrics()] == [1, 2]


def test_sigterm_stops_the_run_cleanly_and_leaves_no_worker(tiny_data, tmp_path):
    """`kill`, `timeout` or a scheduler's preemption: the worker stops resumable, it is not orphaned."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from fer_engine.training.rundir import _pid_alive

    runs = tmp_path / "runs"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen([sys.executable, "-m", "fer_engine.cli", "train", "--data", str(tiny_data), *FAST,
                             "--epochs", "500", "--out", str(runs)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 240
        while not list(runs.glob("*/checkpoints/last.pt")) and time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.1)
        (run_path,) = [p.parents[1] for p in runs.glob("*/checkpoints/last.pt")]
        worker = RunDir(run_path).status().pid
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    status = RunDir(run_path).status()
    assert status.state == "stopped" and status.summary["resumable"], (status, err)
    assert worker and not _pid_alive(worker)
