"""Presets: built-in recipes load as valid configs; user presets round-trip; errors name the fault."""
import json

import pytest

from fer_engine.config import RunConfig
from fer_engine.presets import (PresetError, builtin_presets, delete_preset, list_presets,
                                load_preset, preset_description, save_preset, user_presets_dir)


def test_builtin_presets_are_listed_and_load():
    names = list_presets()
    assert {"quick-cpu", "fer2013-competition"} <= set(names)
    for name in builtin_presets():
        assert isinstance(load_preset(name), RunConfig)


@pytest.mark.parametrize("native_bf16, backbone", [(True, "fer_cnn_small"), (False, "fer_cnn_lite")])
def test_quick_cpu_trains_within_15_minutes_with_the_backbone_for_the_cpu(monkeypatch, native_bf16, backbone):
    import torch

    from fer_engine.utils import machine

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(machine, "cpu_has_native_bf16", lambda: native_bf16)
    cfg = load_preset("quick-cpu")
    assert cfg.train.time_budget_min == 15 and cfg.model.backbone == backbone


def test_every_builtin_says_what_it_does_and_quick_cpu_what_it_does_on_each_cpu():
    text = preset_description("quick-cpu")
    assert "15 minutes" in text and all(w in text for w in ("bfloat16", "float32", "fer_cnn_small", "fer_cnn_lite"))
    assert all(preset_description(name) for name in builtin_presets())


def test_the_preset_bar_shows_each_presets_description_as_its_tooltip(qtbot):
    from PySide6.QtCore import Qt

    from fer_studio.widgets.preset_bar import PresetBar

    bar = PresetBar()
    qtbot.addWidget(bar)
    bar.set_presets(list_presets())
    i = bar.combo.findText("quick-cpu")
    assert bar.combo.itemData(i, Qt.ItemDataRole.ToolTipRole) == preset_description("quick-cpu")


def test_user_preset_round_trip_and_listing():
    cfg = RunConfig().replace(**{"optim.lr": 0.0123, "train.epochs": 3})
    path = save_preset("my-recipe", cfg)
    assert path.parent == user_presets_dir()
    assert "my-recipe" in list_presets()
    assert load_preset("my-recipe") == cfg
    delete_preset("my-recipe")
    assert "my-recipe" not in list_presets()


@pytest.mark.parametrize("name", ["", "../evil", "a/b", "-x", "x" * 65])
def test_bad_names_are_refused(name):
    with pytest.raises(PresetError, match="invalid preset name"):
        save_preset(name, RunConfig())


def test_builtin_cannot_be_overwritten_or_deleted():
    with pytest.raises(PresetError, match="built-in"):
        save_preset("quick-cpu", RunConfig())
    with pytest.raises(PresetError, match="built-in"):
        delete_preset("quick-cpu")


def test_unknown_and_invalid_presets_give_clear_errors():
    with pytest.raises(PresetError, match=r"unknown preset 'nope'.*quick-cpu"):
        load_preset("nope")
    user_presets_dir().mkdir(parents=True, exist_ok=True)
    (user_presets_dir() / "broken.json").write_text(json.dumps({"optim": {"lr": "fast"}}))
    with pytest.raises(PresetError, match=r"preset 'broken' is invalid.*optim.lr must be a number"):
        load_preset("broken")
