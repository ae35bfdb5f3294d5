"""Events and the run directory: round trips, whole lines after a kill, status, metrics, runs list."""
from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from fer_engine.config import RunConfig
from fer_engine.training import events as ev
from fer_engine.training.rundir import RunDir, RunDirError
from fer_engine.training.runs_list import list_runs

ALL_EVENTS = [
    ev.RunStarted(run_id="r", run_dir="/x", device="cpu", epochs=3, steps_per_epoch=5, num_train=40,
                  num_val=8, class_names=("angry", "happy"), resumed_from_epoch=1),
    ev.Phase(run_id="r", phase="loading_data", detail="reading", fraction=0.5),
    ev.StepProgress(run_id="r", epoch=1, step=2, steps_per_epoch=5, global_step=2, loss=1.5, lr=0.1,
                    img_per_s=100.0, accuracy=0.25, f1=0.2),
    ev.BudgetPlanned(run_id="r", budget_s=900.0, used_s=30.0, epochs=12, epochs_before=14, steps_per_epoch=50,
                     sec_per_step=0.4, reserve_s=40.0, reason="slower", at_step=200,
                     lr={"base_lr": 0.1, "min_lr": 0.0, "warmup_start_factor": 0.1, "warmup_steps": 25,
                         "knots": [[25, 0.0], [600, 1.0]]}),
    ev.EpochMetrics(run_id="r", epoch=1, metrics={"val_acc": 0.5, "train_loss": 1.0}),
    ev.CheckpointSaved(run_id="r", epoch=1, kind="best", path="/x/checkpoints/best.pt"),
    ev.FoldStarted(run_id="r", fold=1, k=3, run_dir="/x/folds/fold-1"),
    ev.FoldFinished(run_id="r", fold=1, k=3, run_dir="/x/folds/fold-1", status="finished",
                    summary={"val_acc": 0.4}),
    ev.RunFinished(run_id="r", best_epoch=2, best_metric=0.7, monitor="val_acc",
                   summary={"test_acc": 0.6, "early_stopped": False}),
    ev.RunStopped(run_id="r", epoch=1, step=3),
    ev.RunFailed(run_id="r", error="ValueError: x", traceback="Traceback ...", hint="h"),
    ev.RunCrashed(run_id="r", exitcode=-9, message="killed"),
]


@pytest.fixture
def run(tmp_path) -> RunDir:
    return RunDir.create(tmp_path / "runs", RunConfig().replace(**{"model.backbone": "fer_cnn"}))


def test_every_event_round_trips_through_json():
    for e in ALL_EVENTS:
        assert ev.from_dict(json.loads(json.dumps(ev.to_dict(e)))) == e


def test_a_step_logged_before_it_carried_accuracy_and_f1_still_loads():
    old = {"type": "StepProgress", "run_id": "r", "time": 1.0, "epoch": 1, "step": 2, "steps_per_epoch": 5,
           "global_step": 2, "loss": 1.5, "lr": 0.1, "img_per_s": 100.0}
    e = ev.from_dict(old)
    assert (e.loss, e.accuracy, e.f1) == (1.5, None, None)


def test_event_log_keeps_whole_lines_and_skips_a_truncated_last_line(run):
    for e in ALL_EVENTS[:4]:
        run.append_event(e)
    with open(run.events_path, "a") as f:  # a kill in the middle of a write
        f.write('{"type": "StepProgress", "run_id": "r", "epo')
    assert run.read_events() == ALL_EVENTS[:4]
    run.repair()
    assert run.events_path.read_text().endswith("}\n")
    run.append_event(ALL_EVENTS[4])
    assert run.read_events() == ALL_EVENTS[:5]
    assert all(json.loads(line) for line in run.events_path.read_text().splitlines())


