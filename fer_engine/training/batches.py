"""Where training batches come from: the training split's uint8 images, read straight from
the dataset cache's arrays.

On a GPU the images live in GPU memory when they take at most `GPU_SHARE` of its free memory
(FER2013 at 48x48 is 66 MB), and a batch is one gather there. A larger set (say AffectNet at
112x112 RGB, 11 GB, on a 12 GB card) stays in host memory: each batch is gathered on the host
into pinned memory and copied without blocking, so the GPU still never waits on Python work
per image. On CPU the arrays are used in place.
"""
from __future__ import annotations

import numpy as np
import torch

GPU_SHARE = 0.25  # at most this share of the GPU's free memory holds the training images


def fits_on_device(nbytes: int, free_bytes: int, share: float = GPU_SHARE) -> bool:
    """Whether images of `nbytes` go to a GPU with `free_bytes` free (the rest is left to training)."""
    return nbytes <= share * free_bytes


def to_device(array: np.ndarray, device: torch.device) -> torch.Tensor:
    """A host array as a device tensor: pinned and copied asynchronously on CUDA."""
    t = torch.from_numpy(np.ascontiguousarray(array))
    if device.type == "cuda":
        return t.pin_memory().to(device, non_blocking=True)
    return t


class TrainBatches:
    """The training images and labels; `epoch(order)` fixes the visiting order, `images(rows)`
    returns the uint8 (B, H, W, C) batch at those positions of it, on the device.

    `on_device=None` decides by size (see module doc); True/False forces the placement.
    """

    def __init__(self, images: np.ndarray, labels: np.ndarray, device: torch.device,
                 on_device: bool | None = None):
        self.device = device
        if on_device is None:
            on_device = device.type != "cuda" or fits_on_device(images.nbytes, torch.cuda.mem_get_info(device)[0])
        self.on_device = on_device
        self._images = to_device(images, device) if on_device else torch.from_numpy(np.ascontiguousarray(images))
        self._labels = to_device(labels.astype(np.int64), device)
        self._order = torch.zeros(0, dtype=torch.int64)
        self.note = "" if on_device or device.type != "cuda" else (
            f"training images ({images.nbytes / 2**30:.1f} GiB) kept in host memory: over "
            f"{GPU_SHARE:.0%} of the GPU's free memory; batches are gathered on the host")

    def epoch(self, order: np.ndarray) -> torch.Tensor:
        """Start an epoch visiting the images in `order`; their labels in that order, on the device."""
        host = torch.from_numpy(np.asarray(order, dtype=np.int64))
        moved = host.to(self.device)
        self._order = moved if self.on_device else host
        return self._labels[moved]

    def images(self, rows: slice) -> torch.Tensor:
        """uint8 (B, H, W, C) images at positions `rows` of the epoch's order, on the device."""
        idx = self._order[rows]
        if self.on_device:
            return self._images[idx]
        pinned = self.device.type == "cuda"
        out = torch.empty((len(idx), *self._images.shape[1:]), dtype=torch.uint8, pin_memory=pinned)
        torch.index_select(self._images, 0, idx, out=out)
        return out.to(self.device, non_blocking=pinned)
