"""A really full disk (a tiny tmpfs): training and evaluate say so in one line and lose nothing
(issue 19, item 3). Mounting needs root; elsewhere these tests skip."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "training"))
from training_helpers import tiny_config, write_split_folders  # noqa: E402

from fer_engine.cli import main  # noqa: E402
from fer_engine.training import events as ev  # noqa: E402
from fer_engine.training.checkpoint import load_checkpoint, save_checkpoint  # noqa: E402
from fer_engine.training.run import DISK_HINT, fit  # noqa: E402
from fer_engine.training.rundir import RunDir  # noqa: E402


@pytest.fixture
def disk(tmp_path):
    """A 4 MiB tmpfs; `fill(leave)` fills it up to `leave` bytes free."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")

    def fill(leave: int = 0) -> None:
        with open(mnt / ".filler", "ab") as f:
            import os

            free = os.statvfs(mnt).f_bavail * os.statvfs(mnt).f_frsize
            try:
                f.write(b"\0" * max(free - leave, 0))
                f.flush()
            except OSError:
                pass
    try:
        yield mnt, fill
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


@pytest.fixture(scope="module")
def faces(tmp_path_factory) -> Path:
    return write_split_folders(tmp_path_factory.mktemp("faces"), {"train": 16, "val": 6, "test": 6})


def test_torch_save_on_a_full_disk_is_an_oserror_naming_the_disk(disk):
    import errno

    import torch

    mnt, fill = disk
    fill(0)
    with pytest.raises(OSError) as info:
        save_checkpoint(mnt / "last.pt", {"w": torch.zeros(100_000)})
    assert info.value.errno == errno.ENOSPC and "unexpected pos" not in str(info.value)
    assert not [p for p in mnt.iterdir() if p.name.endswith(".tmp")]


def test_training_on_a_disk_that_fills_fails_with_the_disk_named(disk, faces):
    mnt, fill = disk
    cfg = tiny_config(faces, **{"train.epochs": 3, "eval.splits": []})
    run = RunDir.create(mnt / "runs", cfg)
    events: list[ev.Event] = []

    def emit(e):
        events.append(e)
        if isinstance(e, ev.CheckpointSaved) and e.epoch == 1 and e.kind == "best":
            fill(16 * 1024)  # room for small files, not for a checkpoint

    summary = fit(cfg, run, emit, lambda: False)
    failed = events[-1]
    assert isinstance(failed, ev.RunFailed) and failed.hint == DISK_HINT
    assert failed.error.startswith(f"no space left on {mnt} (writing {run.path}")
    assert "enforce fail" not in failed.error and "unexpected pos" not in failed.error
    assert summary["status"] == "failed"
    assert run.status().state == "failed" and run.status().error == failed.error
    lines = run.events_path.read_bytes().split(b"\n")
    assert lines[-1] == b"" and all(json.loads(line) for line in lines[:-1])  # whole lines only
    assert load_checkpoint(run.checkpoint_path("last"))["epoch"] == 1


def test_status_and_event_log_on_a_disk_with_no_byte_free(disk):
    mnt, fill = disk
    run = RunDir.create(mnt / "runs", tiny_config(mnt))
    run.write_status("running")
    run.append_event(ev.Phase(run_id=run.run_id, phase="training", detail="x", fraction=0.1))
    before = run.events_path.read_bytes()
    fill(0)
    with pytest.raises(OSError):
        run.append_event(ev.Phase(run_id=run.run_id, phase="training", detail="x" * 20_000, fraction=0.2))
    assert run.events_path.read_bytes() == before  # no half line
    run.write_status("failed", error="no space left", hint=DISK_HINT)  # the old file's blocks
    assert run.status().state == "failed"


def test_evaluate_out_on_a_full_disk_is_one_line_and_leaves_no_folder(disk, faces, tmp_path, capsys):
    mnt, fill = disk
    cfg = tiny_config(faces, **{"train.epochs": 1, "eval.splits": []})
    run = RunDir.create(tmp_path / "runs", cfg)
    assert fit(cfg, run, lambda e: None, lambda: False)["status"] == "finished"
    fill(0)
    out = mnt / "exports"
    assert main(["evaluate", str(run.path), "--device", "cpu", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"fer-studio: error: no space left on {mnt} (writing {out}")
    assert not out.exists()
