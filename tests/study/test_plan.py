"""Study specs expand into checked variants and runs; every bad spec is a one-line error."""
from __future__ import annotations

import json

import pytest

from fer_engine.study.plan import BASELINE, add_seeds, expand
from fer_engine.study.spec import StudyError, StudySpec

BASE = {"preset": "quick-cpu", "set": {"data.path": "demo", "model.backbone": "fer_cnn_tiny", "train.epochs": 1}}


def spec(**kw) -> StudySpec:
    return StudySpec.from_dict({"base": BASE, **kw})


def test_leave_one_out_switches_each_trick_off_over_the_base():
    plan = expand(spec(ablate={"tricks": ["hflip", "label_smoothing"]}, seeds=[0, 1]))
    assert [v.name for v in plan.variants] == [BASELINE, "-hflip", "-label_smoothing"]
    assert [r.key for r in plan.runs][:3] == ["00-baseline-s0", "00-baseline-s1", "01-no-hflip-s0"]
    by = {(r.variant, r.seed): r.config for r in plan.runs}
    assert by["-hflip", 1].augment.hflip == 0 and by["-hflip", 1].train.seed == 1
    assert by["-hflip", 1].loss.label_smoothing == 0.1  # only the ablated trick changes
    assert by[BASELINE, 0].eval.splits == ["val", "test"] and by[BASELINE, 0].train.monitor == "val_acc"


def test_add_one_grid_and_random_variants():
    plan = expand(spec(ablate={"tricks": ["mixup"], "mode": "add-one"},
                       grid={"optim.lr": [0.001, 0.004], "loss.label_smoothing": [0.0]},
                       random={"samples": 3,
                               "ranges": {"optim.weight_decay": {"low": 1e-5, "high": 1e-2, "log": True}}},
                       seeds=1, tta=True))
    names = [v.name for v in plan.variants]
    assert names[:4] == [BASELINE, "+mixup", "optim.lr=0.001,loss.label_smoothing=0",
                         "optim.lr=0.004,loss.label_smoothing=0"]
    wd = [v.changes["optim.weight_decay"] for v in plan.variants[4:]]
    assert len(wd) == 3 and all(1e-5 <= x <= 1e-2 for x in wd) and len(set(wd)) == 3
    assert all(r.config.eval.tta == "flip" for r in plan.runs)
    assert any("one seed" in n for n in plan.notes) and any("same data split" in n for n in plan.notes)


@pytest.mark.parametrize("kw, message", [
    ({"ablate": {"tricks": ["hflipp"]}}, "unknown trick 'hflipp'"),
    ({"ablate": {"tricks": ["mixup"]}}, "already off in the base"),
    ({"ablate": {"tricks": ["kfold"], "mode": "add-one"}}, "no automatic on/off values"),
    ({"grid": {"optim.lrr": [0.1]}}, "unknown config key: optim.lrr"),
    ({"grid": {"optim.lr": [-1.0]}}, "optim.lr: must be in (0, 10]"),
    ({"grid": {"optim.lr": ["fast"]}}, "optim.lr must be a number"),
    ({"grid": {"optim.lr": [0.002]}}, "equal to the base"),
    ({"grid": {"optim.lr": []}}, "non-empty list"),
    ({"select_on": "test"}, "select_on must be 'val'"),
    ({"seeds": [1, 1]}, "distinct"),
    ({"random": {"samples": 2}}, "need random.ranges"),
    ({"colour": "red"}, "unknown key(s) in the study spec: colour"),
])
def test_a_bad_spec_is_a_one_line_error(kw, message):
    with pytest.raises(StudyError) as e:
        expand(spec(**kw))
    assert message in str(e.value) and "\n" not in str(e.value)


def test_spec_round_trips_and_seeds_can_be_added(tmp_path):
    s = spec(ablate={"tricks": ["hflip"]}, seeds=[0])
    s.save(tmp_path / "study.json")
    again = StudySpec.load(tmp_path / "study.json")
    assert again == s and json.loads((tmp_path / "study.json").read_text())["schema_version"] == 1
    plan = expand(again)
    new = add_seeds(plan, again, [5])
    assert [r.key for r in new] == ["00-baseline-s5", "01-no-hflip-s5"] and again.seeds == [0, 5]
    assert not any("one seed" in n for n in plan.notes)
    budget = [n for n in plan.notes if "time budget" in n]  # quick-cpu's 15 minutes
    assert budget == ["every run fits as many epochs as its time budget holds (15 min, at most train.epochs=1): "
                      "where the budget binds, variants are compared at equal time, not equal epochs "
                      "(set train.time_budget_min=0 in base.set for equal epochs)"]
    unbudgeted = StudySpec.from_dict({"base": {**BASE, "set": {**BASE["set"], "train.time_budget_min": 0}}})
    assert not any("time budget" in n for n in expand(unbudgeted).notes)
    with pytest.raises(StudyError, match="already in the study"):
        add_seeds(plan, again, [0])
    with pytest.raises(StudyError, match="not valid JSON"):
        (tmp_path / "bad.json").write_text("{")
        StudySpec.load(tmp_path / "bad.json")
