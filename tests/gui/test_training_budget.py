"""A time-budgeted run on the training page (issue #25): the epoch total follows the plan, a
budget line says what is used and left with the latest re-plan, and the LR plot draws the
planned schedule; a run without a budget shows none of it."""
import os

import pytest

from fer_engine.config import RunConfig
from fer_engine.recipe.schedule import BudgetLR
from fer_engine.training import events as ev
from fer_engine.training.rundir import RunDir
from fer_studio.pages.training_page import TrainingPage
from fer_studio.run_curves import RunCurves
from fer_studio.state import AppState
from fer_studio.widgets.run_progress import budget_line

T0 = 1_000_000.0  # event times: the budget counts wall time between events
SPE = 4  # steps per epoch
CAP = 30  # train.epochs: the most a plan may fit
FIRST = BudgetLR.first(0.01, 0.0, 0.1, 2, 5 * SPE, start=2)
REPLAN = FIRST.stretched(2 * SPE, 4 * SPE)
SLOWER = "slower: 0.2 s/step vs 0.1 planned"


def _plan(rid, used_s, epochs, before, at_step, lr, reason):
    return ev.BudgetPlanned(run_id=rid, budget_s=60.0, used_s=used_s, epochs=epochs, epochs_before=before,
                            steps_per_epoch=SPE, sec_per_step=0.1, reserve_s=2.0, reason=reason,
                            at_step=at_step, lr=lr.to_json(), time=T0 + used_s)


def budgeted_events(rid):
    """A run with a 1-minute budget: planned 5 epochs at step 2, re-planned to 4 after epoch 2."""
    return [ev.RunStarted(run_id=rid, run_dir="", device="cpu", epochs=CAP, steps_per_epoch=SPE, num_train=16,
                          num_val=8, class_names=("happy", "sad"), time=T0),
            _plan(rid, 5.0, 5, None, 2, FIRST, "first plan"),
            _plan(rid, 12.0, 4, 5, 2 * SPE, REPLAN, SLOWER)]


@pytest.fixture
def page(qtbot, tmp_path):
    p = TrainingPage(AppState(runs_root=tmp_path / "runs"))
    qtbot.addWidget(p)
    yield p
    p.shutdown()


def _budgeted_run(root, runs) -> RunDir:
    run = RunDir.create(root, RunConfig().replace(**{"train.epochs": CAP, "train.time_budget_min": 1.0}),
                        name="budgeted")
    run.write_status("running", pid=os.getpid())
    first, plan, replan = budgeted_events(run.run_id)
    run.append_event(first)
    run.append_event(plan)
    for e in (1, 2):
        runs.append_epoch(run, e, SPE)
    run.append_event(replan)
    for e in (3, 4):
        runs.append_epoch(run, e, SPE)
    run.append_event(ev.RunFinished(run_id=run.run_id, best_epoch=4, best_metric=0.9, monitor="val_acc",
                                    summary={"budget_s": 60.0, "budget_used_s": 55.0}))
    run.write_status("finished")
    return run


def test_a_reopened_budgeted_run_shows_its_plan_and_an_unbudgeted_run_none(qtbot, page, runs):
    run = _budgeted_run(page.state.runs_root, runs)
    page.watch(str(run.path))
    assert page.progress.bar.format().startswith("epoch 4/4 ")  # the plan's epochs, not the cap of 30
    line = page.progress.budget
    assert not line.isHidden()
    assert line.text() == (f"Budget 1 min · used 55 s · left 5 s · 4 epochs planned "
                           f"(re-planned after epoch 2: {SLOWER})")
    assert "at step 2: 5 epochs — first plan" in line.toolTip() and "after epoch 2: 5 → 4 epochs" in line.toolTip()
    plan = page.plots.plan_item
    assert plan in page.plots.plots["lr"].getPlotItem().items
    x, y = plan.getData()
    assert list(y) == pytest.approx(REPLAN.curve()) and len(y) == 4 * SPE
    assert x[0] == pytest.approx(1 / SPE) and x[-1] == pytest.approx(4.0)  # the step curves' epoch axis
    legend = page.plots.plots["lr"].getPlotItem().legend
    assert "planned" in [label.text for _, label in legend.items]

    plain = runs.write(page.state.runs_root, name="plain", epochs=2)
    page.watch(str(plain.path))
    assert page.progress.bar.format().startswith("epoch 2/2 ")
    assert line.isHidden() and line.text() == ""
    assert page.plots.plan_item is None and plan not in page.plots.plots["lr"].getPlotItem().items
    assert "planned" not in [label.text for _, label in legend.items]


def test_the_budget_counts_on_while_running_stops_with_the_run_and_a_resume_keeps_the_plan():
    c = RunCurves()
    c.extend(budgeted_events("r"))
    assert (c.epochs, c.budget_s, c.status) == (4, 60.0, "running")
    assert c.budget_used(now=T0 + 20.0) == pytest.approx(20.0)  # 12 s at the re-plan + 8 s since
    assert budget_line(c, now=T0 + 20.0).startswith("Budget 1 min · used 20 s · left 40 s · 4 epochs planned")
    assert "· used 1.2 min · over by 10 s ·" in budget_line(c, now=T0 + 70.0)  # a slowdown in the last epoch
    c.apply(ev.RunStopped(run_id="r", epoch=2, step=1, time=T0 + 15.0))
    assert c.budget_used(now=T0 + 500.0) == pytest.approx(15.0)
    c.apply(ev.RunStarted(run_id="r", run_dir="", device="cpu", epochs=CAP, steps_per_epoch=SPE, num_train=16,
                          num_val=8, class_names=("happy", "sad"), resumed_from_epoch=2, time=T0 + 100.0))
    assert c.epochs == 4 and c.budget_used(now=T0 + 110.0) == pytest.approx(25.0)
    assert budget_line(RunCurves(), now=T0) == ""
    fresh = RunCurves()  # a run without a budget: RunStarted's epochs stay the total
    fresh.apply(budgeted_events("f")[0])
    assert fresh.epochs == CAP and fresh.budget_used() is None and budget_line(fresh) == ""


def test_a_followed_run_redraws_its_plan_when_it_re_plans(qtbot, page):
    """A run another process trains (its event log tailed): the re-plan replaces the drawn plan."""
    run = RunDir.create(page.state.runs_root, RunConfig().replace(**{"train.time_budget_min": 1.0}), name="live")
    run.write_status("running", pid=os.getpid())
    first, plan, replan = budgeted_events(run.run_id)
    run.append_event(first)
    run.append_event(plan)
    page.watch(str(run.path))
    qtbot.waitUntil(lambda: page.plots.plan_item is not None, timeout=30_000)
    assert list(page.plots.plan_item.getData()[1]) == pytest.approx(FIRST.curve())
    assert "5 epochs planned" in page.progress.budget.text() and "re-planned" not in page.progress.budget.text()
    run.append_event(replan)
    qtbot.waitUntil(lambda: "re-planned after epoch 2" in page.progress.budget.text(), timeout=30_000)
    assert list(page.plots.plan_item.getData()[1]) == pytest.approx(REPLAN.curve())
    assert page.progress.bar.format().startswith("epoch 0/4 ")


def test_the_train_summary_says_the_budget_and_the_epoch_cap(page):
    page.state.set_config(RunConfig().replace(**{"train.epochs": 12}))
    assert "· 12 epochs ·" in page.summary.text() and "budget" not in page.summary.text()
    page.state.set_config(RunConfig().replace(**{"train.epochs": 12, "train.time_budget_min": 2.5}))
    assert "· time budget 2.5 min (at most 12 epochs) ·" in page.summary.text()
