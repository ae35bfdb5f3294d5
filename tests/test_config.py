"""The run config: JSON round trip, dotted edits, generated-form leaves."""
import json

import pytest

from fer_engine.config import SCHEMA_VERSION, ConfigError, RunConfig, field_paths


def test_json_round_trip_preserves_every_value(tmp_path):
    cfg = RunConfig().replace(**{"optim.lr": 0.05, "model.backbone": "resnet18_48",
                                 "normalize.mean": [0.4], "train.amp": False})
    path = tmp_path / "run.json"
    cfg.save(path)
    again = RunConfig.load(path)
    assert again == cfg
    assert json.loads(path.read_text())["schema_version"] == SCHEMA_VERSION


def test_overrides_parse_json_values_and_text():
    cfg = RunConfig().with_overrides(["train.epochs=3", "optim.name=sgd", "sampler.balanced=true",
                                      "mix.mixup_alpha=0.2"])
    assert (cfg.train.epochs, cfg.optim.name, cfg.sampler.balanced, cfg.mix.mixup_alpha) == (
        3, "sgd", True, 0.2)


def test_override_of_unknown_key_names_it():
    with pytest.raises(ConfigError, match="optim.learning_rate"):
        RunConfig().with_overrides(["optim.learning_rate=0.1"])
    with pytest.raises(ConfigError, match="key=value"):
        RunConfig().with_overrides(["epochs"])


def test_field_paths_cover_every_leaf_with_defaults():
    leaves = {key: default for key, _tp, default in field_paths()}
    assert leaves["optim.lr"] == RunConfig().optim.lr
    assert leaves["augment.hflip"] == 0.5
    assert "schema_version" not in leaves
    assert all(RunConfig().get(k) == v for k, v in leaves.items())


def test_int_fields_accept_integral_floats_only():
    assert RunConfig.from_dict({"train": {"epochs": 4.0}}).train.epochs == 4
    with pytest.raises(ConfigError, match="train.epochs must be an integer"):
        RunConfig.from_dict({"train": {"epochs": 4.5}})
