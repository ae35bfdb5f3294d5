"""`fer-studio train --budget`: the flag sets train.time_budget_min, a budgeted run prints its
plan and re-plans, counts its epochs by the plan, and ends with the time it used."""
from __future__ import annotations

import io
import json
import re

import pytest

from fer_engine.cli import build_parser, main
from fer_engine.cli.commands.train import EventPrinter, build_config
from fer_engine.training import events as ev
from fer_engine.training.rundir import RunDir
from fer_engine.training.run import fit
from fer_engine.training.runs_list import list_runs
from test_budget_run import budgeted, fake_clock
from test_cli_train import FAST

pytestmark = pytest.mark.timeout(240)


@pytest.mark.parametrize("flags, minutes", [
    (["--budget", "15m"], 15.0), (["--budget", "90s"], 1.5), (["--budget", "1h"], 60.0),
    (["--budget", "1h30m"], 90.0), (["--budget", "15"], 15.0),
    (["--preset", "quick-cpu", "--budget", "2.5m"], 2.5),  # the flag wins over the preset
    (["--budget", "15m", "--set", "train.time_budget_min=3"], 3.0),  # --set wins, as over --epochs
    (["--config", "{cfg}", "--budget", "1h"], 60.0),
    (["--config", "{cfg}"], 5.0),
])
def test_budget_flag_sets_time_budget_min(tmp_path, flags, minutes):
    cfg_file = tmp_path / "run.json"
    cfg_file.write_text(json.dumps({"data": {"path": "demo"}, "train": {"time_budget_min": 5.0}}))
    argv = ["train", "--data", "demo", *(f.replace("{cfg}", str(cfg_file)) for f in flags)]
    cfg, _ = build_config(build_parser().parse_args(argv))
    assert cfg.train.time_budget_min == pytest.approx(minutes)


def _started(epochs: int = 20) -> ev.RunStarted:
    return ev.RunStarted(run_id="r1", run_dir="/runs/r1", device="cpu", epochs=epochs, steps_per_epoch=50,
                         num_train=3200, num_val=400, class_names=("a", "b"))


def _planned(epochs: int, before: int | None, at_step: int, reason: str = "first plan") -> ev.BudgetPlanned:
    return ev.BudgetPlanned(run_id="r1", budget_s=900.0, used_s=30.0, epochs=epochs, epochs_before=before,
                            steps_per_epoch=50, sec_per_step=0.43, reserve_s=38.0, reason=reason,
                            at_step=at_step, lr={})


def _epoch(n: int) -> ev.EpochMetrics:
    return ev.EpochMetrics(run_id="r1", epoch=n, metrics={"train_loss": 1.0, "val_acc": 0.5, "epoch_time": 9.0})


def _finished(**summary) -> ev.RunFinished:
    return ev.RunFinished(run_id="r1", best_epoch=1, best_metric=0.5, monitor="val_acc",
                          summary={"val_acc": 0.5, "wall_time_s": 880.0, "peak_host_mb": 900.0, **summary})


def test_printer_shows_the_plan_the_replan_and_the_budget_used():
    out = io.StringIO()
    printer = EventPrinter(out, budget_s=900.0)
    for e in (_started(), _planned(14, None, 20), _epoch(1),
              _planned(12, 14, 200, "slower: 0.61 s/step vs 0.43 planned"), _epoch(5),
              _finished(budget_s=900.0, budget_used_s=876.0)):
        printer(e)
    text = out.getvalue()
    assert "up to 20 epochs x 50 steps within 15 min" in text
    assert ("  budget 15 min: 14 epochs planned (0.43 s/step measured over the first 20 steps; "
            "38 s kept for evaluation)\n") in text
    assert "epoch 1/14  train_loss" in text
    assert "  re-planned at epoch 4 (slower: 0.61 s/step vs 0.43 planned): 14 -> 12 epochs\n" in text
    assert "epoch 5/12  train_loss" in text
    assert "  budget 15 min, used 14.6 min\n" in text


def test_printer_of_a_resumed_budgeted_run_counts_the_plans_epochs():
    out = io.StringIO()
    printer = EventPrinter(out, budget_s=900.0, planned_epochs=14)
    for e in (_started(), _epoch(2)):
        printer(e)
    assert "up to 20 epochs x 50 steps within 15 min (14 planned)" in out.getvalue()
    assert "epoch 2/14  train_loss" in out.getvalue()


def test_printer_of_an_unbudgeted_run_says_nothing_of_a_budget():
    out = io.StringIO()
    printer = EventPrinter(out)
    for e in (_started(), _epoch(1), _finished()):
        printer(e)
    text = out.getvalue()
    assert "run r1 on cpu: 3200 train / 400 val faces, 20 epochs x 50 steps\n  /runs/r1\n" in text
    assert "epoch 1/20  train_loss" in text and "budget" not in text


def test_train_with_a_budget_prints_its_plan_and_records_it(tiny_data, tmp_path, capsys):
    runs = tmp_path / "runs"
    assert main(["train", "--data", str(tiny_data), *FAST, "--epochs", "2", "--budget", "2m",
                 "--out", str(runs)]) == 0
    err = capsys.readouterr().err
    (summary,) = list_runs(runs)
    budget = RunDir.open(summary.path).budget()
    assert budget is not None and budget["budget_s"] == 120.0 and budget["plan"]["epochs"] == 2, budget
    assert "up to 2 epochs x 9 steps within 2 min" in err, err
    assert re.search(r"\n  budget 2 min: 2 epochs planned \([\d.e-]+ s/step measured over the first 9 steps; "
                     r"\d+ s kept for evaluation\)\n", err), err
    assert "epoch 2/2" in err and re.search(r"\n  budget 2 min, used [\d.]+ (s|min)\n", err), err


def test_resuming_a_budgeted_run_counts_by_its_plan(tiny_data, tmp_path, capsys, monkeypatch):
    fake_clock(monkeypatch, lambda k: 1.0)  # 1 s/step: 2 of the 4 epochs fit in 30 s
    cfg = budgeted(tiny_data, **{"train.epochs": 4, "train.time_budget_min": 0.5})
    stopped = RunDir.create(tmp_path / "runs", cfg)
    flag = {"stop": False}

    def stop_after_epoch_1(e):
        flag["stop"] = flag["stop"] or isinstance(e, ev.EpochMetrics)

    assert fit(cfg, stopped, stop_after_epoch_1, lambda: flag["stop"])["status"] == "stopped"
    planned = stopped.budget()["plan"]["epochs"]
    assert planned < 4
    assert main(["train", "--resume", str(stopped.path)]) == 0
    err = capsys.readouterr().err
    assert f"up to 4 epochs x 9 steps within 30 s ({planned} planned), resumed after epoch 1" in err, err
