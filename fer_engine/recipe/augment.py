"""Batched, on-device image augmentation with per-sample random parameters.

Every op works on the whole batch at once (no per-image Python loop). The per-image random
parameters are drawn on the host with numpy and reach the device in one copy, so a GPU sees
about ten kernels per batch instead of a hundred small ones building matrices: at 48x48 a
training step is short enough for kernel launches to count. Training goes further with
`AugmentStream`, which draws and sends the parameters of many batches at once.

Geometry (flip, rotation, translation, scale, perspective, random resized crop) is composed
into one projective sampling matrix per image and applied in a single `grid_sample` warp; a
flip without any other geometry is an exact index reversal. Photometric ops follow: Gaussian
blur (separable), brightness/contrast (one gain and offset per image), additive Gaussian noise
(drawn on the device), then random erasing (zeroed rectangles).
Inputs and outputs are float (B, C, H, W) in [0, 1].

Coordinates are grid_sample's normalised [-1, 1] (align_corners=False); a sampling matrix maps
an output pixel to where it is read from in the input. Positive angles rotate the picture
counter-clockwise as seen on screen.
"""
from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from functools import lru_cache, reduce

import numpy as np
import torch
import torch.nn.functional as F

from ..config import AugmentConfig

_ERASE_AREA = (0.02, 0.33)  # fraction of the image (torchvision's RandomErasing defaults)
_ERASE_LOG_RATIO = (math.log(0.3), math.log(3.3))
_CROP_LOG_RATIO = (math.log(3 / 4), math.log(4 / 3))
_UNIT_CORNERS = np.array([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]])
_MIRROR = np.diag([-1.0, 1.0, 1.0])  # sampling matrix of a horizontal flip


@dataclass
class AugmentParams:
    """The host-side random draw for one batch of B images (numpy arrays; None = op off)."""

    flip: np.ndarray | None  # (B,) bool; folded into `warp` when there is one
    warp: np.ndarray | None  # (B, 3, 3) output -> input sampling matrices
    blur: np.ndarray | None  # (B,) bool
    brightness: np.ndarray | None  # (B,) multiplicative factor
    contrast: np.ndarray | None  # (B,) factor around each image's mean
    erase_rows: np.ndarray | None  # (B, H) bool; an image's zeroed box is rows x cols
    erase_cols: np.ndarray | None  # (B, W) bool


