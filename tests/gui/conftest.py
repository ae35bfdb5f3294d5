"""GUI tests: each test gets its own settings and runs folders; run directories written the
way the engine writes them (for tests that need runs but no training)."""
from __future__ import annotations

import os
from types import SimpleNamespace

import pytest

from fer_engine.config import RunConfig
from fer_engine.training import events as ev
from fer_engine.training.rundir import RunDir


@pytest.fixture(autouse=True)
def _own_settings_and_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("FER_STUDIO_CONFIG_DIR", str(tmp_path / "settings"))
    monkeypatch.setenv("FER_STUDIO_RUNS", str(tmp_path / "runs"))


@pytest.fixture
def runs():
    """`runs.write(root, ...)` makes a run directory; `runs.append_epoch(run, e, steps)` extends it."""
    return SimpleNamespace(write=write_run, append_epoch=append_epoch)


def write_run(root, name="cli-run", epochs=2, steps=3, status="finished", running_pid=None) -> RunDir:
    """A run dir with `epochs` epochs of step/epoch events; `status` "running" keeps it open."""
    cfg = RunConfig().replace(**{"train.epochs": epochs, "loss.label_smoothing": 0.1})
    run = RunDir.create(root, cfg, name=name)
    rid = run.run_id
    run.write_status("running", pid=running_pid or os.getpid())
    run.append_event(ev.RunStarted(run_id=rid, run_dir=str(run.path), device="cpu", epochs=epochs,
                                   steps_per_epoch=steps, num_train=30, num_val=10,
                                   class_names=("happy", "sad")))
    for e in range(1, epochs + 1):
        append_epoch(run, e, steps)
    if status != "running":
        run.append_event(ev.RunFinished(run_id=rid, best_epoch=epochs, best_metric=0.5 + 0.1 * epochs,
                                        monitor="val_acc", summary={}))
        run.write_status(status)
    return run


def append_epoch(run: RunDir, e: int, steps: int) -> None:
    rid = run.run_id
    for s in range(1, steps + 1):
        g = (e - 1) * steps + s
        run.append_event(ev.StepProgress(run_id=rid, epoch=e, step=s, steps_per_epoch=steps,
                                         global_step=g, loss=2.0 / g, lr=0.01 * s, img_per_s=100.0))
    m = {"train_loss": 1.0 / e, "train_acc": 0.4 + 0.1 * e, "val_loss": 1.2 / e,
         "val_acc": 0.5 + 0.1 * e, "val_f1": 0.45 + 0.1 * e}
    run.append_event(ev.EpochMetrics(run_id=rid, epoch=e, metrics=m))
    run.write_metrics_row(e, m)


@pytest.fixture
def tiny_config():
    """A run on the demo dataset with the tiny test backbone: a few batches per epoch, CPU."""
    def make(epochs: int = 2, steps: int = 3, **changes) -> RunConfig:
        base = {"model.backbone": "fer_cnn_tiny", "data.path": os.environ.get("FER_GUI_TEST_DATA", "demo"),
                "train.epochs": epochs,
                "train.max_steps_per_epoch": steps, "train.batch_size": 16, "train.device": "cpu",
                "eval.splits": [], "schedule.warmup_epochs": 0.0}
        return RunConfig().replace(**{**base, **changes})
    return make


def wait_for_end(qtbot, page, run_dir: str, timeout: int = 240_000) -> str:
    """Wait until the training page's monitor of `run_dir` has ended; its final status.

    A first run generates the demo set: on a loaded 2-core machine that alone took ~120 s.
    """
    qtbot.waitUntil(lambda: run_dir not in page.monitors, timeout=timeout)
    return page.curves[run_dir].status


@pytest.fixture
def wait_end():
    return wait_for_end


@pytest.fixture
def started(qtbot):
    """`started(page)` presses Train (or runs `action`) and returns the new run's directory."""
    def start(page, action=None, timeout: int = 60_000) -> str:
        with qtbot.waitSignal(page.runStarted, timeout=timeout) as blocker:
            (action or page.train)()
        return blocker.args[0]
    return start
