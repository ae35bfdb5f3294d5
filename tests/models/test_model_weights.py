"""Pretrained fallback offline, local weights files (torch and safetensors), safe loading."""
from __future__ import annotations

import socket

import pytest
import torch
from safetensors.torch import save_file

from fer_engine.config import ModelConfig
from fer_engine.models import UnsafeCheckpointError, create_model, load_checkpoint_file, load_state_dict_file


@pytest.fixture
def no_network(monkeypatch):
    """Any socket connection attempt fails the test: proves nothing reaches the network."""
    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args[:1]}")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


def test_pretrained_offline_falls_back_with_a_clear_note(monkeypatch, tmp_path, no_network):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # an empty cache
    model = create_model(ModelConfig(backbone="resnet18", pretrained=True, input_size=32), 7, 1)
    assert len(model.notes) == 1
    note = model.notes[0]
    for needed in ("resnet18", "not available", "random initialisation", "model.weights_path",
                   "model.pretrained false", "offline"):
        assert needed in note
    assert model.eval()(torch.randn(1, 1, 32, 32)).shape == (1, 7)


def test_pretrained_without_network_fails_fast_not_offline_mode(monkeypatch, tmp_path):
    """No offline flag and no network: the bounded probe refuses at once (no minute of retries)."""
    from fer_engine.models import pretrained

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", False)

    def unreachable(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(socket, "create_connection", unreachable)
    with pytest.raises(pretrained.PretrainedUnavailable, match="cannot reach .*unreachable"):
        pretrained.hub_weights_file("resnet18")


def test_pretrained_for_a_scratch_backbone_is_a_note_not_an_error(no_network):
    model = create_model(ModelConfig(backbone="fer_cnn_tiny", pretrained=True), 7, 1)
    assert "no pretrained weights" in model.notes[0]


def _tiny(classes: int = 7, chans: int = 1, **kw):
    torch.manual_seed(0)
    return create_model(ModelConfig(backbone="fer_cnn_tiny", **kw), classes, chans)


@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
def test_full_model_weights_round_trip(tmp_path, suffix):
    src = _tiny()
    path = tmp_path / f"w{suffix}"
    state = {k: v.contiguous() for k, v in src.state_dict().items()}
    torch.save({"state_dict": state}, path) if suffix == ".pt" else save_file(state, str(path))
    torch.manual_seed(1)
    dst = create_model(ModelConfig(backbone="fer_cnn_tiny", weights_path=str(path)), 7, 1)
    for key, value in src.state_dict().items():
        torch.testing.assert_close(dst.state_dict()[key], value, msg=key)
    assert any("loaded" in n for n in dst.notes)


def test_wrapped_and_prefixed_state_dicts_are_unwrapped(tmp_path):
    src = _tiny()
    path = tmp_path / "ddp.pth"
    torch.save({"epoch": 3, "model": {f"module.{k}": v for k, v in src.state_dict().items()}}, path)
    sd = load_state_dict_file(path)
    assert set(sd) == set(src.state_dict())


def test_rgb_weights_adapt_to_grayscale_by_summing(tmp_path):
    rgb = _tiny(chans=3)
    path = tmp_path / "rgb.pt"
    torch.save(rgb.state_dict(), path)
    gray = create_model(ModelConfig(backbone="fer_cnn_tiny", weights_path=str(path)), 7, 1)
    key = "backbone.features.block1.conv.weight"
    torch.testing.assert_close(gray.state_dict()[key], rgb.state_dict()[key].sum(1, keepdim=True))
    assert any("input conv adapted" in n and "3->1" in n for n in gray.notes)


def test_head_mismatch_is_skipped_and_reported(tmp_path):
    src = _tiny(classes=7)
    path = tmp_path / "seven.pt"
    torch.save(src.state_dict(), path)
    dst = create_model(ModelConfig(backbone="fer_cnn_tiny", weights_path=str(path)), 5, 1)
    assert dst.head.fc.out_features == 5
    key = "backbone.fc.fc2.fc.weight"
    torch.testing.assert_close(dst.state_dict()[key], src.state_dict()[key])
    assert any("classifier in the file not used" in n and "head.fc.weight" in n for n in dst.notes)


def test_timm_state_dict_loads_into_the_backbone(tmp_path):
    """A plain timm checkpoint (keys without "backbone.", its own classifier) fills the body."""
    import timm

    torch.manual_seed(0)
    ref = timm.create_model("resnet18", num_classes=1000, in_chans=3)
    path = tmp_path / "resnet18.safetensors"
    save_file({k: v.contiguous() for k, v in ref.state_dict().items()}, str(path))
    model = create_model(ModelConfig(backbone="resnet18", weights_path=str(path), input_size=32), 7, 1)
    torch.testing.assert_close(model.backbone.layer4[1].conv2.weight, ref.layer4[1].conv2.weight)
    torch.testing.assert_close(model.backbone.conv1.weight, ref.conv1.weight.sum(1, keepdim=True))
    assert any("classifier in the file not used" in n and "fc.weight" in n for n in model.notes)
    assert not any("in the file but not in the model" in n for n in model.notes)


def test_weights_that_fit_nothing_are_an_error(tmp_path):
    path = tmp_path / "other.safetensors"
    save_file({"encoder.weight": torch.zeros(3, 3)}, str(path))
    with pytest.raises(ValueError, match="none of its 1 tensors fit"):
        create_model(ModelConfig(backbone="fer_cnn_tiny", weights_path=str(path)), 7, 1)


def test_missing_and_corrupt_files_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.pt"):
        load_state_dict_file(tmp_path / "nope.pt")
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a safetensors file")
    with pytest.raises(ValueError, match="bad.safetensors"):
        load_state_dict_file(bad)
    truncated = tmp_path / "cut.pt"
    torch.save({"w": torch.zeros(100)}, truncated)
    truncated.write_bytes(truncated.read_bytes()[:50])
    with pytest.raises(ValueError, match="cut.pt"):
        load_checkpoint_file(truncated)


def test_training_checkpoints_load_through_the_safe_path(tmp_path):
    state = {"model": _tiny().state_dict(), "epoch": 3, "best": 0.5, "name": "x",
             "rng": {"python": [3, [1, 2, 3], None], "torch": torch.get_rng_state()}}
    path = tmp_path / "last.pt"
    torch.save(state, path)
    loaded = load_checkpoint_file(path)
    assert loaded["epoch"] == 3 and loaded["rng"]["python"][1] == [1, 2, 3]
    assert isinstance(UnsafeCheckpointError("x"), ValueError)  # the CLI prints it as one line
