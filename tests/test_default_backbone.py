"""A run that names no backbone gets one sized for its device: the full FER CNN on a GPU, the
half-width fer_cnn_small on a CPU (so the demo quick start is quick there), and says so."""
from __future__ import annotations

import pytest
import torch

from fer_engine.cli import build_parser
from fer_engine.cli.commands.train import backbone_chosen, build_config
from fer_engine.models import default_backbone

pytestmark = pytest.mark.timeout(60)


@pytest.mark.parametrize("device, cuda, name", [
    ("cpu", True, "fer_cnn_small"), ("cuda", False, "fer_cnn"), ("cuda:1", False, "fer_cnn"),
    ("auto", True, "fer_cnn"), ("auto", False, "fer_cnn_small"),
])
def test_the_default_backbone_follows_the_device(monkeypatch, device, cuda, name):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    assert default_backbone(device) == name


@pytest.mark.parametrize("flags, chosen", [
    ([], False), (["--backbone", "fer_cnn"], True), (["--set", "model.backbone=resnet18_48"], True),
    (["--preset", "fer2013-competition"], True), (["--set", "train.device=cpu"], False),
])
def test_the_cli_takes_the_device_default_only_when_nothing_names_a_backbone(monkeypatch, flags, chosen):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    args = build_parser().parse_args(["train", "--data", "demo", *flags])
    cfg, _ = build_config(args)
    assert backbone_chosen(args) == chosen
    if not chosen:
        assert cfg.model.backbone == "fer_cnn_small"
    elif "--preset" in flags:
        assert cfg.model.backbone == "fer_cnn"  # the preset's own


def test_the_gui_starts_with_the_device_default(monkeypatch, tmp_path):
    from fer_studio.state import AppState

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert AppState(runs_root=tmp_path).config.model.backbone == "fer_cnn_small"
