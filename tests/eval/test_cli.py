from __future__ import annotations

import json

from fer_engine.cli import main


def test_evaluate_prints_metrics_and_a_named_confusion_matrix(fake_runs, capsys, tmp_path):
    run = fake_runs.make("synthA")
    assert main(["evaluate", str(run.path), "--out", str(tmp_path / "exp")]) == 0
    out = capsys.readouterr().out
    for text in ("accuracy", "macro-F1", "balanced accuracy", "prior-corrected (uniform)",
                 "confusion matrix", "true \\ pred"):
        assert text in out
    matrix = out[out.index("true \\ pred"):].splitlines()
    assert matrix[0].split()[-3:] == ["angry", "happy", "sad"]
    assert [line.split()[0] for line in matrix[1:4]] == ["angry", "happy", "sad"]
    assert sum(int(v) for line in matrix[1:4] for v in line.split()[1:]) == 10
    assert (tmp_path / "exp" / "confusion-test.svg").is_file()
    assert (tmp_path / "exp" / "metrics-test.csv").is_file()


def test_evaluate_json_with_tta_reports_both(fake_runs, capsys):
    run = fake_runs.make("synthA")
    assert main(["evaluate", str(run.path), "--split", "val", "--tta", "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["split"] == "val" and s["tta"] == "flip"
    assert set(s["without_tta"]) == {"accuracy", "accuracy_ci95", "macro_f1", "balanced_accuracy"}
    assert "accuracy" in s["prior_corrected"]


def test_evaluate_errors_are_one_clear_line(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert "not a run directory" in err and str(tmp_path / "nope") in err


def test_ensemble_command_creates_an_ensemble_run(fake_runs, capsys):
    a, b = fake_runs.make("synthA", seed=1), fake_runs.make("synthA", seed=2)
    out_dir = fake_runs.root / "my-ensemble"
    assert main(["ensemble", str(a.path), str(b.path), "--vote", "hard", "--out", str(out_dir)]) == 0
    out = capsys.readouterr().out
    assert "accuracy" in out and str(out_dir) in out
    assert json.loads((out_dir / "ensemble.json").read_text())["vote"] == "hard"
    assert main(["evaluate", str(out_dir), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["num_samples"] == 10
    b2 = fake_runs.make("synthA", class_names=("angry", "fear", "sad"))
    assert main(["ensemble", str(a.path), str(b2.path), "--out", str(fake_runs.root / "x")]) == 2
    assert "share class names" in capsys.readouterr().err
