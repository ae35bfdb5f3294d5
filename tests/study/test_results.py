"""A study's results from its directory: per-variant table, verdicts, per-class effects, exports."""
from __future__ import annotations

import pytest
from study_fakes import finished_study

from fer_engine.study import report
from fer_engine.study.results import analyze


def test_results_of_a_finished_study(tmp_path):
    study = finished_study(tmp_path / "s", {"hflip": 70, "rotation": 0, "label_smoothing": -70})
    r = analyze(study, n_boot=500)
    by = {v.name: v for v in r.variants}
    assert list(by) == ["baseline", "-hflip", "-rotation", "-label_smoothing"] and r.faces == 700
    assert by["baseline"].accuracy_mean == pytest.approx((420.5) / 700)
    assert by["-hflip"].effect == pytest.approx(0.1) and by["-hflip"].verdict == "helps"
    assert by["-rotation"].effect == 0 and by["-rotation"].verdict == "no detectable effect"
    assert by["-label_smoothing"].verdict == "hurts" and by["-label_smoothing"].effect_interval[1] < 0
    lo, hi = by["baseline"].accuracy_interval
    assert lo < by["baseline"].accuracy_mean < hi
    # the 70 faces the -hflip runs gain spread over every class
    assert set(by["-hflip"].class_effects) == set(r.class_names)
    assert by["-hflip"].wall_time_s == 61.0 and by["-hflip"].img_per_s == 900.0
    md = report.to_markdown(r)
    assert "| -hflip | 2 | 70.07 ± 0.10 |" in md and "hurts" in md
    assert report.to_csv(r).splitlines()[1].startswith("baseline,,2,0.600714")


def test_unfinished_runs_are_reported_not_counted(tmp_path):
    study = finished_study(tmp_path / "s", {"hflip": 70})
    study.run_dir("01-no-hflip-s1").write_status("stopped")
    r = analyze(study, n_boot=500)
    assert [v.seeds for v in r.variants] == [2, 1]
    assert r.variants[1].verdict == "cannot tell (one seed)"
    assert any("1 of 4 runs are not finished (stopped)" in n for n in r.notes)


def test_runs_of_different_lengths_are_named_in_the_notes(tmp_path):
    study = finished_study(tmp_path / "s", {"hflip": 70})
    assert not any("different numbers" in n for n in analyze(study, n_boot=200).notes)  # all trained 3
    for key in ("01-no-hflip-s0", "01-no-hflip-s1"):  # e.g. a budget that fit more epochs of a cheaper step
        study.run_dir(key).write_metrics_row(4, {"val_acc": 0.6, "img_per_s": 900.0})
    study.run_dir("01-no-hflip-s1").write_metrics_row(5, {"val_acc": 0.6, "img_per_s": 900.0})
    r = analyze(study, n_boot=200)
    assert [run.epochs for run in r.runs] == [3, 3, 4, 5]
    assert ("the runs trained different numbers of epochs (baseline 3, -hflip 4-5): each effect includes "
            "the difference in training length") in r.notes
