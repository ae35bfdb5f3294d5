"""One run on several processes (torchrun + DistributedDataParallel), on CPU with gloo.

The multi-process tests start real torchrun launches of 2 CPU ranks, kept to a few tiny steps.
"""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from fer_engine.config import RunConfig
from fer_engine.devices import plan_devices
from fer_engine.training import distributed as D
from fer_engine.training import events as ev
from fer_engine.training.ddp_fit import RankRunDir, rank_error_path
from fer_engine.training.run import fit
from fer_engine.training.rundir import RunDir, load_run_model
from fer_engine.training.torchrun import root_cause
from fer_engine.training.worker import start_run
from fer_engine.recipe.checks import check_config
from training_helpers import drain, tiny_config

CPU2 = {"train.device": "cpu", "train.devices": "2"}


# -- plans, shards, reports (no processes) ----------------------------------------------------
def test_device_plans_for_gpus_and_cpu_processes():
    assert plan_devices("4", "auto", cuda_count=4).local == ("cuda:0", "cuda:1", "cuda:2", "cuda:3")
    two = plan_devices("cuda:1,3", "auto", nodes=2, cuda_count=4)
    assert (two.local, two.backend, two.world) == (("cuda:1", "cuda:3"), "nccl", 4)
    assert two.describe() == "2 GPUs cuda:1,3 (nccl) x 2 nodes"
    cpu = plan_devices("2", "cpu", cuda_count=0)
    assert (cpu.local, cpu.backend, cpu.distributed) == (("cpu", "cpu"), "gloo", True)
    assert not plan_devices("1", "auto", cuda_count=0).distributed


@pytest.mark.parametrize("devices, device, count, message", [
    ("2", "auto", 0, "this machine has no GPU; use train.devices=1, or train.device=cpu for 2 CPU processes"),
    ("4", "auto", 2, "train.devices=4 but this machine has 2 GPU(s)"),
    ("cuda:0,2", "auto", 2, "no GPU 2 on this machine"),
    ("cuda:0,0", "auto", 2, "lists a GPU twice"),
    ("2", "cuda:1", 2, "names one GPU; list several in train.devices"),
    ("two", "auto", 2, "train.devices must be a count like 2"),
])
def test_impossible_device_plans_say_what_to_change(devices, device, count, message):
    with pytest.raises(ValueError, match=None) as info:
        plan_devices(devices, device, cuda_count=count)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_config_check_refuses_devices_the_machine_lacks(monkeypatch):
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    errors = {p.key: p.message for p in check_config(RunConfig().replace(**{"train.devices": "2"}))
              if p.severity == "error"}
    assert "no GPU" in errors["train.devices"]
    cpu_sync = RunConfig().replace(**{**CPU2, "train.sync_bn": True})
    assert any(p.key == "train.sync_bn" and "CUDA" in p.message for p in check_config(cpu_sync))
    assert not [p for p in check_config(RunConfig().replace(**CPU2)) if p.severity == "error"]


@pytest.mark.parametrize("n, world", [(10, 2), (11, 2), (7, 3), (2, 4)])
def test_shards_are_distributed_samplers(n, world):
    from torch.utils.data import DistributedSampler

    order = np.random.default_rng(0).permutation(n)
    shards = [D.shard_order(order, r, world) for r in range(world)]
    for r, shard in enumerate(shards):
        sampler = DistributedSampler(range(n), num_replicas=world, rank=r, shuffle=False)
        assert shard.tolist() == [int(order[i]) for i in sampler]
    assert set(np.concatenate(shards)) == set(order)  # every sample, every epoch
    assert all(len(s) == D.shard_size(n, world) for s in shards)


def _failure(exitcode, at, sig=""):
    return SimpleNamespace(exitcode=exitcode, timestamp=at, signal_name=lambda: sig)


def test_the_root_cause_is_a_rank_that_died_not_one_that_lost_its_peer():
    failures = {0: _failure(1, 5), 1: _failure(-9, 7, "SIGKILL"), 2: _failure(-15, 6, "SIGTERM")}
    records = {0: {"error": "RuntimeError: Connection closed by peer", "peer_lost": True, "time": 4}}
    assert root_cause(failures, records)[:2] == (1, "rank 1 exited (killed by SIGKILL)")
    records[2] = {"error": "OutOfMemoryError: CUDA out of memory", "hint": "reduce", "peer_lost": False,
                  "time": 9}
    assert root_cause(failures, records)[:3] == (2, "rank 2: OutOfMemoryError: CUDA out of memory", "reduce")
    assert D.is_peer_lost("RuntimeError: [gloo/transport/tcp/pair.cc:561] Connection closed by peer")


