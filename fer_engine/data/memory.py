"""Memory estimates before decoding: refuse a dataset that cannot fit, with the figures.

The decoded faces are one `(N, S, S, C)` uint8 array; training then makes a few smaller
copies (splits, a device copy, batches). A size the machine cannot hold would otherwise end
with the kernel's OOM killer and no message.
"""
from __future__ import annotations

import os

from .errors import DatasetError

#: the decoded array may take at most this share of the memory free now (room for training)
HEADROOM = 0.6


def available_bytes() -> int | None:
    """Memory the kernel can hand out now (MemAvailable), or None when unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _size(n: float) -> str:
    return f"{n / 2 ** 30:.1f} GiB" if n >= 2 ** 30 else f"{n / 2 ** 20:.0f} MiB"


def ensure_fits(n: int, size: int, channels: int, what: str, available: int | None = None) -> None:
    """Raise DatasetError when n faces of size x size x channels cannot fit in free memory."""
    need = n * size * size * channels
    free = available_bytes() if available is None else available
    if free is not None and need > HEADROOM * free:
        raise DatasetError(
            f"{what}: {n} faces at {size}x{size}x{channels} need {_size(need)} decoded, but only "
            f"{_size(free)} of memory is free ({HEADROOM:.0%} may go to the faces); lower "
            "data.image_size, or use data.max_per_class / data.train_fraction on a smaller copy")
