"""The spawn worker seen from the parent: events through poll, failures, cooperative stop."""
from __future__ import annotations

from fer_engine.training import events as ev
from fer_engine.training.worker import start_run
from training_helpers import drain, tiny_config



def test_worker_trains_and_its_events_match_the_log(tiny_data, runs_root):
    handle = start_run(tiny_config(tiny_data, **{"train.epochs": 1}), runs_root, name="worker test")
    try:
        events = drain(handle)
        assert handle.join(30)
    finally:
        handle.close()
    assert isinstance(events[0], ev.Phase) and isinstance(events[-1], ev.RunFinished)
    assert all(e.run_id == handle.run_id for e in events)
    assert handle.run_dir.read_events() == events
    assert handle.run_dir.status().state == "finished"
    assert handle.run_dir.display_name == "worker test"
    assert handle.poll() == []  # closed: nothing more, and no synthesized crash


def test_an_exception_in_the_worker_becomes_run_failed_with_traceback(tiny_data, runs_root):
    cfg = tiny_config(tiny_data, **{"train.monitor": "val_accuracy"})  # refused inside the worker
    handle = start_run(cfg, runs_root)
    try:
        events = drain(handle)
        handle.join(30)
        assert handle._process.exitcode == 0  # the worker reported and ended normally
    finally:
        handle.close()
    failed = events[-1]
    assert isinstance(failed, ev.RunFailed)
    assert "train.monitor" in failed.error and "ConfigError" in failed.error
    assert "Traceback (most recent call last)" in failed.traceback
    status = handle.run_dir.status()
    assert status.state == "failed" and "train.monitor" in status.error


def test_stop_through_the_handle_ends_with_run_stopped(tiny_data, runs_root):
    cfg = tiny_config(tiny_data, **{"train.epochs": 500, "train.batch_size": 4})
    handle = start_run(cfg, runs_root)
    try:
        drain(handle, until=lambda e: isinstance(e, ev.StepProgress))
        handle.stop()
        events = drain(handle)
        assert handle.join(30)
    finally:
        handle.close()
    assert isinstance(events[-1], ev.RunStopped)
    assert handle.run_dir.status().state == "stopped"
    assert not any(isinstance(e, ev.RunCrashed) for e in events)
