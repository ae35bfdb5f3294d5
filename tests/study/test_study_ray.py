"""Studies through `--backend ray` on a local two-CPU Ray cluster: the demo study, ASHA's early
stop of a poor random sample, and a trial whose worker dies rerun from its last checkpoint."""
from __future__ import annotations

import json
import math
import os
import signal
import sys
from pathlib import Path

import pytest

from fer_engine.cli import main
from fer_engine.study.plan import expand
from fer_engine.study.ray_backend import init_ray, run_ray
from fer_engine.study.results import analyze
from fer_engine.study.spec import StudySpec
from fer_engine.study.studydir import StudyDir
from fer_engine.training import events as ev
from fer_engine.training.runs_list import list_runs

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "training"))
from training_helpers import tiny_config, write_split_folders  # noqa: E402

ray = pytest.importorskip("ray", reason="Ray is an optional extra: pip install 'fer-studio[cluster]'")


@pytest.fixture(scope="module")
def cluster():
    init_ray(num_cpus=2, include_dashboard=False)
    yield
    ray.shutdown()


def test_a_local_clusters_trials_run_at_the_callers_priority(cluster):
    """Ray's default nice 15 starved trials beside any busy process (the suite beside two
    busy loops crawled through the Ray tests)."""
    assert ray.get(ray.remote(lambda: os.nice(0)).remote()) == os.nice(0)


@pytest.fixture(scope="module")
def faces(tmp_path_factory) -> Path:
    """3 classes of 16x16 faces a good learning rate tells apart within one epoch (without flips:
    a flip swaps the bands of two classes)."""
    return write_split_folders(tmp_path_factory.mktemp("faces"), {"train": 48, "val": 8, "test": 8})


def _study(tmp_path: Path, faces: Path, **spec) -> StudyDir:
    """A study of fer_cnn_tiny on `faces` (3 epochs, seed 0) with `spec`'s variations."""
    base = tmp_path / "base.json"
    tiny_config(faces, **{"train.epochs": 3, "augment.hflip": 0.0}).save(base)
    path = tmp_path / "spec.json"
    path.write_text(json.dumps({"schema_version": 1, "base": {"config": str(base)}, "seeds": [0], **spec}))
    loaded = StudySpec.load(path)
    return StudyDir.create(tmp_path / "study", loaded, expand(loaded))


@pytest.mark.timeout(600)
def test_study_on_ray_trains_every_run_as_a_trial(cluster, demo_spec, tmp_path, capsys):
    out = tmp_path / "study"
    assert main(["study", "run", str(demo_spec), "--out", str(out), "--backend", "ray", "--no-probe",
                 "--cpus-per-run", "1"]) == 0
    study = StudyDir.open(out)
    assert set(study.states().values()) == {"finished"}
    assert len(list_runs(out / "runs")) == 4
    err = capsys.readouterr().err
    assert "[00-baseline-s0] epoch 1 val_acc" in err  # per-epoch results came back from the trials
    # the resume of a finished study trains nothing
    assert main(["study", "resume", str(out), "--backend", "ray"]) == 0
    assert "0 runs to train" in capsys.readouterr().err
    assert main(["study", "report", str(out), "--json", "--bootstrap", "300"]) == 0
    assert [v["seeds"] for v in json.loads(capsys.readouterr().out)["variants"]] == [2, 2]


@pytest.mark.timeout(300)
def test_asha_stops_a_poor_random_sample_early(cluster, faces, tmp_path):
    study = _study(tmp_path, faces, random={"samples": 2, "seed": 17, "asha": True, "grace_epochs": 1,
                                            "ranges": {"optim.lr": {"low": 1e-6, "high": 0.05, "log": True}}})
    # seed 17 draws a learning rate that learns these faces in one epoch, then one that learns nothing
    assert [v.changes for v in study.plan().variants[1:]] == [{"optim.lr": 0.009354}, {"optim.lr": 5.707e-06}]
    val_acc: dict[str, list[float]] = {}
    # one trial at a time: the good sample sets the bar at epoch 1 before the poor one gets there
    done = run_ray(study, parallel=1, cpus_per_run=1,
                   on_result=lambda key, r: val_acc.setdefault(key, []).append(r["val_acc"]))
    good, poor = "01-random-00-s0", "02-random-01-s0"
    assert done == {"00-baseline-s0": "finished", good: "finished", poor: "pruned"}
    assert len(val_acc[good]) == 3 and len(val_acc[poor]) == 1 and val_acc[poor][0] < val_acc[good][0]
    assert [m["epoch"] for m in study.run_dir(good).read_metrics()] == [1, 2, 3]
    assert len(study.run_dir(poor).read_metrics()) < 3  # fewer epochs than planned
    assert study.todo() == []  # a pruned sample is not rerun by `study resume`
    results = analyze(study, n_boot=200)
    note = next(n for n in results.notes if "stopped early by ASHA" in n)
    assert poor in note and good not in note and "of 3" in note
    assert not any("not finished" in n for n in results.notes)
    assert {v.name: v.seeds for v in results.variants} == {"baseline": 1, "random-00": 1, "random-01": 0}


@pytest.mark.timeout(300)
def test_a_trial_whose_worker_dies_is_rerun_from_its_last_checkpoint(cluster, faces, tmp_path):
    study = _study(tmp_path, faces)
    killed: list[int] = []

    def kill_once(key: str, result: dict) -> None:
        # the trial waits in its report of epoch 2: epoch 1's last.pt is on disk, epoch 2's is not
        if result["epoch"] == 2 and not killed:
            killed.append(result["pid"])
            os.kill(result["pid"], signal.SIGKILL)

    assert run_ray(study, cpus_per_run=1, on_result=kill_once) == {"00-baseline-s0": "finished"}
    assert killed
    run = study.run_dir("00-baseline-s0")
    events = run.read_events()
    assert [e.resumed_from_epoch for e in events if isinstance(e, ev.RunStarted)] == [0, 1]
    # epoch 1 trained once; epoch 2, whose checkpoint died with the worker, again
    assert [e.epoch for e in events if isinstance(e, ev.EpochMetrics)] == [1, 2, 2, 3]
    assert [m["epoch"] for m in run.read_metrics()] == [1, 2, 3]
    assert run.status().summary["epochs_done"] == 3
    result = analyze(study, n_boot=200).runs[0]
    assert result.state == "finished" and math.isfinite(result.accuracy) and math.isfinite(result.val_accuracy)
