"""Which mean/std normalise the inputs: the training set's own, fixed values, or the backbone's."""
from __future__ import annotations

import numpy as np

from ..config import ConfigError, RunConfig, check_value

_CHUNK = 4096  # images per chunk when accumulating statistics (bounded memory on full FER2013)


def dataset_mean_std(images: np.ndarray) -> tuple[list[float], list[float]]:
    """Per-channel mean/std in [0, 1] units of uint8 (N, H, W, C) images, in float64 chunks."""
    if images.ndim != 4 or images.shape[0] == 0:
        raise ValueError(f"need a non-empty (N, H, W, C) image array, got shape {images.shape}")
    c = images.shape[-1]
    total = np.zeros(c)
    total_sq = np.zeros(c)
    for start in range(0, images.shape[0], _CHUNK):
        chunk = images[start:start + _CHUNK].reshape(-1, c).astype(np.float64) / 255.0
        total += chunk.sum(0)
        total_sq += np.square(chunk).sum(0)
    n = images.size // c
    mean = total / n
    std = np.sqrt(np.maximum(total_sq / n - mean**2, 0.0))
    std = np.where(std < 1e-6, 1.0, std)  # constant images: leave the scale alone
    return mean.tolist(), std.tolist()


def resolve_mean_std(
    cfg: RunConfig,
    train_images: np.ndarray,
    backbone_mean_std: tuple[list, list] | None,
) -> tuple[list[float], list[float]]:
    """The mean/std a run normalises with, one value per image channel.

    normalize.mode "dataset": the training images' statistics; "fixed": `normalize.mean/std`
    (a single value is broadcast to every channel); "backbone": the pretrained backbone's
    (ImageNet) values, averaged to one channel for grayscale input.
    """
    channels = int(train_images.shape[-1])
    mode = cfg.normalize.mode
    check_value("normalize.mode", mode)
    if mode == "dataset":
        return dataset_mean_std(train_images)
    if mode == "fixed":
        mean = _broadcast(cfg.normalize.mean, channels, "normalize.mean")
        check_value("normalize.std", cfg.normalize.std)
        return mean, _broadcast(cfg.normalize.std, channels, "normalize.std")
    if backbone_mean_std is None:  # mode "backbone"
        raise ConfigError(f"normalize.mode is 'backbone' but backbone {cfg.model.backbone!r} "
                          "declares no mean/std; use 'dataset' or 'fixed'")
    mean, std = (list(map(float, v)) for v in backbone_mean_std)
    if channels == 1 and len(mean) > 1:
        return [float(np.mean(mean))], [float(np.mean(std))]
    return _broadcast(mean, channels, "backbone mean"), _broadcast(std, channels, "backbone std")


def _broadcast(values: list[float], channels: int, key: str) -> list[float]:
    vals = [float(v) for v in values]
    if len(vals) == 1:
        return vals * channels
    if len(vals) != channels:
        raise ConfigError(f"{key} has {len(vals)} values but the images have {channels} channel(s)")
    return vals
