"""Worker and run-directory faults: kill, OOM, stop at awkward moments, full or read-only disk, many runs."""
from __future__ import annotations

import errno
import gc
import json
import multiprocessing
import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "training"))
from training_helpers import drain, tiny_config, write_split_folders  # noqa: E402

from fer_engine.training import events as ev  # noqa: E402
from fer_engine.training.checkpoint import load_checkpoint  # noqa: E402
from fer_engine.training.run import DISK_HINT, OOM_HINT, fit  # noqa: E402
from fer_engine.training.rundir import RunDir  # noqa: E402
from fer_engine.training.worker import RunHandle, start_run  # noqa: E402


@pytest.fixture(scope="module")
def faces(tmp_path_factory) -> Path:
    return write_split_folders(tmp_path_factory.mktemp("faces"), {"train": 24, "val": 8, "test": 8})



# -- SIGKILL --------------------------------------------------------------------------------------
def test_sigkill_mid_epoch_is_reported_within_2s_and_resume_continues(faces, tmp_path):
    cfg = tiny_config(faces, **{"train.epochs": 1000, "train.batch_size": 4, "eval.splits": []})
    handle = start_run(cfg, tmp_path / "runs")
    try:
        drain(handle, until=lambda e: isinstance(e, ev.StepProgress) and e.epoch >= 3)
        os.kill(handle.pid, signal.SIGKILL)
        killed = time.monotonic()
        events = drain(handle, timeout=10)
        reported = time.monotonic() - killed
    finally:
        handle.close()
    assert isinstance(events[-1], ev.RunCrashed) and events[-1].exitcode == -signal.SIGKILL
    assert reported < 2.0
    run = RunDir.open(handle.run_dir.path)
    assert run.status().state == "crashed"
    for line in run.events_path.read_text().splitlines():  # every line whole
        json.loads(line)
    pts = sorted(p.name for p in run.checkpoints_dir.glob("*.pt"))
    assert pts == ["best.pt", "last.pt"] or pts == ["last.pt"]
    last_epoch = load_checkpoint(run.checkpoint_path("last"))["epoch"]  # complete and loadable
    assert last_epoch >= 2

    resumed = start_run(None, tmp_path / "runs", resume_dir=run.path)
    try:
        events = drain(resumed, until=lambda e: isinstance(e, ev.EpochMetrics))
        resumed.stop()
        events += drain(resumed)
    finally:
        resumed.close()
    started = next(e for e in events if isinstance(e, ev.RunStarted))
    assert started.resumed_from_epoch == last_epoch
    assert next(e for e in events if isinstance(e, ev.EpochMetrics)).epoch == last_epoch + 1
    assert isinstance(events[-1], ev.RunStopped)
    assert not list(run.path.rglob("*.tmp"))


# -- OOM ------------------------------------------------------------------------------------------
def _worker_that_runs_out_of_memory(*args) -> None:
    """The real worker, with the optimiser step raising what CUDA raises when memory runs out."""
    from fer_engine.training import loop
    from fer_engine.training.worker import _worker_main

    def out_of_memory(self):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    loop.Training._optimizer_step = out_of_memory
    _worker_main(*args)


class _OOMHandle(RunHandle):
    _target = staticmethod(_worker_that_runs_out_of_memory)


def test_out_of_memory_in_the_worker_fails_with_a_hint(faces, tmp_path):
    run = RunDir.create(tmp_path / "runs", tiny_config(faces))
    handle = _OOMHandle(run, run.config(), resume=False)
    try:
        events = drain(handle, timeout=120)
    finally:
        handle.close()
    failed = events[-1]
    assert isinstance(failed, ev.RunFailed) and "OutOfMemoryError" in failed.error
    assert failed.hint == OOM_HINT and "train.accumulate_steps" in failed.hint
    assert run.status().state == "failed" and run.status().hint == OOM_HINT


# -- stop at awkward moments ----------------------------------------------------------------------
def _stop_when(cfg, root, trigger):
    run = RunDir.create(root, cfg)
    flag = {"stop": False}
    events: list[ev.Event] = []

    def emit(e):
        events.append(e)
        flag["stop"] = flag["stop"] or trigger(e)

    summary = fit(cfg, run, emit, lambda: flag["stop"])
    return run, events, summary


def test_stop_during_data_loading(faces, tmp_path):
    cfg = tiny_config(faces, **{"data.cache_dir": str(tmp_path / "cold_cache")})  # a real decode
    run, events, summary = _stop_when(cfg, tmp_path, lambda e: isinstance(e, ev.Phase) and e.phase == "loading_data")
    assert summary["status"] == "stopped" and run.status().state == "stopped"
    assert not any(isinstance(e, (ev.RunStarted, ev.StepProgress)) for e in events)
    assert isinstance(events[-1], ev.RunStopped) and summary["resumable"] is False


def test_stop_during_validation_keeps_the_previous_epoch(faces, tmp_path):
    run, events, summary = _stop_when(
        tiny_config(faces, **{"train.epochs": 3}), tmp_path,
        lambda e: isinstance(e, ev.Phase) and e.phase == "validating" and e.detail == "epoch 2")
    assert summary["status"] == "stopped" and summary["resumable"] is True
    assert [r["epoch"] for r in run.read_metrics()] == [1]
    assert load_checkpoint(run.checkpoint_path("last"))["epoch"] == 1