def affine_sampling_matrix(angle_deg: np.ndarray, translate: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """(B, 3, 3) sampling matrices of forward transforms translate o rotate o scale.

    angle_deg (B,) counter-clockwise on screen, translate (B, 2) in fractions of the side
    (+x right, +y down), scale (B,) zoom factor (> 1 enlarges the face).
    """
    a = np.deg2rad(angle_deg)
    c, s = np.cos(a) / scale, np.sin(a) / scale
    tx, ty = 2.0 * translate[:, 0], 2.0 * translate[:, 1]  # fraction of the side -> normalised units
    m = np.zeros((len(a), 3, 3))
    # inverse of T(t) R(a) S(s) is S(1/s) R(-a) T(-t); screen-CCW R(a) = [[c, s], [-s, c]]
    m[:, 0, 0], m[:, 0, 1], m[:, 0, 2] = c, -s, -(c * tx - s * ty)
    m[:, 1, 0], m[:, 1, 1], m[:, 1, 2] = s, c, -(s * tx + c * ty)
    m[:, 2, 2] = 1.0
    return m


def homography_from_corners(src: np.ndarray) -> np.ndarray:
    """(B, 3, 3) matrices sending the output corners (-1,-1),(1,-1),(1,1),(-1,1) to `src` (B, 4, 2)."""
    b = len(src)
    xo, yo = np.broadcast_to(_UNIT_CORNERS[:, 0], (b, 4)), np.broadcast_to(_UNIT_CORNERS[:, 1], (b, 4))
    xi, yi = src[..., 0], src[..., 1]
    one, zero = np.ones_like(xi), np.zeros_like(xi)
    rows_x = np.stack([xo, yo, one, zero, zero, zero, -xo * xi, -yo * xi], -1)
    rows_y = np.stack([zero, zero, zero, xo, yo, one, -xo * yi, -yo * yi], -1)
    a = np.concatenate([rows_x, rows_y], 1)  # (B, 8, 8)
    rhs = np.concatenate([xi, yi], 1)[..., None]
    h = np.linalg.solve(a, rhs)[..., 0]
    return np.concatenate([h, np.ones((b, 1))], 1).reshape(b, 3, 3)


@lru_cache(maxsize=8)
def _pixel_centres(h: int, w: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """(H*W, 3) homogeneous normalised coordinates of the pixel centres, cached per size:
    the same for every batch, and a dozen kernel launches to build on a GPU."""
    ys = (2 * torch.arange(h, device=device, dtype=dtype) + 1) / h - 1
    xs = (2 * torch.arange(w, device=device, dtype=dtype) + 1) / w - 1
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([gx.reshape(-1), gy.reshape(-1), torch.ones_like(gx).reshape(-1)], 1)


def warp(x: torch.Tensor, matrix: torch.Tensor, projective: bool = True) -> torch.Tensor:
    """Resample (B, C, H, W) through per-image sampling matrices (B, 3, 3) on x's device.

    `projective=False` promises affine matrices (last row 0, 0, 1) and skips the division.
    Reflection padding: areas read from outside the image show mirrored face instead of
    black corners or borders that test images never have.
    """
    b, _, h, w = x.shape
    m = matrix.to(x.dtype)
    centres = _pixel_centres(h, w, x.device, x.dtype)
    if projective:
        p = centres @ m.transpose(1, 2)  # (B, HW, 3)
        grid = p[..., :2] / p[..., 2:]
    else:
        grid = centres @ m[:, :2].transpose(1, 2)  # (B, HW, 2)
    return F.grid_sample(x, grid.view(b, h, w, 2), mode="bilinear", padding_mode="reflection",
                         align_corners=False)


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
    rows = reduce(operator.add, (k * x[..., :, i:i + w] for i, k in enumerate(taps)))
    return reduce(operator.add, (k * rows[..., i:i + h, :] for i, k in enumerate(taps)))


def upload(arrays: dict[str, np.ndarray], device: torch.device) -> dict[str, torch.Tensor]:
    """Per-image host arrays (B, ...) as float32 tensors on `device`, sent in one copy.

    On a GPU the copy goes through the pinned-memory cache and does not wait for the
    stream, so the host keeps queueing work ahead of the device.
    """
    if not arrays:
        return {}
    b = len(next(iter(arrays.values())))
    flat = [np.asarray(a, np.float32).reshape(b, -1) for a in arrays.values()]
    packed = torch.from_numpy(np.concatenate(flat, 1))
    if device.type == "cuda":
        packed = packed.pin_memory()
    packed = packed.to(device, non_blocking=True)
    out, start = {}, 0
    for (name, a), f in zip(arrays.items(), flat):
        out[name] = packed[:, start:start + f.shape[1]].view(np.shape(a))
        start += f.shape[1]
    return out


class BatchAugment:
    """Callable `(x float (B, C, H, W) in [0, 1], rng, generator=None) -> augmented x` from an AugmentConfig.

    `rng` (numpy) draws the per-image parameters; `generator` (a torch generator on x's
    device) draws the pixel noise. Strengths (see AugmentConfig): hflip/blur/erasing are
    per-image probabilities; rotation (degrees), translate (fraction of side), scale
    (relative zoom), brightness and contrast (relative change) are maxima of uniform
    per-image draws; random_resized_crop is the minimum area fraction kept (aspect
    3/4..4/3); perspective moves each sampled corner inwards by up to that fraction of the
    half-side (torchvision's distortion_scale); noise is the std of additive Gaussian noise.
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

    def __call__(self, x: torch.Tensor, rng: np.random.Generator,
                 generator: torch.Generator | None = None) -> torch.Tensor:
        if self.is_identity:
            return x
        return self.apply(x, self.sample(x.shape, rng), generator)

    # -- random draw (host) -----------------------------------------------------------
    def sample(self, shape, rng: np.random.Generator) -> AugmentParams:
        """Draw per-image parameters for a batch of `shape` (B, C, H, W)."""
        c = self.cfg
        b, _, h, w = shape

        def coin(p: float):
            return rng.random(b) < p if p > 0 else None

        def factor(strength: float):
            return rng.uniform(1 - strength, 1 + strength, b) if strength > 0 else None

        flip = coin(c.hflip)
        warp_m = self._sample_warp(b, rng) if self.uses_warp else None
        if warp_m is not None and flip is not None:
            warp_m = np.where(flip[:, None, None], _MIRROR @ warp_m, warp_m)  # read the mirrored image
        rows, cols = self._sample_erase(b, h, w, rng) if c.erasing > 0 else (None, None)
        return AugmentParams(
            flip=flip, warp=warp_m, blur=coin(c.blur),
            brightness=factor(c.brightness), contrast=factor(c.contrast), erase_rows=rows, erase_cols=cols,
        )

    def _sample_warp(self, b: int, rng: np.random.Generator) -> np.ndarray:
        c = self.cfg
        m = affine_sampling_matrix(rng.uniform(-c.rotation, c.rotation, b),
                                   rng.uniform(-c.translate, c.translate, (b, 2)),
                                   rng.uniform(1 - c.scale, 1 + c.scale, b))
        if c.perspective > 0:
            inward = rng.uniform(0.0, c.perspective, (b, 4, 2))
            m = m @ homography_from_corners(_UNIT_CORNERS * (1 - inward))
        if c.random_resized_crop > 0:
            area = rng.uniform(c.random_resized_crop, 1.0, b)
            ratio = np.exp(rng.uniform(*_CROP_LOG_RATIO, b))
            half_w = np.minimum(np.sqrt(area * ratio), 1.0)
            half_h = np.minimum(np.sqrt(area / ratio), 1.0)
            crop = np.zeros((b, 3, 3))
            crop[:, 0, 0], crop[:, 1, 1], crop[:, 2, 2] = half_w, half_h, 1.0
            crop[:, 0, 2] = rng.uniform(-1.0, 1.0, b) * (1 - half_w)
            crop[:, 1, 2] = rng.uniform(-1.0, 1.0, b) * (1 - half_h)
            m = crop @ m
        return m

    def _sample_erase(self, b: int, h: int, w: int, rng: np.random.Generator):
        area = rng.uniform(*_ERASE_AREA, b) * h * w
        ratio = np.exp(rng.uniform(*_ERASE_LOG_RATIO, b))
        eh = np.clip(np.round(np.sqrt(area * ratio)), 1, h)
        ew = np.clip(np.round(np.sqrt(area / ratio)), 1, w)
        top = np.floor(rng.random(b) * (h - eh + 1))[:, None]
        left = np.floor(rng.random(b) * (w - ew + 1))[:, None]
        on = (rng.random(b) < self.cfg.erasing)[:, None]
        r, q = np.arange(h), np.arange(w)
        rows = (r >= top) & (r < top + eh[:, None]) & on
        cols = (q >= left) & (q < left + ew[:, None])
        return rows, cols

    # -- application (device) -----------------------------------------------------------
    def apply(self, x: torch.Tensor, p: AugmentParams, generator: torch.Generator | None = None) -> torch.Tensor:
        """Apply a drawn set of parameters to the batch (deterministic given `p` and `generator`)."""
        return self.apply_on_device(x, self.to_device(p, x.device), generator)

    def to_device(self, p: AugmentParams, device: torch.device) -> dict[str, torch.Tensor]:
        """The per-image parameters `apply_on_device` reads, as float tensors on `device` (one copy)."""
        host = {"warp": p.warp, "blur": p.blur, "erase_rows": p.erase_rows, "erase_cols": p.erase_cols}
        if p.warp is None:
            host["flip"] = p.flip
        if p.brightness is not None or p.contrast is not None:
            # brightness k then contrast c around the new mean m': x k c + m' (1 - c), with m' = k m
            k = p.brightness if p.brightness is not None else 1.0
            c = p.contrast if p.contrast is not None else 1.0
            host["gain"], host["offset"] = np.asarray(k * c), np.asarray(k * (1 - c))
        return upload({name: a for name, a in host.items() if a is not None}, device)

    def apply_on_device(self, x: torch.Tensor, d: dict[str, torch.Tensor],
                        generator: torch.Generator | None = None) -> torch.Tensor:
        """Apply parameters already on x's device (from `to_device`, or a slice of them)."""
        b, _, h, w = x.shape
        col = (-1, 1, 1, 1)
        if "flip" in d:
            x = torch.where(d["flip"].view(col) > 0, x.flip(-1), x)
        if "warp" in d:
            x = warp(x, d["warp"], self.cfg.perspective > 0)
        if "blur" in d:
            x = torch.where(d["blur"].view(col) > 0, gaussian_blur(x, self.cfg.blur_sigma), x)
        if "gain" in d:
            offset = x.mean(dim=(1, 2, 3), keepdim=True) * d["offset"].view(col)
            x = torch.addcmul(offset, x, d["gain"].view(col))
        if self.cfg.noise > 0:
            gdev = generator.device if generator is not None else x.device
            x = x + (torch.randn(x.shape, generator=generator, device=gdev) * self.cfg.noise).to(x.device)
        x = x.clamp(0.0, 1.0)
        if "erase_rows" in d:
            box = d["erase_rows"].view(b, 1, h, 1) * d["erase_cols"].view(b, 1, 1, w)  # 1 inside, else 0
            x = torch.addcmul(x, x, box, value=-1.0)
        return x


class AugmentStream:
    """Training's augmentation: parameters for `chunk` batches are drawn and sent to the device
    at once, and each batch takes the next slice of them.

    Per batch the host then draws nothing and copies nothing: the slices are views of tensors
    already on the device, so a GPU step whose kernels are shorter than their launches is not
    held back by the numpy draw (about 90 us for 256 images) or the upload. `reset` at the
    start of every epoch drops the leftovers, so the draws of an epoch depend only on the
    generator's state when it began, which is what a checkpoint saves for resuming.
    """

    def __init__(self, aug: BatchAugment, rng: np.random.Generator,
                 generator: torch.Generator | None = None, chunk: int = 64):
        self.aug, self.rng, self.generator, self.chunk = aug, rng, generator, chunk
        self.reset()

    def reset(self) -> None:
        self._params: dict[str, torch.Tensor] = {}
        self._next = self._end = 0  # the next unused image of the draw, and the draw's size

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        b = len(x)
        if self._next + b > self._end:
            draw = self.aug.sample((b * self.chunk, *x.shape[1:]), self.rng)
            self._params, self._next, self._end = self.aug.to_device(draw, x.device), 0, b * self.chunk
        start, self._next = self._next, self._next + b
        d = {name: t[start:self._next] for name, t in self._params.items()}
        return self.aug.apply_on_device(x, d, self.generator)
