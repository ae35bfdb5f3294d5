"""The time-budget planner on a fake clock: no sleeping, no training."""
from __future__ import annotations

import json

import pytest

from fer_engine.recipe.schedule import BudgetLR
from fer_engine.training.budget import (BudgetError, EvalCost, format_duration, parse_budget,
                                        plan_budget, replan)

pytestmark = pytest.mark.timeout(30)

SPE, VAL_S, END_S, PROBE, SETUP_S = 100, 5.0, 20.0, 10, 30.0


def run_on_fake_clock(budget_s: float, speed, replan_every: int = SPE):
    """A budgeted run whose step `k` takes `speed(k)` seconds: probe steps, plan, then epochs
    (steps + a validation pass), re-planning every `replan_every` steps from the speed seen
    since the last check. Returns (clock when training ended, final plan, plans in order)."""
    clock, step = SETUP_S, 0
    for _ in range(PROBE):
        clock, step = clock + speed(step), step + 1
    plan = plan_budget(budget_s, clock, step, (clock - SETUP_S) / PROBE, SPE, EvalCost(VAL_S, END_S),
                       warmup_steps=50, base_lr=0.1, min_lr=0.001)
    plans = [plan]
    check_clock, check_step = clock, step
    while step < plan.total_steps:
        clock, step = clock + speed(step), step + 1
        if step % SPE == 0:
            clock += VAL_S
        if step % replan_every == 0 or step % SPE == 0:
            seen = (clock - check_clock - VAL_S * (step // SPE - check_step // SPE)) / (step - check_step)
            new = replan(plan, clock, step, step // SPE, seen)
            check_clock, check_step = clock, step
            if new is not None:
                plan = new
                plans.append(plan)
    return clock, plan, plans


def test_a_steady_run_ends_on_time_with_the_reserve_and_wastes_less_than_an_epoch():
    budget = 15 * 60.0
    end_of_training, plan, plans = run_on_fake_clock(budget, lambda k: 0.5)
    assert len(plans) == 1 and plan.epochs >= 2
    assert end_of_training + plan.reserve_s <= budget
    assert budget - (end_of_training + plan.reserve_s) < plan.epoch_s  # one more epoch would not fit
    assert plan.reserve_s >= END_S
    assert len(plan.epoch_deadlines) == plan.epochs
    assert plan.epoch_deadlines[-1] == pytest.approx(end_of_training)


def test_a_slowdown_mid_run_replans_fewer_epochs_and_still_ends_on_time():
    budget = 15 * 60.0
    end_of_training, plan, plans = run_on_fake_clock(budget, lambda k: 0.5 if k < 300 else 1.0)
    assert len(plans) >= 2
    slower = plans[1].record
    assert slower.reason.startswith("slower") and slower.epochs_after < slower.epochs_before
    assert end_of_training + plan.reserve_s <= budget
    first = plans[0]  # kept at the slower speed, the first plan would have overrun
    assert first.epoch_deadlines[-1] + (first.total_steps - 300) * 0.5 + first.reserve_s > budget
    json.dumps([p.record.as_json() for p in plans])  # the run directory's plan history


def test_replanning_every_n_steps_catches_a_slowdown_inside_an_epoch():
    budget = 15 * 60.0
    end_of_training, plan, plans = run_on_fake_clock(budget, lambda k: 0.5 if k < 250 else 0.9, replan_every=20)
    assert plans[1].record.at_step % SPE != 0  # re-planned mid-epoch, not at its end
    assert plans[1].epochs >= -(-plans[1].record.at_step // SPE)  # the epoch in progress is kept
    assert end_of_training + plan.reserve_s <= budget


def test_a_speed_up_adds_epochs_only_when_a_whole_epoch_fits():
    budget = 15 * 60.0
    _, _, plans = run_on_fake_clock(budget, lambda k: 0.5 if k < 200 else 0.47)
    assert len(plans) == 1  # 6% faster frees less than an epoch
    end_of_training, plan, plans = run_on_fake_clock(budget, lambda k: 0.5 if k < 200 else 0.3)
    assert plans[1].record.reason.startswith("faster") and plan.epochs > plans[0].epochs
    assert end_of_training + plan.reserve_s <= budget


def test_the_epochs_are_capped_by_max_epochs():
    plan = plan_budget(3600, 10, PROBE, 0.1, SPE, EvalCost(VAL_S, END_S), warmup_steps=50, base_lr=0.1,
                       max_epochs=3)
    assert plan.epochs == 3
    assert replan(plan, 20, SPE, 1, 0.01) is None


def test_a_budget_too_small_for_one_epoch_says_so_before_training():
    with pytest.raises(BudgetError) as err:
        plan_budget(60, 5.0, PROBE, 1.44, SPE, EvalCost(VAL_S, END_S), warmup_steps=50, base_lr=0.1)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith("budget 1 min is too small: one epoch takes ~2.5 min here (measured 1.44 s/step")
    assert "evaluation ~20 s" in message and message.endswith("give at least 3 min")
    # the suggested budget is enough
    plan_budget(3 * 60, 5.0, PROBE, 1.44, SPE, EvalCost(VAL_S, END_S), warmup_steps=50, base_lr=0.1)


def test_the_lr_stays_continuous_across_a_replan_and_ends_at_min_lr():
    _, plan, plans = run_on_fake_clock(15 * 60.0, lambda k: 0.5 if k < 300 else 1.0)
    first, last, at = plans[0], plans[-1], plans[1].record.at_step
    assert [last.lr.lr_at(k) for k in range(at + 1)] == pytest.approx([first.lr.lr_at(k) for k in range(at + 1)],
                                                                      rel=1e-12)
    curve = last.lr.curve() + [last.lr.lr_at(last.total_steps)]
    steps = [abs(b - a) for a, b in zip(curve[first.lr.warmup_steps:], curve[first.lr.warmup_steps + 1:])]
    assert max(steps) < 0.1 * 4 / last.total_steps  # no jump: at most a few times the mean slope
    assert curve[-1] == pytest.approx(0.001) and curve[0] == pytest.approx(0.01)
    assert max(curve) == pytest.approx(0.1)


def test_a_replan_inside_the_warmup_keeps_the_warmup_and_moves_the_cosine_end():
    lr = BudgetLR.first(0.1, 0.0, 0.1, warmup_steps=50, total_steps=1000)
    short = lr.stretched(20, 500)
    assert [short.lr_at(k) for k in range(51)] == [lr.lr_at(k) for k in range(51)]
    assert short.lr_at(500) == pytest.approx(0.0) and lr.lr_at(500) > 0.04


def test_estimated_eval_cost_comes_from_the_forward_speed():
    cost = EvalCost.estimate(forward_img_per_s=1000, val_images=3589, end_images=4 * 3589)
    assert cost.val_pass_s == pytest.approx(3.589) and cost.end_s == pytest.approx(14.356)


@pytest.mark.parametrize("text, seconds", [("15m", 900), ("90s", 90), ("1h", 3600), ("1h30m", 5400),
                                           ("15", 900), ("2.5m", 150), (" 1h 30m ", 5400), ("10min", 600),
                                           ("1m30s", 90), (7, 420)])
def test_parse_budget(text, seconds):
    assert parse_budget(text) == seconds


@pytest.mark.parametrize("text, says", [("15x", "not understood"), ("", "not understood"), ("m", "not understood"),
                                        ("-5", "not understood"), ("0", "must be more than 0"),
                                        ("0m", "must be more than 0")])
def test_parse_budget_errors_are_one_line(text, says):
    with pytest.raises(BudgetError, match=says) as err:
        parse_budget(text)
    assert "\n" not in str(err.value)


def test_format_duration():
    assert [format_duration(s) for s in (20, 60, 144, 5400, 7200)] == ["20 s", "1 min", "2.4 min", "1 h 30 min", "2 h"]
