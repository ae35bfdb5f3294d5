"""Untrusted files: a checkpoint with a pickled payload is refused before it can run; config,
preset and run files are parsed as data, never executed."""
from __future__ import annotations

import json
import pickle

import pytest
import torch

from fer_engine.config import ConfigError, ModelConfig, RunConfig


class _Payload:
    """Unpickling this calls open(marker, "w"): the marker file appears iff the payload ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _poisoned(tmp_path, fmt: str):
    marker = tmp_path / f"PWNED-{fmt}"
    path = tmp_path / f"classmate-{fmt}.pt"
    state = {"model": {"w": torch.zeros(2)}, "epoch": 1, "evil": _Payload(marker)}
    if fmt == "zip":
        torch.save(state, path)
    else:  # a plain pickle stream named .pt (the legacy format)
        path.write_bytes(pickle.dumps(state, protocol=2))
    return path, marker


@pytest.mark.parametrize("fmt", ["zip", "legacy"])
def test_the_payload_is_real(tmp_path, fmt):
    """Control: an unsafe load of the same file does run the payload, so the tests below prove something."""
    path, marker = _poisoned(tmp_path, fmt)
    if fmt == "zip":
        torch.load(path, weights_only=False)
    else:
        pickle.loads(path.read_bytes())
    assert marker.exists()


@pytest.mark.parametrize("fmt", ["zip", "legacy"])
def test_poisoned_checkpoint_is_refused_and_never_runs(tmp_path, fmt):
    from fer_engine.models import UnsafeCheckpointError, load_checkpoint_file, load_state_dict_file
    from fer_engine.training.checkpoint import load_checkpoint

    path, marker = _poisoned(tmp_path, fmt)
    for load in (load_checkpoint_file, load_state_dict_file, load_checkpoint):
        with pytest.raises(UnsafeCheckpointError, match=f"refused to load .*{path.name}"):
            load(path)
    with pytest.raises(UnsafeCheckpointError, match=path.name):
        from fer_engine.models import create_model
        create_model(ModelConfig(backbone="fer_cnn_tiny", weights_path=str(path)), 7, 1)
    assert not marker.exists()


STRANGE = [
    "__import__('os').system('touch {m}')",
    "$(touch {m})",
    "`touch {m}`",
    "!!python/object/apply:os.system ['touch {m}']",
    "{{{{ ''.__class__.__mro__ }}}}",
    "eval(compile('open(\"{m}\", \"w\")', 'x', 'exec'))",
]


def _strange_config(marker) -> dict:
    s = [t.format(m=marker) for t in STRANGE]
    return {"schema_version": 1, "name": s[0],
            "data": {"path": s[1], "cache_dir": s[2]},
            "model": {"backbone": s[3], "weights_path": s[4]},
            "loss": {"name": s[5]}}


def test_config_with_strange_strings_is_plain_data(tmp_path):
    marker = tmp_path / "PWNED-config"
    p = tmp_path / "config.json"
    p.write_text(json.dumps(_strange_config(marker)))
    cfg = RunConfig.load(p)
    assert cfg.name == STRANGE[0].format(m=marker)
    assert cfg.data.path == STRANGE[1].format(m=marker)
    assert cfg.model.backbone == STRANGE[3].format(m=marker)
    cfg.save(tmp_path / "again.json")
    assert RunConfig.load(tmp_path / "again.json") == cfg
    with pytest.raises(KeyError, match="unknown backbone"):  # used as a name, never evaluated
        from fer_engine.models import create_model
        create_model(cfg.model, 7, 1)
    assert not marker.exists()


def test_config_with_code_shaped_keys_is_refused(tmp_path):
    p = tmp_path / "config.json"
    p.write_text(json.dumps({"__class__": "os.system", "model": {"__reduce__": ["touch", "x"]}}))
    with pytest.raises(ConfigError, match="unknown config key"):
        RunConfig.load(p)


def test_preset_with_strange_strings_is_plain_data(tmp_path):
    from fer_engine.presets import load_preset, user_presets_dir

    marker = tmp_path / "PWNED-preset"
    folder = user_presets_dir()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "shady.json").write_text(json.dumps(_strange_config(marker)))
    assert load_preset("shady").name == STRANGE[0].format(m=marker)
    assert not marker.exists()


def test_run_files_with_strange_content_are_plain_data(tmp_path):
    from fer_engine.training.rundir import RunDir

    marker = tmp_path / "PWNED-run"
    run = RunDir.create(tmp_path / "runs", RunConfig(), run_id="r1")
    lines = [{"type": STRANGE[0].format(m=marker), "run_id": "r1"},
             {"type": "RunStarted", "run_id": STRANGE[1].format(m=marker), "__init__": "x"},
             "not an object"]
    with open(run.events_path, "a", encoding="utf-8") as f:
        for line in lines:
            f.write(json.dumps(line) + "\n")
    run.status_path.write_text(json.dumps({"status": STRANGE[2].format(m=marker)}))
    run.read_events()  # unknown types and bad fields are skipped, not resolved or called
    status = run.status()  # an unknown status is shown as damaged, quoting it as plain text
    assert status.state == "damaged" and repr(STRANGE[2].format(m=marker)) in status.message
    assert not marker.exists()
