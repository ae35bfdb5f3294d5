"""Every registered backbone builds for grayscale and RGB, with uniform features and head."""
from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from fer_engine.config import ConfigError, ModelConfig
from fer_engine.models import BACKBONES, FerModel, create_model

# Smallest input each family accepts sensibly: keeps the whole file to seconds on CPU.
SMALL_SIZE = {"swin_tiny_patch4_window7_224": 64, "vit_tiny_patch16_224": 32}
HEAVY = {"resnet50", "resnest50d", "seresnext50_32x4d", "efficientnetv2_rw_s", "convnext_tiny",
         "swin_tiny_patch4_window7_224"}


def _size(name: str) -> int:
    spec = BACKBONES.get(name)
    return SMALL_SIZE.get(name, spec.default_input_size if spec.family == "fer" else 32)


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in HEAVY else n
                                  for n in BACKBONES.names()])
def test_backbone_builds_gray_and_rgb(name):
    size = _size(name)
    for chans in (1, 3):
        model = create_model(ModelConfig(backbone=name, input_size=size), num_classes=5, in_chans=chans)
        assert isinstance(model, FerModel)
        assert (model.in_chans, model.num_classes, model.input_size) == (chans, 5, size)
        n_params = sum(p.numel() for p in model.parameters())
        assert BACKBONES.get(name).param_count(5, chans, size) == n_params
        model.eval()
        x = torch.randn(1, chans, size, size)
        with torch.no_grad():
            feats = model.forward_features(x)
            logits = model(x)
        assert feats.shape == (1, model.feature_dim)
        assert logits.shape == (1, 5)
        torch.testing.assert_close(model.head(feats), logits)
        assert len(model.cam_target_layers()) == 1
        del model


def test_registry_metadata_is_complete():
    names = BACKBONES.names()
    for required in ("fer_cnn", "fer_cnn_tiny", "resnet18_48", "resnet18", "resnet34", "resnet50",
                     "resnest50d", "seresnext50_32x4d", "convnext_nano", "swin_tiny_patch4_window7_224",
                     "vit_tiny_patch16_224"):
        assert required in names
    assert any("efficientnetv2" in n for n in names)
    for _, spec in BACKBONES.items():
        assert spec.default_input_size > 0 and spec.channels in (1, 3) and spec.cam_layer
        if spec.family == "timm":
            assert spec.mean is not None and len(spec.mean) == 3 and spec.supports_pretrained
    assert BACKBONES.get("fer_cnn").mean is None  # dataset statistics for FER CNNs
    assert BACKBONES.get("swin_tiny_patch4_window7_224").reshape == "swin"
    assert BACKBONES.get("vit_tiny_patch16_224").reshape == "vit"


def test_input_size_defaults_to_spec_and_follows_config():
    assert create_model(ModelConfig(backbone="fer_cnn_tiny"), 7, 1).input_size == 48
    model = create_model(ModelConfig(backbone="fer_cnn_tiny", input_size=64), 7, 1).eval()
    assert model.input_size == 64
    assert model(torch.randn(2, 1, 64, 64)).shape == (2, 7)  # adaptive pool before the FC layers


def test_fer_cnn_is_the_course_architecture():
    body = create_model(ModelConfig(backbone="fer_cnn"), 7, 1).backbone
    blocks = list(body.features.children())
    assert len(blocks) == 4
    for block in blocks:
        kinds = [type(m).__name__ for m in block.children()]
        assert kinds[:4] == ["Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d"] and "Dropout" in kinds[4]
    linears = [m for m in create_model(ModelConfig(backbone="fer_cnn"), 7, 1).modules()
               if isinstance(m, torch.nn.Linear)]
    assert len(linears) == 3 and linears[-1].out_features == 7


