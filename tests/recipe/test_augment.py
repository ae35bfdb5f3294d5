"""Each batch augmentation changes images exactly as named, batched with no per-image loop."""
import math

import numpy as np
import pytest
import torch

from fer_engine.config import AugmentConfig
from fer_engine.recipe.augment import (AugmentStream, BatchAugment, affine_sampling_matrix, gaussian_blur,
                                       homography_from_corners, warp)

OFF = dict(hflip=0.0, rotation=0.0, translate=0.0, scale=0.0, random_resized_crop=0.0, perspective=0.0,
           blur=0.0, noise=0.0, brightness=0.0, contrast=0.0, erasing=0.0)


def only(**on) -> BatchAugment:
    return BatchAugment(AugmentConfig(**{**OFF, **on}))


def gen(seed=0):
    return np.random.default_rng(seed)


def test_identity_when_everything_is_off():
    aug = only()
    x = torch.rand(4, 1, 16, 16)
    assert aug.is_identity
    assert torch.equal(aug(x, gen()), x)
    assert not BatchAugment(AugmentConfig()).is_identity


def test_flip_mirrors_exactly_and_with_its_probability():
    x = torch.rand(400, 1, 8, 8)
    assert torch.equal(only(hflip=1.0)(x, gen()), x.flip(-1))
    out = only(hflip=0.5)(x, gen())
    flipped = (out == x.flip(-1)).flatten(1).all(1)
    unchanged = (out == x).flatten(1).all(1)
    assert torch.all(flipped ^ unchanged)
    assert 0.4 < flipped.float().mean() < 0.6


def test_flip_folded_into_the_warp_still_mirrors():
    x = torch.rand(50, 1, 12, 12)
    out = only(hflip=0.5, translate=1e-9)(x, gen())  # a warp that moves nothing, plus the flip
    flipped = (out - x.flip(-1)).abs().flatten(1).amax(1) < 1e-5
    unchanged = (out - x).abs().flatten(1).amax(1) < 1e-5
    assert torch.all(flipped ^ unchanged) and 10 < flipped.sum() < 40


def test_rotation_by_90_degrees_moves_a_known_pixel_counter_clockwise():
    x = torch.zeros(1, 1, 16, 16)
    x[0, 0, 2, 10] = 1.0  # up-right of the centre (7.5, 7.5)
    m = affine_sampling_matrix(np.array([90.0]), np.zeros((1, 2)), np.ones(1))
    out = warp(x, torch.as_tensor(m), projective=False)
    # CCW on screen: (dx, dy) = (2.5, -5.5) -> (-5.5, -2.5), i.e. row 5, col 2
    assert out[0, 0, 5, 2] == pytest.approx(1.0, abs=1e-5)
    assert out.sum() == pytest.approx(1.0, abs=1e-4)


def test_translation_shifts_by_the_fraction_of_the_side():
    x = torch.rand(1, 1, 16, 16)
    m = affine_sampling_matrix(np.zeros(1), np.array([[0.25, -0.125]]), np.ones(1))
    out = warp(x, torch.as_tensor(m))  # 4 px right, 2 px up
    torch.testing.assert_close(out[0, 0, 0:14, 4:], x[0, 0, 2:16, 0:12], atol=1e-5, rtol=0)
    torch.testing.assert_close(out[0, 0, 0:14, :4], x[0, 0, 2:16, :4].flip(-1), atol=1e-5, rtol=0)  # mirrored in


def test_scale_zooms_about_the_centre():
    x = torch.zeros(1, 1, 16, 16)
    x[0, 0, 6:10, 6:10] = 1.0  # 4x4 centre block
    out = warp(x, torch.as_tensor(affine_sampling_matrix(np.zeros(1), np.zeros((1, 2)), np.array([2.0]))))
    # zoom x2: the block's 1-valued core spans 6 px and its bilinear ramps double in width
    profile = torch.tensor([0, 0, 0, 0.25, 0.75, 1, 1, 1, 1, 1, 1, 0.75, 0.25, 0, 0, 0])
    torch.testing.assert_close(out[0, 0, 8], profile, atol=1e-5, rtol=0)
    assert out.sum().item() == pytest.approx(4 * 16.0, abs=1e-3)  # area grows by scale^2


