"""A run that names no backbone gets one sized for its machine: the full FER CNN on a GPU, the
half-width fer_cnn_small on a CPU that computes bfloat16, fer_cnn_lite on a float32-only CPU (so
the demo quick start is quick there), and says so; quick-cpu leaves the choice to the machine too."""
from __future__ import annotations

import pytest
import torch

from fer_engine.cli import build_parser
from fer_engine.cli.commands.train import backbone_chosen, build_config, member_configs
from fer_engine.models import default_backbone
from fer_engine.utils import machine

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def cpu_only(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(machine, "cpu_has_native_bf16", lambda: False)


@pytest.mark.parametrize("device, cuda, bf16, amp, name", [
    ("cpu", True, True, True, "fer_cnn_small"), ("cpu", True, False, True, "fer_cnn_lite"),
    ("cpu", False, True, False, "fer_cnn_lite"),  # amp off: float32 even where bfloat16 is native
    ("cuda", False, False, True, "fer_cnn"), ("cuda:1", False, False, True, "fer_cnn"),
    ("auto", True, False, True, "fer_cnn"), ("auto", False, True, True, "fer_cnn_small"),
    ("auto", False, False, True, "fer_cnn_lite"),
])
def test_the_default_backbone_follows_the_device_and_its_precision(monkeypatch, device, cuda, bf16, amp, name):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(machine, "cpu_has_native_bf16", lambda: bf16)
    assert default_backbone(device, amp) == name


def test_the_gui_starts_with_the_machine_default(cpu_only, tmp_path):
    from fer_studio.state import AppState

    assert AppState(runs_root=tmp_path).config.model.backbone == "fer_cnn_lite"


@pytest.mark.parametrize("flags, chosen, backbone", [
    ([], False, "fer_cnn_lite"), (["--backbone", "fer_cnn"], True, "fer_cnn"),
    (["--set", "model.backbone=resnet18_48"], True, "resnet18_48"),
    (["--preset", "fer2013-competition"], True, "fer_cnn"),  # the preset's own
    (["--set", "train.device=cpu"], False, "fer_cnn_lite"),
    (["--preset", "quick-cpu"], False, "fer_cnn_lite"),  # quick-cpu names none: the machine's
    (["--preset", "quick-cpu", "--backbone", "fer_cnn_small"], True, "fer_cnn_small"),
])
def test_the_cli_takes_the_machine_default_only_when_nothing_names_a_backbone(cpu_only, flags, chosen, backbone):
    args = build_parser().parse_args(["train", "--data", "demo", *flags])
    cfg, _ = build_config(args)
    assert backbone_chosen(args) == chosen
    assert cfg.model.backbone == backbone


def test_forcing_float32_after_the_preset_sizes_the_backbone_for_float32(monkeypatch):
    """--set train.amp=false on a bfloat16 CPU trains in float32, so it gets the float32 backbone."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(machine, "cpu_has_native_bf16", lambda: True)
    for extra, name in (([], "fer_cnn_small"), (["--set", "train.amp=false"], "fer_cnn_lite")):
        args = build_parser().parse_args(["train", "--data", "demo", "--preset", "quick-cpu", *extra])
        assert build_config(args)[0].model.backbone == name


def test_an_ensembles_members_are_sized_after_the_command_line(monkeypatch):
    """quick-cpu-ensemble's members name no backbone: --set train.amp=false re-sizes each of them;
    the ensemble recipe's resnet18-48 members keep theirs."""
    from fer_engine.presets import load_ensemble_recipe

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(machine, "cpu_has_native_bf16", lambda: True)
    for preset, extra, names in (
            ("quick-cpu-ensemble", [], ["fer_cnn_small"] * 3),
            ("quick-cpu-ensemble", ["--set", "train.amp=false"], ["fer_cnn_lite"] * 3),
            ("quick-cpu-ensemble", ["--backbone", "fer_cnn"], ["fer_cnn"] * 3),
            ("ensemble", ["--set", "train.amp=false"], ["resnet18_48", "resnet18_48", "resnest50d"])):
        args = build_parser().parse_args(["train", "--data", "demo", "--preset", preset, *extra])
        built = member_configs(args, load_ensemble_recipe(preset))
        assert [c.model.backbone for c, _ in built] == names, (preset, extra)


def test_a_study_on_quick_cpu_sizes_its_base_after_base_set(monkeypatch):
    from fer_engine.study.plan import base_config
    from fer_engine.study.spec import StudySpec

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(machine, "cpu_has_native_bf16", lambda: True)

    def base(**changes):
        return base_config(StudySpec.from_dict({"schema_version": 1, "name": "s",
                                                "base": {"preset": "quick-cpu", "set": {"data.path": "demo",
                                                                                        **changes}}}))
    assert base().model.backbone == "fer_cnn_small"
    assert base(**{"train.amp": False}).model.backbone == "fer_cnn_lite"
    assert base(**{"train.amp": False, "model.backbone": "fer_cnn"}).model.backbone == "fer_cnn"

