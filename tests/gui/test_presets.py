"""Presets: built-in recipes load as valid configs; user presets round-trip; errors name the fault."""
import json

import pytest

from fer_engine.config import RunConfig
from fer_engine.presets import (PresetError, builtin_presets, delete_preset, list_presets,
                                load_preset, save_preset, user_presets_dir)


def test_builtin_presets_are_listed_and_load():
    names = list_presets()
    assert {"quick-cpu", "fer2013-competition"} <= set(names)
    for name in builtin_presets():
        assert isinstance(load_preset(name), RunConfig)
    assert load_preset("quick-cpu").train.epochs < load_preset("fer2013-competition").train.epochs


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
