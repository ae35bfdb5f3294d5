"""A real study through the CLI on the demo set: run, stop, resume (nothing finished reruns), report."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fer_engine.cli import main
from fer_engine.study.studydir import StudyDir
from fer_engine.training.rundir import RunDir
from fer_engine.training.runs_list import list_runs

REPO = Path(__file__).resolve().parents[2]


def _cli(*args: str) -> subprocess.Popen:
    """The study CLI with SIGINT ignored, as a script's background job inherits it: its Ctrl-C /
    Stop must work all the same (it did not, and the study trained on)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-m", "fer_engine.cli", "study", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))


def _wait_finished(run: Path, proc: subprocess.Popen, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if RunDir(run).config_path.is_file() and RunDir(run).status().state == "finished":
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.2)
    raise AssertionError(f"{run} did not finish in {timeout} s")


@pytest.mark.timeout(900)
def test_study_run_stop_resume_report(demo_spec, tmp_path, capsys):
    out = tmp_path / "study"
    proc = _cli("run", str(demo_spec), "--out", str(out), "--no-probe")
    try:
        _wait_finished(out / "runs" / "00-baseline-s0", proc)
        proc.send_signal(signal.SIGINT)  # Ctrl-C: the active run stops cleanly, nothing new starts
        _, err = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert f"continue with: fer-studio study resume {out}" in err
    study = StudyDir.open(out)
    states = study.states()
    finished = {k for k, s in states.items() if s == "finished"}
    assert "00-baseline-s0" in finished and len(finished) < 4, states
    assert set(states.values()) <= {"finished", "stopped", "pending"}, states
    logs = {k: study.run_dir(k).events_path.read_bytes() for k in finished}

    proc = _cli("resume", str(out))
    stdout, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    assert set(study.states().values()) == {"finished"}
    for key, log in logs.items():  # finished runs were not run again
        assert study.run_dir(key).events_path.read_bytes() == log, key
        assert f"[{key}]" not in err
    assert "baseline" in stdout and "-hflip" in stdout and "effect 95% CI" in stdout

    # every run directory is an ordinary run: the runs list reads them
    listed = list_runs(out / "runs")
    assert len(listed) == 4 and {s.status for s in listed} == {"finished"}

    capsys.readouterr()
    assert main(["study", "report", str(out), "--json", "--bootstrap", "500"]) == 0
    report = json.loads(capsys.readouterr().out)
    base, hflip = report["variants"]
    assert (base["name"], base["seeds"], hflip["name"], hflip["seeds"]) == ("baseline", 2, "-hflip", 2)
    assert hflip["effect_interval"][0] <= hflip["effect"] <= hflip["effect_interval"][1]
    assert hflip["verdict"] in ("helps", "no detectable effect", "hurts") and report["faces"] == 350
    assert main(["study", "report", str(out), "--md", "--bootstrap", "500"]) == 0
    assert "| variant | seeds | accuracy | acc 95% CI |" in capsys.readouterr().out
    assert main(["study", "report", str(out), "--csv", "--bootstrap", "500"]) == 0
    assert capsys.readouterr().out.splitlines()[2].startswith("-hflip,augment.hflip=0.0,2,")


@pytest.mark.timeout(120)
def test_a_bad_spec_trains_nothing(demo_spec, tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**json.loads(demo_spec.read_text()), "ablate": {"tricks": ["hflip", "nope"]}}))
    assert main(["study", "run", str(bad), "--out", str(tmp_path / "never")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("fer-studio: error: ablate: unknown trick 'nope'; switchable tricks: ")
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "never").exists()
    assert main(["study", "report", str(tmp_path)]) == 2
    assert "not a study directory" in capsys.readouterr().err
