"""The same demo study through `--backend ray` on a local two-CPU Ray cluster."""
from __future__ import annotations

import json

import pytest

from fer_engine.cli import main
from fer_engine.study.studydir import StudyDir
from fer_engine.training.runs_list import list_runs

ray = pytest.importorskip("ray", reason="Ray is an optional extra: pip install 'fer-studio[cluster]'")


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


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