def test_only_rank_0_writes_and_no_rank_writes_a_failure(tmp_path):
    run = RunDir.create(tmp_path, RunConfig())
    quiet, writer = RankRunDir(run.path, writer=False), RankRunDir(run.path, writer=True)
    quiet.write_metrics_row(1, {"train_loss": 1.0})
    quiet.append_event(ev.Phase(run_id=run.run_id, phase="training"))
    quiet.write_status("running")
    assert run.read_metrics() == [] and run.read_events() == [] and run.status().state == "created"
    writer.write_metrics_row(1, {"train_loss": 1.0})
    failed = ev.RunFailed(run_id=run.run_id, error="x", traceback="tb")
    writer.append_event(failed)
    writer.write_status("failed", error="x")
    assert len(run.read_metrics()) == 1 and run.read_events() == []
    assert writer.failure == failed and run.status().state == "created"


# -- real runs of 2 CPU processes -----------------------------------------------------------------
def _run(cfg: RunConfig, runs_root: Path, timeout: float = 240.0, until=lambda e: False, resume=None,
         devices=None):
    handle = start_run(cfg, runs_root, resume_dir=resume, devices=devices)
    return handle, drain(handle, timeout, until)


def _finish(handle) -> None:
    try:
        assert handle.join(60)
    finally:
        handle.close()


def test_two_processes_train_one_run_on_the_demo_set(runs_root):
    cfg = RunConfig().replace(**{**CPU2, "data.path": "demo", "model.backbone": "fer_cnn_tiny",
                                 "train.epochs": 2, "train.batch_size": 8, "train.max_steps_per_epoch": 4,
                                 "train.accumulate_steps": 2, "eval.tta": "flip"})
    handle, events = _run(cfg, runs_root)
    _finish(handle)
    run = handle.run_dir
    end = events[-1]
    assert isinstance(end, ev.RunFinished), end
    # the ranks' weights are equal after training (gradients synchronised once per accumulation group)
    assert end.summary["rank_weights_spread"] == 0.0
    assert (end.summary["world_size"], end.summary["global_batch"]) == (2, 32)  # 8 x 2 steps x 2 ranks
    started = [e for e in events if isinstance(e, ev.RunStarted)]
    assert len(started) == 1 and started[0].devices == ("cpu", "cpu") and started[0].global_batch == 32
    assert run.read_events() == events  # rank 0 alone wrote the log, and the watcher got all of it
    assert [r["epoch"] for r in run.read_metrics()] == [1, 2]
    steps = [e for e in events if isinstance(e, ev.StepProgress)]  # live curves
    assert steps and all(0 <= e.accuracy <= 1 and 0 <= e.f1 <= 1 for e in steps)  # rank 0's shard so far
    for part in ("config.json", "dataset.json", "preprocess.json", "checkpoints/last.pt", "checkpoints/best.pt",
                 "predictions/val.npz", "predictions/test.npz", "predictions/test-tta.npz"):
        assert (run.path / part).is_file(), part
    assert run.status().state == "finished" and not (run.path / "ranks").exists()
    from fer_engine.eval.analysis import open_analysis

    analysis = open_analysis(run, split="test")  # opens in Analysis
    assert analysis.confusion.sum() == 350
    model, pre = load_run_model(run)
    assert pre.class_names == analysis.class_names


def test_two_processes_learn_like_one_with_the_same_global_batch(tiny_data, runs_root, tmp_path):
    base = {"train.epochs": 3, "augment.hflip": 0.0, "eval.splits": ["val"]}
    one = tiny_config(tiny_data, **base, **{"train.batch_size": 8})
    single = fit(one, RunDir.create(tmp_path, one), lambda e: None, lambda: False)
    handle, events = _run(tiny_config(tiny_data, **base, **CPU2, **{"train.batch_size": 4}), runs_root)
    _finish(handle)
    assert isinstance(events[-1], ev.RunFinished), events[-1]
    double = events[-1].summary
    assert double["global_batch"] == single["global_batch"] == 8
    assert single["val_acc"] > 0.6 and double["val_acc"] > 0.6  # chance is 1/3
    assert abs(double["val_acc"] - single["val_acc"]) <= 0.15, (double["val_acc"], single["val_acc"])