def test_stop_during_checkpoint_saving_leaves_complete_checkpoints(faces, tmp_path):
    run, events, summary = _stop_when(
        tiny_config(faces, **{"train.epochs": 3}), tmp_path,
        lambda e: isinstance(e, ev.Phase) and e.phase == "saving" and e.detail == "epoch 2")
    assert summary["status"] == "stopped" and summary["resumable"] is True
    last = load_checkpoint(run.checkpoint_path("last"))
    assert last["epoch"] == 2  # the write in progress completes; the stop comes after it
    assert load_checkpoint(run.checkpoint_path("best"))["epoch"] <= 2
    assert not list(run.checkpoints_dir.glob(".*.tmp"))
    resumed: list[ev.Event] = []
    assert fit(run.config(), run, resumed.append, lambda: False, resume=True)["status"] == "finished"
    assert next(e for e in resumed if isinstance(e, ev.RunStarted)).resumed_from_epoch == 2


# -- the disk -------------------------------------------------------------------------------------
def test_read_only_runs_folder_is_a_clear_error_and_creates_nothing(faces, tmp_path, monkeypatch):
    runs = tmp_path / "runs"
    runs.mkdir()
    real_mkdir = Path.mkdir

    def read_only(self, *a, **k):  # tests run as root, where chmod does not stop writes
        if runs in self.parents:
            raise OSError(errno.EROFS, "Read-only file system", str(self))
        return real_mkdir(self, *a, **k)

    monkeypatch.setattr(Path, "mkdir", read_only)
    with pytest.raises(OSError, match=f"cannot create a run in {runs}: Read-only file system"):
        start_run(tiny_config(faces), runs)
    assert list(runs.iterdir()) == []

    from fer_engine.cli import main

    assert main(["train", "--data", str(faces), "--backbone", "fer_cnn_tiny", "--set", "data.image_size=16",
                 "--out", str(runs)]) == 2
    assert list(runs.iterdir()) == []


def test_disk_full_mid_run_fails_clearly_and_keeps_earlier_work(faces, tmp_path, monkeypatch):
    cfg = tiny_config(faces, **{"train.epochs": 3})
    run = RunDir.create(tmp_path / "runs", cfg)
    real_save, real_append = torch.save, RunDir.append_event
    full = {"now": False}

    def save(obj, f, *a, **k):
        if obj.get("epoch") == 2:
            full["now"] = True
        if full["now"]:
            f.write(b"\0" * 100)  # a partly written temp file
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_save(obj, f, *a, **k)

    def append(self, event):
        if full["now"]:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_append(self, event)

    monkeypatch.setattr(torch, "save", save)
    monkeypatch.setattr(RunDir, "append_event", append)
    events: list[ev.Event] = []
    summary = fit(cfg, run, events.append, lambda: False)
    failed = events[-1]
    assert isinstance(failed, ev.RunFailed)  # still reaches the watcher though the log is full
    assert failed.hint == DISK_HINT and failed.error.startswith("no space left on /")
    assert str(run.path) in failed.error
    assert summary["status"] == "failed" and run.status().state == "failed"
    assert load_checkpoint(run.checkpoint_path("last"))["epoch"] == 1  # earlier work intact
    assert [r["epoch"] for r in run.read_metrics()][0] == 1
    assert not list(run.checkpoints_dir.glob(".*.tmp"))
    assert not any(isinstance(e, ev.RunFailed) for e in run.read_events())


# -- many runs ------------------------------------------------------------------------------------
def _resources() -> dict[str, int]:
    gc.collect()
    with open("/proc/self/status") as f:
        rss_kb = next(int(line.split()[1]) for line in f if line.startswith("VmRSS"))
    return {"fds": len(os.listdir("/proc/self/fd")), "threads": threading.active_count(),
            "children": len(multiprocessing.active_children()), "rss_mb": rss_kb // 1024}


@pytest.mark.slow
@pytest.mark.timeout(900)  # 21 worker start-ups, each importing torch (about 3 s on 2 idle cores)
def test_twenty_runs_in_a_row_do_not_grow_resources(faces, tmp_path):
    cfg = tiny_config(faces, **{"train.epochs": 1, "train.max_steps_per_epoch": 1, "eval.splits": []})

    def one_run():
        handle = start_run(cfg, tmp_path / "runs")
        try:
            assert isinstance(drain(handle)[-1], ev.RunFinished)
            assert handle.join(30)
        finally:
            handle.close()

    one_run()  # warm-up: multiprocessing's resource tracker and imports
    before = _resources()
    for _ in range(20):
        one_run()
    after = _resources()
    assert after["fds"] <= before["fds"] + 2, (before, after)
    assert after["threads"] <= before["threads"] + 1, (before, after)
    assert after["children"] == before["children"] == 0, (before, after)
    assert after["rss_mb"] <= before["rss_mb"] + 50, (before, after)
    assert len(list((tmp_path / "runs").iterdir())) == 21
