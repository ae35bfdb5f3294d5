"""Grad-CAM engine: shapes and range, every method, state restored, no leaks, overlays."""
from __future__ import annotations

import gc

import numpy as np
import pytest
import torch

from fer_engine.config import ModelConfig
from fer_engine.eval.cam import CAM_METHODS, compute_cams, overlay
from fer_engine.progress import Cancelled
from fer_engine.models import create_model


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    return create_model(ModelConfig(backbone="fer_cnn_tiny"), 7, 1).eval()


@pytest.fixture(scope="module")
def faces():
    torch.manual_seed(1)
    return torch.randn(3, 1, 48, 48)


def _hooks(model) -> int:
    return sum(len(m._forward_hooks) + len(m._backward_hooks) + len(m._forward_pre_hooks)
               for m in model.modules())


def _check_maps(maps, n, size):
    assert maps.shape == (n, size, size) and maps.dtype == np.float32
    assert np.isfinite(maps).all() and maps.min() >= 0.0 and maps.max() <= 1.0
    assert all(m.max() > 0.5 for m in maps)  # normalised per image, not all zero


def test_cnn_maps_have_input_shape_and_unit_range(faces):
    torch.manual_seed(0)
    model = create_model(ModelConfig(backbone="fer_cnn"), 7, 1).eval()
    _check_maps(compute_cams(model, faces, "gradcam"), 3, 48)
    assert _hooks(model) == 0


@pytest.mark.parametrize("name,size", [("swin_tiny_patch4_window7_224", 64), ("vit_tiny_patch16_224", 32)])
def test_transformer_maps_use_the_reshape_transform(name, size):
    torch.manual_seed(0)
    model = create_model(ModelConfig(backbone=name, input_size=size), 7, 3).eval()
    assert model.cam_reshape_transform is not None
    maps = compute_cams(model, torch.randn(2, 3, size, size), "gradcam", targets=[0, 3])
    _check_maps(maps, 2, size)
    assert maps[0].std() > 0.01  # a map, not a constant
    assert _hooks(model) == 0


@pytest.mark.parametrize("method", CAM_METHODS.names())
def test_every_method_runs_on_a_tiny_cnn(tiny, faces, method):
    _check_maps(compute_cams(tiny, faces, method, batch_size=8), 3, 48)
    assert _hooks(tiny) == 0


def test_required_methods_are_registered():
    assert {"gradcam", "gradcam++", "xgradcam", "eigencam", "scorecam", "layercam"} <= set(CAM_METHODS.names())


def test_method_target_and_layer_change_the_map(tiny, faces):
    base = compute_cams(tiny, faces, "gradcam", targets=[0, 0, 0])
    for other in ("eigencam", "layercam", "scorecam"):
        assert np.abs(base - compute_cams(tiny, faces, other, targets=[0, 0, 0])).mean() > 0.01, other
    assert np.abs(base - compute_cams(tiny, faces, "gradcam", targets=[3, 3, 3])).mean() > 0.01
    shallow = compute_cams(tiny, faces, "gradcam", targets=[0, 0, 0], layer="backbone.features.block2")
    assert np.abs(base - shallow).mean() > 0.01
    np.testing.assert_array_equal(base, compute_cams(tiny, faces, "gradcam", targets=[0, 0, 0]))


def test_default_target_is_the_predicted_class(tiny, faces):
    with torch.no_grad():
        pred = tiny(faces).argmax(1).tolist()
    np.testing.assert_array_equal(compute_cams(tiny, faces, "gradcam"),
                                  compute_cams(tiny, faces, "gradcam", targets=pred))


def test_model_state_is_restored(faces):
    model = create_model(ModelConfig(backbone="fer_cnn_tiny"), 7, 1)
    model.train()
    frozen = model.backbone.features.block1.conv.weight
    frozen.requires_grad_(False)
    kept_grad = torch.full_like(model.head.fc.weight, 7.0)
    model.head.fc.weight.grad = kept_grad
    flags = {n: p.requires_grad for n, p in model.named_parameters()}
    compute_cams(model, faces, "gradcam")
    assert not model.training
    assert {n: p.requires_grad for n, p in model.named_parameters()} == flags
    assert model.head.fc.weight.grad is kept_grad
    assert all(p.grad is None for n, p in model.named_parameters() if n != "head.fc.weight")


def test_hooks_are_released_on_error_and_cancel(tiny, faces):
    def boom(fraction, message):
        raise RuntimeError("progress callback failed")

    with pytest.raises(RuntimeError, match="progress callback failed"):
        compute_cams(tiny, faces, "gradcam", batch_size=1, progress=boom)
    assert _hooks(tiny) == 0
    calls = []
    with pytest.raises(Cancelled, match="after 1 of 3"):
        compute_cams(tiny, faces, "scorecam", should_stop=lambda: len(calls) > 0,
                     progress=lambda f, m: calls.append(f))
    assert _hooks(tiny) == 0


def test_bad_arguments_are_named(tiny, faces):
    with pytest.raises(KeyError, match="unknown CAM method 'gradcam2'"):
        compute_cams(tiny, faces, "gradcam2")
    with pytest.raises(ValueError, match="target class index 9"):
        compute_cams(tiny, faces, "gradcam", targets=[0, 1, 9])
    with pytest.raises(ValueError, match="3 targets for 2 images"):
        compute_cams(tiny, faces[:2], "gradcam", targets=[0, 1, 2])
    with pytest.raises(KeyError, match="no layer"):
        compute_cams(tiny, faces, "gradcam", layer="backbone.missing")


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def _live_tensors() -> int:
    return sum(1 for o in gc.get_objects() if issubclass(type(o), torch.Tensor))


def test_no_memory_growth_over_100_cams(tiny):
    x = torch.randn(1, 1, 48, 48)
    for _ in range(10):  # warm-up: allocator pools, lazy imports
        compute_cams(tiny, x, "gradcam")
    gc.collect()
    tensors, rss = _live_tensors(), _rss_bytes()
    for i in range(100):
        compute_cams(tiny, x, ("gradcam", "gradcam++", "layercam", "eigencam")[i % 4])
    gc.collect()
    assert _live_tensors() <= tensors  # nothing retained: activations, gradients, graphs
    assert _rss_bytes() - rss < 40 * 2**20
    assert _hooks(tiny) == 0


def test_overlay_blends_a_resized_map_over_a_gray_face():
    face = np.full((96, 96), 100, np.uint8)
    cam = np.zeros((6, 6), np.float32)
    cam[:3] = 1.0
    out = overlay(face, cam, alpha=0.5)
    assert out.shape == (96, 96, 3) and out.dtype == np.uint8
    top, bottom = out[10, 48], out[90, 48]
    assert top[0] > top[2] and bottom[2] > bottom[0]  # jet: hot = red, cold = blue
    np.testing.assert_array_equal(overlay(face[:, :, None], cam, alpha=0.0), np.repeat(face[:, :, None], 3, 2))
    assert overlay(np.zeros((48, 48, 3), np.uint8), cam, colormap="inferno").shape == (48, 48, 3)
    with pytest.raises(ValueError, match="unknown colormap"):
        overlay(face, cam, colormap="rainbow2")
