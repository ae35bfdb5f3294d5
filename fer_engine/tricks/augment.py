"""Batched, on-device image augmentation with per-sample random parameters.

Every op works on the whole batch at once (no per-image Python loop), on whatever device the
batch lives on. Geometry (rotation, translation, scale, perspective, random resized crop) is
composed into one projective sampling matrix per image and applied in a single `grid_sample`
warp; flips are exact index reversals. Photometric ops follow: Gaussian blur (separable),
brightness/contrast, additive Gaussian noise, then random erasing (zeroed rectangles).
Inputs and outputs are float (B, C, H, W) in [0, 1].

Coordinates are grid_sample's normalised [-1, 1] (align_corners=False); a sampling matrix maps
an output pixel to where it is read from in the input. Positive angles rotate the picture
counter-clockwise as seen on screen.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import torch
import torch.nn.functional as F

from ..config import AugmentConfig

_ERASE_AREA = (0.02, 0.33)  # fraction of the image (torchvision's RandomErasing defaults)
_ERASE_LOG_RATIO = (math.log(0.3), math.log(3.3))
_CROP_LOG_RATIO = (math.log(3 / 4), math.log(4 / 3))


@dataclass
class AugmentParams:
    """The random draw for one batch: everything `BatchAugment.apply` needs."""

    flip: torch.Tensor | None  # (B,) bool
    warp: torch.Tensor | None  # (B, 3, 3) output -> input sampling matrices
    blur: torch.Tensor | None  # (B,) bool
    brightness: torch.Tensor | None  # (B,) multiplicative factor
    contrast: torch.Tensor | None  # (B,) factor around each image's mean
    noise: torch.Tensor | None  # (B, C, H, W) additive noise
    erase: torch.Tensor | None  # (B, 1, H, W) bool, True where pixels are zeroed


def _rand(shape, gen: torch.Generator | None, device, low: float = 0.0, high: float = 1.0) -> torch.Tensor:
    """Uniform draws from `gen` (on its own device), moved to `device`."""
    u = torch.rand(shape, generator=gen, device=gen.device if gen is not None else device)
    return (low + (high - low) * u).to(device)


@lru_cache(maxsize=8)
def _unit_corners(device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """(4, 2) corners (-1,-1), (1,-1), (1,1), (-1,1); cached so no host-to-device copy per batch."""
    return torch.tensor([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]], device=device, dtype=dtype)


def affine_sampling_matrix(angle_deg: torch.Tensor, translate: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """(B, 3, 3) sampling matrices of forward transforms translate o rotate o scale.

    angle_deg (B,) counter-clockwise on screen, translate (B, 2) in fractions of the side
    (+x right, +y down), scale (B,) zoom factor (> 1 enlarges the face).
    """
    a = torch.deg2rad(angle_deg)
    c, s = torch.cos(a), torch.sin(a)
    t = 2.0 * translate  # fraction of the side -> normalised units
    inv_s = 1.0 / scale
    m = torch.zeros(angle_deg.shape[0], 3, 3, device=angle_deg.device, dtype=angle_deg.dtype)
    # inverse of T(t) R(a) S(s) is S(1/s) R(-a) T(-t); screen-CCW R(a) = [[c, s], [-s, c]]
    m[:, 0, 0], m[:, 0, 1] = c * inv_s, -s * inv_s
    m[:, 1, 0], m[:, 1, 1] = s * inv_s, c * inv_s
    m[:, 0, 2] = -(m[:, 0, 0] * t[:, 0] + m[:, 0, 1] * t[:, 1])
    m[:, 1, 2] = -(m[:, 1, 0] * t[:, 0] + m[:, 1, 1] * t[:, 1])
    m[:, 2, 2] = 1.0
    return m


def homography_from_corners(src: torch.Tensor) -> torch.Tensor:
    """(B, 3, 3) matrices sending the output corners (-1,-1),(1,-1),(1,1),(-1,1) to `src` (B, 4, 2)."""
    dst = _unit_corners(src.device, src.dtype)
    b = src.shape[0]
    xo, yo = dst[:, 0].expand(b, 4), dst[:, 1].expand(b, 4)
    xi, yi = src[..., 0], src[..., 1]
    one, zero = torch.ones_like(xi), torch.zeros_like(xi)
    rows_x = torch.stack([xo, yo, one, zero, zero, zero, -xo * xi, -yo * xi], -1)
    rows_y = torch.stack([zero, zero, zero, xo, yo, one, -xo * yi, -yo * yi], -1)
    a = torch.cat([rows_x, rows_y], 1)  # (B, 8, 8)
    rhs = torch.cat([xi, yi], 1).unsqueeze(-1)
    h = torch.linalg.solve(a, rhs).squeeze(-1)
    return torch.cat([h, torch.ones_like(h[:, :1])], 1).view(b, 3, 3)


@lru_cache(maxsize=8)
def _pixel_centres(h: int, w: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """(3, H*W) homogeneous normalised coordinates of the pixel centres, cached per size:
    the same for every batch, and a dozen kernel launches to build on a GPU."""
    ys = (2 * torch.arange(h, device=device, dtype=dtype) + 1) / h - 1
    xs = (2 * torch.arange(w, device=device, dtype=dtype) + 1) / w - 1
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([gx.reshape(-1), gy.reshape(-1), torch.ones_like(gx).reshape(-1)])


def warp(x: torch.Tensor, matrix: torch.Tensor) -> torch.Tensor:
    """Resample (B, C, H, W) through per-image projective sampling matrices.

    Reflection padding: areas read from outside the image show mirrored face instead of
    black corners or borders that test images never have.
    """
    b, _, h, w = x.shape
    p = matrix.to(x.dtype) @ _pixel_centres(h, w, x.device, x.dtype)  # (B, 3, HW)
    grid = (p[:, :2] / p[:, 2:3]).transpose(1, 2).reshape(b, h, w, 2)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of every image, edges replicated.

    Written as a weighted sum of shifted views (one term per kernel tap, not per image):
    much faster on CPU than a depthwise conv with 1-pixel-thin kernels, and as fast on GPU.
    """
    radius = max(1, math.ceil(3 * sigma))
    taps = [math.exp(-0.5 * (t / sigma) ** 2) for t in range(-radius, radius + 1)]
    taps = [t / sum(taps) for t in taps]
    h, w = x.shape[-2:]
    x = F.pad(x, (radius, radius, radius, radius), mode="replicate")
    rows = sum(k * x[..., :, i:i + w] for i, k in enumerate(taps))
    return sum(k * rows[..., i:i + h, :] for i, k in enumerate(taps))


