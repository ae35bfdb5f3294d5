"""Mixup / CutMix: targets are convex combinations that match exactly what the pixels show."""
import numpy as np
import pytest
import torch

from fer_engine.config import MixConfig
from fer_engine.recipe.mixing import cutmix_box, mix_batch, one_hot_targets


def test_one_hot_targets_with_smoothing():
    t = one_hot_targets(torch.tensor([2, 0]), 4, smoothing=0.2)
    torch.testing.assert_close(t, torch.tensor([[0.05, 0.05, 0.85, 0.05], [0.85, 0.05, 0.05, 0.05]]))


@pytest.mark.parametrize("seed", range(5))
def test_mixup_mixes_images_and_targets_with_the_same_weight(seed):
    b = 6
    targets = one_hot_targets(torch.arange(b), b)
    x = targets.view(b, b, 1, 1).clone()  # image i "shows" class i in channel i
    xm, tm = mix_batch(x, targets, MixConfig(mixup_alpha=0.4, prob=1.0), np.random.default_rng(seed),
                       torch.Generator().manual_seed(seed))
    torch.testing.assert_close(xm.view(b, b), tm)  # the images carry exactly the target mix
    assert torch.all(tm >= 0) and torch.allclose(tm.sum(1), torch.ones(b))
    assert (tm > 0).sum(1).max() <= 2  # each row mixes at most two classes
    assert torch.equal(x, targets.view(b, b, 1, 1))  # inputs untouched


@pytest.mark.parametrize("seed", range(8))
def test_cutmix_target_weights_equal_the_pasted_area(seed):
    b, h, w = 5, 12, 10
    x = torch.arange(b, dtype=torch.float32).view(b, 1, 1, 1).expand(b, 1, h, w).contiguous()
    xm, tm = mix_batch(x, one_hot_targets(torch.arange(b), b),
                       MixConfig(cutmix_alpha=1.0, prob=1.0), np.random.default_rng(seed),
                       torch.Generator().manual_seed(seed))
    area = torch.stack([(xm == j).float().mean((1, 2, 3)) for j in range(b)], 1)
    torch.testing.assert_close(area, tm)


def test_cutmix_box_is_clipped_and_sized_by_lambda():
    rng = np.random.default_rng(0)
    for lam in (0.1, 0.5, 0.9):
        areas = []
        for _ in range(400):
            top, bottom, left, right = cutmix_box(40, 40, lam, rng)
            assert 0 <= top <= bottom <= 40 and 0 <= left <= right <= 40
            areas.append((bottom - top) * (right - left) / 1600)
        assert max(areas) <= 1 - lam + 0.03  # clipping only ever shrinks the box
        if lam >= 0.5:  # small boxes are often unclipped, and then have area 1 - lam
            assert max(areas) == pytest.approx(1 - lam, abs=0.03)


def test_probability_and_switch_choose_what_happens():
    b = 8
    x = torch.arange(b, dtype=torch.float32).view(b, 1, 1, 1).expand(b, 1, 6, 6).contiguous()
    t = one_hot_targets(torch.arange(b), b)
    g = np.random.default_rng(0)
    assert mix_batch(x, t, MixConfig(mixup_alpha=1.0, prob=0.0), g)[0] is x
    assert mix_batch(x, t, MixConfig(), g)[0] is x  # both alphas 0 = off
    both = dict(mixup_alpha=1.0, cutmix_alpha=1.0, prob=1.0)
    for _ in range(5):
        cut, _ = mix_batch(x, t, MixConfig(**both, switch_prob=1.0), g)
        assert torch.all(cut == cut.round())  # pasted pixels only, never blended
        mixed, tm = mix_batch(x, t, MixConfig(**both, switch_prob=0.0), g)
        torch.testing.assert_close(mixed[:, 0, 0, 0], tm @ torch.arange(b, dtype=torch.float32))


def test_the_mix_weight_comes_from_the_host_rng_alone():
    """lambda is a host draw: on a GPU, mixing a batch must not read a device generator back."""
    b = 6
    targets = one_hot_targets(torch.arange(b), b)
    x = targets.view(b, b, 1, 1).clone()
    cfg = MixConfig(mixup_alpha=0.4, prob=1.0)

    def own_class_weight(rng_seed: int, perm_seed: int) -> torch.Tensor:
        """lambda: the weight each image keeps of its own class (1 only if paired with itself)."""
        tm = mix_batch(x, targets, cfg, np.random.default_rng(rng_seed), torch.Generator().manual_seed(perm_seed))[1]
        return tm.diagonal().min()

    lam = own_class_weight(7, 0)
    assert 0 < lam < 1
    for perm_seed in (1, 2, 3):  # other pairings, the same weight
        torch.testing.assert_close(own_class_weight(7, perm_seed), lam)
    assert not torch.allclose(own_class_weight(8, 0), lam)