def test_stop_on_two_processes_then_resume_on_one(tiny_data, runs_root):
    # A tiny epoch trains in about 0.1 s: enough epochs that the stop (polled every 0.25 s, sent
    # once the log watcher shows a checkpoint) lands before the end (CI ran out of 4 epochs first)
    epochs = 20
    cfg = tiny_config(tiny_data, **CPU2, **{"train.epochs": epochs, "train.batch_size": 4})
    handle, _ = _run(cfg, runs_root, until=lambda e: isinstance(e, ev.CheckpointSaved))
    handle.stop()
    events = drain(handle, 120)
    _finish(handle)
    assert isinstance(events[-1], ev.RunStopped), events[-1]
    run = handle.run_dir
    status = run.status()
    assert status.state == "stopped" and status.summary["resumable"]
    assert not (run.path / D.STOP_FILE).exists()
    assert "ChildFailedError" not in (run.path / "torchrun.log").read_text()  # every rank ended cleanly
    stopped_at = max(r["epoch"] for r in run.read_metrics())
    assert 1 <= stopped_at < epochs

    # resume on one process (in this one: the worker path is the one the other tests take)
    one = run.config().replace(**{"train.devices": "1"})
    resumed: list[ev.Event] = []
    summary = fit(one, run, resumed.append, lambda: False, resume=True)
    assert summary["status"] == "finished", summary
    started = next(e for e in resumed if isinstance(e, ev.RunStarted))
    assert started.resumed_from_epoch == stopped_at and started.devices == ("cpu",)
    assert [r["epoch"] for r in run.read_metrics()] == list(range(1, epochs + 1))
    assert summary["global_batch"] == 4


def test_resume_on_devices_this_machine_lacks_is_refused_before_starting(tmp_path, monkeypatch):
    from fer_engine.config import ConfigError

    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    run = RunDir.create(tmp_path, RunConfig().replace(**CPU2))
    run.write_status("stopped")
    with pytest.raises(ConfigError, match="train.devices=cuda:0,1 needs train.device auto or cuda"):
        start_run(None, tmp_path, resume_dir=run.path, devices="cuda:0,1")
    assert run.config().train.devices == "2"  # unchanged


def test_k_fold_on_two_processes_keeps_its_folds(tiny_data, runs_root):
    cfg = tiny_config(tiny_data, **CPU2, **{"train.epochs": 1, "train.batch_size": 4, "kfold.k": 2,
                                            "eval.splits": ["val"]})
    handle, events = _run(cfg, runs_root)
    _finish(handle)
    assert isinstance(events[-1], ev.RunFinished), events[-1]
    run = handle.run_dir
    folds = run.kfold()["folds"]
    assert [f["fold"] for f in folds] == [1, 2] and run.kfold()["done"] == 2
    for f in folds:
        child = RunDir.open(f["run_dir"])
        assert child.status().state == "finished" and child.status().summary["rank_weights_spread"] == 0.0
        assert child.checkpoint_path("best").is_file() and child.predictions_path("val").is_file()
    assert sum(isinstance(e, ev.FoldStarted) for e in events) == 2  # each fold once: rank 0's log
    assert (run.path / "kfold.csv").is_file()


def _rank_pid(run_path: Path, rank: int) -> int | None:
    for entry in Path("/proc").iterdir():
        try:
            cmd = (entry / "cmdline").read_bytes().split(b"\0")
            if b"fer_engine.training.ddp_fit" in cmd and str(run_path).encode() in cmd:
                env = (entry / "environ").read_bytes().split(b"\0")
                if f"RANK={rank}".encode() in env:
                    return int(entry.name)
        except (OSError, ValueError):
            continue
    return None


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="finds the rank's process in /proc")
def test_killing_one_rank_fails_the_run_within_the_bound(tiny_data, runs_root):
    cfg = tiny_config(tiny_data, **CPU2, **{"train.epochs": 1000, "train.batch_size": 4})
    handle, _ = _run(cfg, runs_root, until=lambda e: isinstance(e, ev.StepProgress))
    pid = _rank_pid(handle.run_dir.path, 1)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    killed = time.monotonic()
    events = drain(handle, 60)  # the bound: torchrun's monitor ends the other rank within seconds
    took = time.monotonic() - killed
    _finish(handle)
    end = events[-1]
    assert isinstance(end, ev.RunFailed), end
    assert end.error == "rank 1 exited (killed by SIGKILL)", end.error
    assert "torchrun.log" in end.hint
    status = handle.run_dir.status()
    assert status.state == "failed" and status.error == end.error
    assert _rank_pid(handle.run_dir.path, 0) is None  # no rank left behind
    assert took < 60
    assert not rank_error_path(handle.run_dir.path, 1).exists()