def test_random_rotation_angles_stay_within_the_limit():
    p = only(rotation=20.0).sample((500, 1, 8, 8), gen())
    angles = np.rad2deg(np.arctan2(p.warp[:, 1, 0], p.warp[:, 0, 0]))
    assert np.abs(angles).max() <= 20.0 + 1e-4 and np.abs(angles).max() > 15.0


def test_perspective_homography_sends_corners_where_asked():
    src = np.array([[[-0.8, -0.9], [0.7, -1.0], [1.0, 0.6], [-0.9, 0.95]]])
    h = homography_from_corners(src)
    corners = np.array([[-1.0, -1.0, 1.0], [1.0, -1.0, 1.0], [1.0, 1.0, 1.0], [-1.0, 1.0, 1.0]]).T
    p = h[0] @ corners
    np.testing.assert_allclose((p[:2] / p[2]).T, src[0], atol=1e-9)
    out = only(perspective=0.4)(torch.full((8, 1, 16, 16), 0.5), gen())
    # corners move inwards, so the warp reads inside the image: no black borders
    torch.testing.assert_close(out, torch.full_like(out, 0.5), atol=1e-5, rtol=0)


def test_random_resized_crop_keeps_at_least_the_min_area_inside_the_image():
    aug = only(random_resized_crop=0.5)
    p = aug.sample((300, 1, 16, 16), gen())
    half_w, half_h, cx, cy = p.warp[:, 0, 0], p.warp[:, 1, 1], p.warp[:, 0, 2], p.warp[:, 1, 2]
    area = half_w * half_h
    assert area.min() >= 0.5 * 0.999 and area.max() <= 1.0 + 1e-6 and area.max() > 0.8
    assert np.all(np.abs(cx) + half_w <= 1 + 1e-6) and np.all(np.abs(cy) + half_h <= 1 + 1e-6)
    x = torch.zeros(1, 1, 16, 16)
    x[..., :, 8:] = 1.0
    out = aug.apply(x.expand(300, -1, -1, -1), p)
    assert not torch.allclose(out, x.expand_as(out))


def test_blur_applies_the_gaussian_kernel():
    x = torch.zeros(2, 1, 15, 15)
    x[:, 0, 7, 7] = 1.0
    out = only(blur=1.0, blur_sigma=1.0)(x, gen())
    k0 = 1.0 / sum(math.exp(-0.5 * t * t) for t in range(-3, 4))
    assert out[0, 0, 7, 7] == pytest.approx(k0 * k0, rel=1e-5)
    assert out[0, 0, 7, 8] == pytest.approx(k0 * k0 * math.exp(-0.5), rel=1e-5)
    assert out.sum() == pytest.approx(2.0, rel=1e-5)
    torch.testing.assert_close(out, gaussian_blur(x, 1.0))


def test_noise_has_the_requested_std():
    x = torch.full((64, 1, 32, 32), 0.5)
    d = only(noise=0.05)(x, gen()) - x
    assert d.std().item() == pytest.approx(0.05, rel=0.03)
    assert abs(d.mean().item()) < 0.002


def test_brightness_scales_each_image_by_one_factor():
    x = torch.rand(200, 1, 8, 8) * 0.6 + 0.01  # no clipping at factor <= 1.5
    out = only(brightness=0.5)(x, gen())
    ratio = out / x
    per_image = ratio.flatten(1)
    torch.testing.assert_close(per_image, per_image[:, :1].expand_as(per_image))
    means = out.mean((1, 2, 3)) / x.mean((1, 2, 3))
    assert means.min() >= 0.5 - 1e-5 and means.max() <= 1.5 + 1e-5
    assert means.min() < 0.7 and means.max() > 1.3


