"""The generated config form: one editor per config leaf, edits change state.config,
config changes update the editors, check_config problems show next to their key."""
import html

import numpy as np
import pytest

from fer_engine.config import RunConfig, field_paths
from fer_studio.config_form_spec import EDITED_ELSEWHERE, parse_list
from fer_studio.state import AppState
from fer_studio.widgets.config_form import ConfigForm


@pytest.fixture
def form(qtbot):
    state = AppState()
    w = ConfigForm(state)
    qtbot.addWidget(w)
    return state, w


def test_every_config_leaf_has_an_editor(form):
    _, w = form
    expected = {k for k, _, _ in field_paths()} - EDITED_ELSEWHERE
    assert set(w.editors) == expected


def test_editing_widgets_changes_the_config(form):
    state, w = form
    w.editors["optim.lr"].widget.setValue(0.0125)
    w.editors["sampler.balanced"].widget.setChecked(True)
    w.editors["optim.name"].widget.setCurrentText("sgd")
    w.editors["train.epochs"].widget.setValue(7)
    betas = w.editors["optim.betas"].widget
    betas.setText("0.8, 0.99")
    betas.editingFinished.emit()
    cfg = state.config
    assert (cfg.optim.lr, cfg.sampler.balanced, cfg.optim.name, cfg.train.epochs, cfg.optim.betas) == (
        0.0125, True, "sgd", 7, [0.8, 0.99])


def test_bad_list_text_leaves_the_config_alone(form):
    state, w = form
    before = state.config.optim.betas
    edit = w.editors["optim.betas"].widget
    edit.setText("0.9, fast")
    edit.editingFinished.emit()
    assert state.config.optim.betas == before
    assert "float" in edit.toolTip() and "border" in edit.styleSheet()


def test_config_replaced_elsewhere_shows_in_the_editors(form):
    state, w = form
    state.set_config(RunConfig().replace(**{"loss.label_smoothing": 0.15, "eval.tta": "flip"}))
    assert w.editors["loss.label_smoothing"].widget.value() == pytest.approx(0.15)
    assert w.editors["eval.tta"].widget.currentText() == "flip"


def test_problems_show_inline_next_to_their_key(form):
    state, w = form
    w.editors["augment.hflip"].widget.setValue(1.5)
    label = w.problem_labels["augment.hflip"]
    assert not label.isHidden()
    from fer_engine.recipe.checks import check_config

    messages = [p.message for p in check_config(state.config) if p.key == "augment.hflip"]
    assert messages and html.escape(messages[0]) in label.text()
    w.editors["augment.hflip"].widget.setValue(0.5)
    assert w.problem_labels["augment.hflip"].isHidden()


def test_active_tricks_are_bold(form):
    state, w = form
    assert not w.labels["loss.label_smoothing"].font().bold()
    w.editors["loss.label_smoothing"].widget.setValue(0.1)
    assert w.labels["loss.label_smoothing"].font().bold()


def test_parse_list_names_the_bad_value():
    assert parse_list("1, 2", list[int]) == [1, 2]
    with pytest.raises(ValueError, match="'1, x'"):
        parse_list("1, x", list[int])
    assert parse_list("", list[float]) == []
    assert np.isclose(parse_list("1e-3", list[float])[0], 0.001)


def test_the_time_budget_is_a_training_field_with_its_unit_and_what_it_does(form):
    """Issue #25: the set-up page's form offers train.time_budget_min among the Training keys."""
    from fer_studio.config_form_spec import sections

    state, w = form
    spec = next(s for s in sections()["train"] if s.key == "train.time_budget_min")
    assert spec.label == "Time budget (min)" and spec.kind == "float"
    assert "0 = off" in spec.tooltip and "plans its epochs" in spec.tooltip
    assert w.labels["train.time_budget_min"].text().startswith("Time budget (min)")
    w.editors["train.time_budget_min"].widget.setValue(0.5)
    assert state.config.train.time_budget_min == 0.5
