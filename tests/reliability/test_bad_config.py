"""Bad config files: old schema migrated, newer refused, unknown keys and wrong types named."""
import json

import pytest

from fer_engine.config import SCHEMA_VERSION, ConfigError, RunConfig


def _write(tmp_path, data):
    p = tmp_path / "config.json"
    p.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return p


def test_unversioned_config_is_migrated(tmp_path):
    p = _write(tmp_path, {"backbone": "resnet18_48", "epochs": 7, "lr": 0.01, "data_path": "x.csv"})
    cfg = RunConfig.load(p)
    assert (cfg.model.backbone, cfg.train.epochs, cfg.optim.lr, cfg.data.path) == (
        "resnet18_48", 7, 0.01, "x.csv")
    assert cfg.schema_version == SCHEMA_VERSION


def test_newer_schema_is_refused_with_upgrade_hint(tmp_path):
    p = _write(tmp_path, {"schema_version": SCHEMA_VERSION + 1})
    with pytest.raises(ConfigError, match=r"newer than this fer-studio.*upgrade"):
        RunConfig.load(p)


@pytest.mark.parametrize("data, message", [
    ({"optim": {"lr": "fast"}}, "optim.lr must be a number"),
    ({"train": {"amp": 1}}, "train.amp must be true or false"),
    ({"normalize": {"mean": 0.5}}, "normalize.mean must be a list"),
    ({"model": "resnet"}, "model must be an object"),
    ({"optim": {"lrr": 0.1}}, "unknown config key.*optim.lrr"),
    ({"colour": "blue"}, "unknown config key.*colour"),
    ({"schema_version": "1"}, "schema_version must be an integer"),
    ([1, 2], "must be a JSON object"),
])
def test_wrong_types_and_unknown_keys_name_the_key(tmp_path, data, message):
    with pytest.raises(ConfigError, match=message):
        RunConfig.load(_write(tmp_path, data))


def test_broken_json_and_missing_file_have_messages(tmp_path):
    with pytest.raises(ConfigError, match="not valid JSON"):
        RunConfig.load(_write(tmp_path, "{not json"))
    with pytest.raises(ConfigError, match="not found"):
        RunConfig.load(tmp_path / "nope.json")