def test_contrast_scales_spread_around_each_images_mean():
    x = torch.rand(100, 1, 8, 8) * 0.5 + 0.25
    out = only(contrast=0.5)(x, gen())
    torch.testing.assert_close(out.mean((1, 2, 3)), x.mean((1, 2, 3)), atol=1e-5, rtol=0)
    factor = out.std((1, 2, 3)) / x.std((1, 2, 3))
    assert factor.min() >= 0.5 - 1e-4 and factor.max() <= 1.5 + 1e-4 and factor.max() - factor.min() > 0.5


def test_erasing_zeroes_one_rectangle_per_erased_image():
    x = torch.ones(100, 1, 20, 20)
    out = only(erasing=1.0)(x, gen())
    for img in out[:, 0]:
        zero = img == 0
        rows, cols = zero.any(1).nonzero(), zero.any(0).nonzero()
        box = (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1)
        assert zero.sum() == box  # a full rectangle, nothing else touched
        assert 0.01 <= box / 400 <= 0.4
    half = only(erasing=0.5)(x, gen()).flatten(1).eq(0).any(1).float().mean()
    assert 0.35 < half < 0.65


def test_same_generator_seed_gives_the_same_batch():
    aug = BatchAugment(AugmentConfig(random_resized_crop=0.6, perspective=0.2, blur=0.5, noise=0.02,
                                     erasing=0.5))
    x = torch.rand(6, 3, 16, 16)

    def run(seed):
        return aug(x, gen(seed), torch.Generator().manual_seed(seed))

    assert torch.equal(run(3), run(3))
    assert not torch.equal(run(3), run(4))


def test_work_does_not_grow_with_the_batch_no_per_image_python_loop():
    from torch.overrides import TorchFunctionMode

    class Count(TorchFunctionMode):
        calls = 0

        def __torch_function__(self, func, types, args=(), kwargs=None):
            Count.calls += 1
            return func(*args, **(kwargs or {}))

    aug = BatchAugment(AugmentConfig(hflip=0.5, rotation=10, translate=0.1, scale=0.1,
                                     random_resized_crop=0.7, perspective=0.2, blur=0.5, noise=0.02,
                                     brightness=0.2, contrast=0.2, erasing=0.5))
    counts = []
    for b in (2, 64):
        Count.calls = 0
        with Count():
            out = aug(torch.rand(b, 1, 16, 16), gen())
        counts.append(Count.calls)
        assert out.shape == (b, 1, 16, 16) and 0 <= out.min() and out.max() <= 1
    assert counts[0] == counts[1]


def test_stream_serves_one_draw_in_slices_and_draws_afresh_after_reset():
    aug = only(hflip=0.5, rotation=20, brightness=0.3, contrast=0.3, erasing=0.5)
    x = torch.rand(4, 1, 16, 16)
    rng = gen(5)
    stream = AugmentStream(aug, rng, chunk=3)
    first = stream(x)
    state = rng.bit_generator.state
    rest = [stream(x), stream(x)]
    assert rng.bit_generator.state == state  # no host draw within a chunk
    draw = aug.sample((12, 1, 16, 16), gen(5))  # the stream's one draw, for 3 batches of 4
    for k, out in enumerate([first, *rest]):
        part = {name: (None if a is None else a[4 * k:4 * k + 4]) for name, a in vars(draw).items()}
        torch.testing.assert_close(out, aug.apply(x, type(draw)(**part)))
    assert not torch.equal(first, rest[0])
    stream(x)  # the chunk is spent: a fresh draw
    assert rng.bit_generator.state != state
    state = rng.bit_generator.state
    stream.reset()
    stream(x)  # leftovers dropped: draws again though 2 batches of the chunk were left
    assert rng.bit_generator.state != state


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_batch_matches_the_cpu_batch_for_the_same_draw():
    aug = BatchAugment(AugmentConfig(hflip=0.5, rotation=15, translate=0.1, scale=0.1, perspective=0.2,
                                     blur=0.5, brightness=0.3, contrast=0.3, erasing=0.5))
    x = torch.rand(32, 1, 48, 48)
    p = aug.sample(x.shape, gen())
    on_gpu = aug.apply(x.cuda(), p)
    assert on_gpu.is_cuda
    torch.testing.assert_close(on_gpu.cpu(), aug.apply(x, p), atol=1e-4, rtol=0)
