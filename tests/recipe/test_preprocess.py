"""prepare_batch (the one uint8 -> model input conversion) and the choice of normalisation."""
import numpy as np
import pytest
import torch

from fer_engine.config import AugmentConfig, ConfigError, RunConfig
from fer_engine.recipe import normalize
from fer_engine.recipe.augment import BatchAugment
from fer_engine.recipe.preprocess import prepare_batch


def test_uint8_becomes_normalised_channels_first_float():
    x = torch.tensor([0, 51, 255], dtype=torch.uint8).view(1, 3, 1, 1).expand(2, 3, 3, 3).contiguous()
    out = prepare_batch(x, [0.2], [0.5], 0)
    assert out.shape == (2, 3, 3, 3) and out.dtype == torch.float32
    torch.testing.assert_close(out[0, :, 0, 0], torch.full((3,), -0.4))
    torch.testing.assert_close(out[0, :, 1, 0], torch.zeros(3))
    torch.testing.assert_close(out[0, :, 2, 0], torch.full((3,), 1.6))
    per_channel = prepare_batch(x, [0.0, 0.2, 1.0], [1.0, 1.0, 0.5], 0)
    torch.testing.assert_close(per_channel[0, :, 2, 0], torch.tensor([1.0, 0.8, 0.0]))


def test_upscales_to_the_input_size_and_keeps_content():
    x = torch.randint(0, 256, (3, 48, 48, 1), dtype=torch.uint8)
    out = prepare_batch(x, [0.0], [1.0], 96)
    assert out.shape == (3, 1, 96, 96)
    assert out.mean().item() == pytest.approx(x.float().mean().item() / 255, abs=2e-3)
    flat = torch.full((1, 48, 48, 1), 100, dtype=torch.uint8)
    torch.testing.assert_close(prepare_batch(flat, [0.0], [1.0], 224), torch.full((1, 1, 224, 224), 100 / 255))
    assert prepare_batch(x, [0.0], [1.0], 24).shape == (3, 1, 24, 24)  # antialiased downscale


def test_augmentation_runs_before_resize_and_normalisation():
    x = torch.randint(0, 256, (4, 16, 16, 1), dtype=torch.uint8)
    flip = BatchAugment(AugmentConfig(hflip=1.0, rotation=0, translate=0, scale=0, brightness=0, contrast=0))
    plain = prepare_batch(x, [0.5], [0.25], 32)
    flipped = prepare_batch(x, [0.5], [0.25], 32, lambda batch: flip(batch, np.random.default_rng(0)))
    torch.testing.assert_close(flipped, plain.flip(-1))


def test_bad_inputs_are_refused_with_a_message():
    with pytest.raises(ValueError, match="uint8"):
        prepare_batch(torch.zeros(1, 4, 4, 1), [0.5], [0.5], 0)
    with pytest.raises(ValueError, match="2 values for 3-channel"):
        prepare_batch(torch.zeros(1, 4, 4, 3, dtype=torch.uint8), [0.5, 0.5], [0.5], 0)


def test_dataset_mode_uses_training_statistics_per_channel(monkeypatch):
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, (10, 6, 6, 3), dtype=np.uint8)
    imgs[..., 1] //= 2
    monkeypatch.setattr(normalize, "_CHUNK", 3)  # several chunks must give the exact statistics
    mean, std = normalize.resolve_mean_std(RunConfig(), imgs, None)
    f = imgs.reshape(-1, 3) / 255.0
    np.testing.assert_allclose(mean, f.mean(0), rtol=1e-10)
    np.testing.assert_allclose(std, f.std(0), rtol=1e-8)


def test_fixed_mode_broadcasts_and_backbone_mode_averages_for_grayscale():
    gray = np.zeros((2, 4, 4, 1), np.uint8)
    rgb = np.zeros((2, 4, 4, 3), np.uint8)
    fixed = RunConfig().replace(**{"normalize.mode": "fixed", "normalize.mean": [0.4], "normalize.std": [0.2]})
    assert normalize.resolve_mean_std(fixed, rgb, None) == ([0.4] * 3, [0.2] * 3)
    imagenet = ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    bb = RunConfig().replace(**{"normalize.mode": "backbone"})
    mean, std = normalize.resolve_mean_std(bb, gray, imagenet)
    assert mean == pytest.approx([0.449]) and std == pytest.approx([0.226])
    assert normalize.resolve_mean_std(bb, rgb, imagenet) == imagenet
    with pytest.raises(ConfigError, match="declares no mean/std"):
        normalize.resolve_mean_std(bb, gray, None)
    wrong = fixed.replace(**{"normalize.mean": [0.1, 0.2]})
    with pytest.raises(ConfigError, match="normalize.mean has 2 values"):
        normalize.resolve_mean_std(wrong, rgb, None)


def test_constant_images_do_not_divide_by_zero():
    mean, std = normalize.dataset_mean_std(np.full((3, 4, 4, 1), 7, np.uint8))
    assert mean == pytest.approx([7 / 255]) and std == [1.0]
