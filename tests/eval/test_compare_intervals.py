"""Every accuracy carries its 95% interval; two runs on the same split are compared by a paired test."""
from __future__ import annotations

import json

import numpy as np
import pytest

from fer_engine.cli import main
from fer_engine.scoring.metrics import summary
from fer_engine.scoring.predictions import Predictions
from fer_engine.eval.report import format_summary
from fer_engine.scoring.stats import accuracy_interval, mcnemar
from fer_engine.training.runs_list import summarize_run
from fer_engine.training.run_files import DatasetInfo


def _preds(y_true, y_pred, k=3) -> Predictions:
    n = len(y_true)
    probs = np.eye(k, dtype=np.float32)[y_pred]
    return Predictions(index=np.arange(n), y_true=np.asarray(y_true), y_pred=np.asarray(y_pred), probs=probs,
                       logits=np.log(probs + 1e-6), losses=np.zeros(n, np.float32),
                       features=np.zeros((n, 2), np.float32), class_names=["angry", "happy", "sad"])


def test_evaluate_summary_and_report_carry_the_wilson_interval():
    y = np.arange(200) % 3
    pred = np.where(np.arange(200) < 150, y, (y + 1) % 3)  # 150 of 200 right
    s = summary(_preds(y, pred), train_counts=[10, 10, 10])
    assert s["accuracy"] == 0.75
    iv = accuracy_interval(150, 200)
    assert s["accuracy_ci95"] == [iv.low, iv.high] and iv.low < 0.75 < iv.high
    assert s["prior_corrected"]["accuracy_ci95"][0] < s["prior_corrected"]["accuracy"]
    assert f"0.7500 [{iv.low:.4f}, {iv.high:.4f}]" in format_summary(s)


def test_runs_list_shows_the_interval_of_the_best_val_accuracy(fake_runs):
    run = fake_runs.make("synthA")
    run.write_dataset(DatasetInfo(splits={"train": 100, "val": 400, "test": 400}))
    run.write_metrics_row(1, {"val_acc": 0.5})
    run.write_metrics_row(2, {"val_acc": 0.6})
    s = summarize_run(run)
    iv = accuracy_interval(240, 400)
    assert s.best_val_acc == 0.6 and s.best_val_acc_ci == (iv.low, iv.high)


def test_compare_two_runs_on_the_same_split(fake_runs, capsys):
    a, b = fake_runs.make("synthA", seed=0), fake_runs.make("synthA", seed=1)
    assert main(["compare", str(a.path), str(b.path), "--device", "cpu", "--json"]) == 0
    c = json.loads(capsys.readouterr().out)
    pa = Predictions.load(a.predictions_path("test"))
    pb = Predictions.load(b.predictions_path("test"))
    assert c["faces"] == len(pa) == 10
    assert c["accuracy_a"] == pytest.approx(np.mean(pa.y_pred == pa.y_true))
    assert c["difference"] == pytest.approx(np.mean(pb.y_pred == pb.y_true) - c["accuracy_a"])
    assert c["p_mcnemar"] == pytest.approx(mcnemar(pa.y_pred == pa.y_true, pb.y_pred == pb.y_true))
    assert c["significant"] == (c["p_mcnemar"] < 0.05)
    assert main(["compare", str(a.path), str(b.path), "--device", "cpu"]) == 0
    assert "exact McNemar p =" in capsys.readouterr().out


def test_compare_refuses_runs_on_different_faces(fake_runs, make_dataset, capsys):
    fake_runs.add_data("synthB", make_dataset(["angry", "happy", "sad"], n=60, seed=3))
    a, b = fake_runs.make("synthA"), fake_runs.make("synthB")
    assert main(["compare", str(a.path), str(b.path), "--device", "cpu"]) == 2
    err = capsys.readouterr().err.strip()
    assert "not evaluated on the same test faces" in err and len(err.splitlines()) == 1


def test_runs_page_compare_of_two_runs_says_whether_they_differ(qtbot, fake_runs, tmp_path, monkeypatch):
    from fer_studio.pages.runs_page import RunsPage
    from fer_studio.state import AppState

    monkeypatch.setenv("FER_STUDIO_CONFIG_DIR", str(tmp_path / "settings"))
    a, b = fake_runs.make("synthA", seed=0), fake_runs.make("synthA", seed=1)
    state = AppState(runs_root=fake_runs.root)
    page = RunsPage(state)
    qtbot.addWidget(page)
    monkeypatch.setattr(page, "_selected", lambda: [str(a.path), str(b.path)])
    with qtbot.waitSignal(state.message, timeout=60_000,
                          check_params_cb=lambda text: text.startswith("test split, B - A:")) as shown:
        page.compare_runs()
    assert "exact McNemar p =" in shown.args[0]