def test_an_event_write_cut_short_by_a_full_disk_leaves_only_whole_lines(run, monkeypatch):
    from fer_engine.training import rundir

    run.append_event(ALL_EVENTS[0])
    real_write = rundir.os.write

    def half_then_full(fd, data):
        if len(data) > 1:
            return real_write(fd, data[:len(data) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(rundir.os, "write", half_then_full)
    with pytest.raises(OSError):
        run.append_event(ALL_EVENTS[-2])
    assert run.events_path.read_bytes().endswith(b"\n")
    assert run.read_events() == [ALL_EVENTS[0]]


def test_run_id_is_sortable_and_unique(tmp_path):
    cfg = RunConfig()
    ids = [RunDir.create(tmp_path, cfg).run_id for _ in range(5)]
    assert len(set(ids)) == 5
    assert all(i.split("-")[2] == cfg.model.backbone for i in ids)
    stamps = [i[:15] for i in ids]  # YYYYmmdd-HHMMSS: string order is time order
    assert stamps == sorted(stamps) and all(s[8] == "-" and s.replace("-", "").isdigit() for s in stamps)


def test_running_status_of_a_dead_process_reads_as_crashed(run):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    run.write_status("running", pid=dead.pid)
    assert run.status().state == "crashed"
    run.write_status("running")  # this process: alive
    assert run.status().state == "running" and run.status().pid > 0
    with pytest.raises(RunDirError, match="still running"):
        run.delete()


def test_metrics_rows_replace_redone_epochs(run):
    for epoch in (1, 2, 3):
        run.write_metrics_row(epoch, {"train_loss": 1.0 / epoch, "val_acc": 0.1 * epoch})
    run.truncate_metrics(1)
    run.write_metrics_row(2, {"train_loss": 0.25, "val_acc": 0.5})
    rows = run.read_metrics()
    assert [r["epoch"] for r in rows] == [1, 2]
    assert rows[1]["val_acc"] == 0.5 and rows[0]["train_loss"] == 1.0


def test_runs_list_rename_and_delete(tmp_path, run):
    root = run.path.parent
    run.write_metrics_row(1, {"val_acc": 0.4})
    run.write_metrics_row(2, {"val_acc": 0.6})
    run.write_status("finished")
    run.rename("my baseline")
    other = RunDir.create(root, RunConfig().replace(**{"mix.mixup_alpha": 0.2}), name="mixup")
    rows = {s.name: s for s in list_runs(root)}
    assert set(rows) == {"my baseline", "mixup"}
    base = rows["my baseline"]
    assert (base.status, base.best_val_acc, base.epochs_done, base.backbone) == ("finished", 0.6, 2, "fer_cnn")
    assert math.isnan(rows["mixup"].best_val_acc) and rows["mixup"].status == "created"
    assert any("mix" in t for t in rows["mixup"].tricks)
    other.delete()
    assert [s.name for s in list_runs(root)] == ["my baseline"]
    assert RunDir.open(run.path).display_name == "my baseline"


def test_a_budgeted_run_lists_the_epochs_its_plan_fits_once_planned(tmp_path):
    root = tmp_path / "runs"
    run = RunDir.create(root, RunConfig().replace(**{"train.time_budget_min": 15.0, "train.epochs": 30}))
    assert list_runs(root)[0].epochs_planned == 30  # the cap, before the run has timed its steps
    run.write_budget({"budget_s": 900.0, "plan": {"epochs": 12}, "records": [], "used_s": 40.0})
    assert list_runs(root)[0].epochs_planned == 12


def test_open_refuses_a_folder_that_is_not_a_run(tmp_path):
    with pytest.raises(RunDirError, match="not found"):
        RunDir.open(tmp_path / "nope")
    with pytest.raises(RunDirError, match="no config.json"):
        RunDir.open(tmp_path)


def test_progress_events_are_not_fsynced_and_all_others_are(run, monkeypatch):
    import os

    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd)))
    for e in ALL_EVENTS:
        before = len(synced)
        run.append_event(e)
        assert len(synced) - before == (0 if isinstance(e, ev.PROGRESS) else 1), type(e).__name__
    assert any(isinstance(e, ev.PROGRESS) for e in ALL_EVENTS)
    assert run.read_events() == ALL_EVENTS
