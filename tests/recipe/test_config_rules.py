"""Each config rule lives once, in the field's declaration: the code implements every declared
choice, refuses what the rule refuses with the rule's message, and the form offers the same."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from fer_engine.config import (ConfigError, LossConfig, OptimConfig, RunConfig, ScheduleConfig, check_value,
                               fields)
from fer_engine.data.formats import FORMATS
from fer_engine.models import BACKBONES
from fer_engine.recipe import normalize
from fer_engine.recipe.losses import build_loss, class_weights
from fer_engine.recipe.optim import build_optimizer
from fer_engine.recipe.schedule import LRSchedule
from fer_engine.recipe.tta import combine_views, tta_views
from fer_studio.config_form_spec import choices_for


def test_every_declared_choice_is_implemented():
    f = fields()
    for name in f["schedule.name"].choices:
        assert LRSchedule(ScheduleConfig(name=name), 0.1, 2, 3).lr_at(0) > 0
    for name in f["loss.name"].choices:
        build_loss(LossConfig(name=name), np.ones(3))
    for mode in f["loss.class_weights"].choices:
        class_weights([1, 2, 3], mode)
    for name in f["optim.name"].choices:
        build_optimizer(nn.Linear(2, 2), OptimConfig(name=name))
    for mode in f["eval.tta"].choices:
        assert tta_views(torch.zeros(1, 1, 8, 8), mode).shape[1:] == (1, 1, 8, 8)
    for vote in f["eval.tta_vote"].choices:
        assert combine_views(torch.full((2, 1, 3), 1 / 3), vote).shape == (1, 3)
    gray = np.zeros((2, 4, 4, 1), np.uint8)
    for mode in f["normalize.mode"].choices:
        normalize.resolve_mean_std(RunConfig().replace(**{"normalize.mode": mode}), gray, ([0.5], [0.2]))


def test_components_refuse_with_the_declared_rule():
    with pytest.raises(ConfigError, match=r"^optim.name must be one of sgd, adam, adamw, got 'lion'$"):
        build_optimizer(nn.Linear(2, 2), OptimConfig(name="lion"))
    with pytest.raises(ConfigError, match=r"^loss.effective_beta must be in \[0, 1\), got 1.0$"):
        class_weights([1, 2], "effective", 1.0)
    with pytest.raises(ConfigError, match=r"^augment.hflip must be in \[0, 1\], got 1.5$"):
        check_value("augment.hflip", 1.5)


def test_the_form_offers_what_the_config_declares():
    assert choices_for("optim.name") == list(fields()["optim.name"].choices)
    assert choices_for("data.format") == ["auto", *FORMATS]  # registry-backed: the registry's names
    assert choices_for("model.backbone") == list(BACKBONES.names())
    assert fields()["model.backbone"].registry == "fer_engine.models:BACKBONES"