def test_resnet18_48_keeps_resolution_in_the_stem():
    model = create_model(ModelConfig(backbone="resnet18_48"), 7, 1).eval()
    conv1 = model.backbone.conv1
    assert conv1.kernel_size == (3, 3) and conv1.stride == (1, 1) and conv1.in_channels == 1
    assert isinstance(model.backbone.maxpool, torch.nn.Identity)
    maps = []
    hook = model.cam_target_layers()[0].register_forward_hook(lambda m, i, o: maps.append(o.shape))
    with torch.no_grad():
        model(torch.randn(1, 1, 48, 48))
    hook.remove()
    assert maps[0][-2:] == (6, 6)


def test_resnet18_48_from_scratch_starts_with_its_residual_branches_on():
    """timm zeroes each block's last BatchNorm gamma; resnet18_48 keeps gamma = 1 (see its
    builder: zeroed, it sat at the class priors on FER2013), other timm models keep timm's."""
    def last_gammas(model):
        return torch.cat([b.bn2.weight.detach() for layer in ("layer1", "layer2", "layer3", "layer4")
                          for b in getattr(model.backbone, layer)])

    assert torch.all(last_gammas(create_model(ModelConfig(backbone="resnet18_48"), 7, 1)) == 1)
    assert torch.all(last_gammas(create_model(ModelConfig(backbone="resnet18"), 7, 1)) == 0)


def test_multi_sample_dropout_averages_in_training_and_is_identity_in_eval():
    torch.manual_seed(0)
    model = create_model(ModelConfig(backbone="fer_cnn_tiny", dropout=0.5, multi_sample_dropout=8), 3, 1)
    feats = torch.ones(4, model.feature_dim)
    model.eval()
    plain = model.head.fc(feats)
    torch.testing.assert_close(model.head(feats), plain)
    model.train()
    single = create_model(ModelConfig(backbone="fer_cnn_tiny", dropout=0.5), 3, 1).train()
    single.head.fc.load_state_dict(model.head.fc.state_dict())
    torch.manual_seed(1)
    spread_msd = torch.stack([model.head(feats) - plain for _ in range(50)]).std()
    torch.manual_seed(1)
    spread_one = torch.stack([single.head(feats) - plain for _ in range(50)]).std()
    assert 0 < spread_msd < spread_one * 0.6  # 8 masks averaged: ~1/sqrt(8) of the noise


def test_named_cam_layers_lists_spatial_maps_default_first():
    model = create_model(ModelConfig(backbone="fer_cnn_tiny"), 7, 1)
    layers = model.named_cam_layers()
    assert layers[0] == model.spec.cam_layer
    assert "backbone.features.block1" in layers and "backbone.fc" not in layers
    for name in layers:
        assert model.cam_target_layers(name)[0] is model.get_submodule(name)
    assert not any(m._forward_hooks for m in model.modules())  # probe hooks removed
    with pytest.raises(KeyError, match="no layer 'backbone.nope'"):
        model.cam_target_layers("backbone.nope")


def test_bad_arguments_are_named():
    with pytest.raises(KeyError, match="unknown backbone 'resnet9000'.*fer_cnn"):
        create_model(ModelConfig(backbone="resnet9000"), 7, 1)
    with pytest.raises(ConfigError, match="in_chans"):
        create_model(ModelConfig(backbone="fer_cnn_tiny"), 7, 2)
    with pytest.raises(ConfigError, match="input_size"):
        create_model(ModelConfig(backbone="fer_cnn_tiny", input_size=-1), 7, 1)


def test_vit_weight_decay_exemptions_are_full_names():
    model = create_model(ModelConfig(backbone="vit_tiny_patch16_224", input_size=32), 7, 1)
    names = dict(model.named_parameters())
    assert model.no_weight_decay() and all(n in names for n in model.no_weight_decay())


def test_param_count_of_a_fer_cnn_imports_no_compiler_stack():
    """The set-up page counts parameters in the GUI process: on the meta device torch's
    initialisers would import torch._dynamo (seconds of GIL-holding imports, GUI stalls)."""
    code = ("import sys; from fer_engine.models.backbones import BACKBONES; "
            "assert BACKBONES.get('fer_cnn').param_count() == 4472775; "
            "print('torch._dynamo' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