class BatchAugment:
    """Callable `(x float (B, C, H, W) in [0, 1], generator=None) -> augmented x` from an AugmentConfig.

    Strengths (see AugmentConfig): hflip/blur/erasing are per-image probabilities; rotation
    (degrees), translate (fraction of side), scale (relative zoom), brightness and contrast
    (relative change) are maxima of uniform per-image draws; random_resized_crop is the
    minimum area fraction kept (aspect 3/4..4/3); perspective moves each sampled corner inwards
    by up to that fraction of the half-side (torchvision's distortion_scale); noise is the std
    of additive Gaussian noise.
    """

    def __init__(self, cfg: AugmentConfig):
        self.cfg = cfg

    @property
    def uses_warp(self) -> bool:
        c = self.cfg
        return any(v > 0 for v in (c.rotation, c.translate, c.scale, c.random_resized_crop, c.perspective))

    @property
    def is_identity(self) -> bool:
        c = self.cfg
        return not self.uses_warp and not any(
            v > 0 for v in (c.hflip, c.blur, c.noise, c.brightness, c.contrast, c.erasing))

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        if self.is_identity:
            return x
        return self.apply(x, self.sample(x.shape, x.device, generator))

    # -- random draw ---------------------------------------------------------------
    def sample(self, shape, device, generator: torch.Generator | None = None) -> AugmentParams:
        """Draw per-image parameters for a batch of `shape` (B, C, H, W)."""
        c = self.cfg
        b, ch, h, w = shape
        g = generator

        def coin(p: float):
            return _rand(b, g, device) < p if p > 0 else None

        def factor(strength: float):
            return _rand(b, g, device, 1 - strength, 1 + strength) if strength > 0 else None

        noise = None
        if c.noise > 0:
            gdev = g.device if g is not None else device
            noise = (torch.randn(shape, generator=g, device=gdev) * c.noise).to(device)
        return AugmentParams(
            flip=coin(c.hflip),
            warp=self._sample_warp(b, device, g) if self.uses_warp else None,
            blur=coin(c.blur),
            brightness=factor(c.brightness),
            contrast=factor(c.contrast),
            noise=noise,
            erase=self._sample_erase(b, h, w, device, g) if c.erasing > 0 else None,
        )

    def _sample_warp(self, b: int, device: torch.device, g) -> torch.Tensor:
        c = self.cfg
        m = affine_sampling_matrix(
            _rand(b, g, device, -c.rotation, c.rotation),
            _rand((b, 2), g, device, -c.translate, c.translate),
            _rand(b, g, device, 1 - c.scale, 1 + c.scale),
        )
        if c.perspective > 0:
            inward = _rand((b, 4, 2), g, device, 0.0, c.perspective)
            m = m @ homography_from_corners(_unit_corners(m.device, m.dtype) * (1 - inward))
        if c.random_resized_crop > 0:
            area = _rand(b, g, device, c.random_resized_crop, 1.0)
            ratio = torch.exp(_rand(b, g, device, *_CROP_LOG_RATIO))
            half_w = torch.sqrt(area * ratio).clamp(max=1.0)
            half_h = torch.sqrt(area / ratio).clamp(max=1.0)
            crop = torch.zeros(b, 3, 3, device=device)
            crop[:, 0, 0], crop[:, 1, 1], crop[:, 2, 2] = half_w, half_h, 1.0
            crop[:, 0, 2] = _rand(b, g, device, -1.0, 1.0) * (1 - half_w)
            crop[:, 1, 2] = _rand(b, g, device, -1.0, 1.0) * (1 - half_h)
            m = crop @ m
        return m

    def _sample_erase(self, b: int, h: int, w: int, device, g) -> torch.Tensor:
        area = _rand(b, g, device, *_ERASE_AREA) * h * w
        ratio = torch.exp(_rand(b, g, device, *_ERASE_LOG_RATIO))
        eh = torch.sqrt(area * ratio).round().clamp(1, h)
        ew = torch.sqrt(area / ratio).round().clamp(1, w)
        top = torch.floor(_rand(b, g, device) * (h - eh + 1))
        left = torch.floor(_rand(b, g, device) * (w - ew + 1))
        rows = torch.arange(h, device=device).view(1, h, 1)
        cols = torch.arange(w, device=device).view(1, 1, w)
        inside = ((rows >= top.view(-1, 1, 1)) & (rows < (top + eh).view(-1, 1, 1))
                  & (cols >= left.view(-1, 1, 1)) & (cols < (left + ew).view(-1, 1, 1)))
        on = _rand(b, g, device) < self.cfg.erasing
        return (inside & on.view(-1, 1, 1)).unsqueeze(1)

    # -- application -----------------------------------------------------------------
    def apply(self, x: torch.Tensor, p: AugmentParams) -> torch.Tensor:
        """Apply a drawn set of parameters to the batch (deterministic given `p`)."""
        if p.flip is not None:
            x = torch.where(p.flip.view(-1, 1, 1, 1), x.flip(-1), x)
        if p.warp is not None:
            x = warp(x, p.warp)
        if p.blur is not None:
            x = torch.where(p.blur.view(-1, 1, 1, 1), gaussian_blur(x, self.cfg.blur_sigma), x)
        if p.brightness is not None:
            x = x * p.brightness.view(-1, 1, 1, 1)
        if p.contrast is not None:
            mean = x.mean(dim=(1, 2, 3), keepdim=True)
            x = (x - mean) * p.contrast.view(-1, 1, 1, 1) + mean
        if p.noise is not None:
            x = x + p.noise
        x = x.clamp(0.0, 1.0)
        if p.erase is not None:
            x = x.masked_fill(p.erase, 0.0)
        return x
