"""Near-duplicate faces beyond byte-identical copies: a perceptual difference hash (dHash).

Each decoded face is shrunk to 9x8 gray and its 64 bits say whether each pixel is brighter
than its right neighbour; re-encoded, resized, slightly brightened or noisy copies keep (almost)
the same bits. Pairs within `max_distance` differing bits are found without comparing all
pairs: split into `max_distance + 1` chunks of bits, two hashes that close agree on at least
one chunk (pigeonhole), so only faces sharing a chunk value are compared.
"""
from __future__ import annotations

import numpy as np

MAX_DISTANCE = 2  # of 64 bits: re-encoded, resized or re-lit copies stay within it
_MAX_BUCKET = 2000  # a chunk value shared by more faces (flat images) is skipped: no signal in it


def dhash(images: np.ndarray) -> np.ndarray:
    """(N,) uint64 difference hashes of (N, S, S, C) uint8 faces."""
    import cv2

    gray = images.mean(axis=-1).astype(np.float32) if images.shape[-1] > 1 else images[..., 0].astype(np.float32)
    small = np.stack([cv2.resize(g, (9, 8), interpolation=cv2.INTER_AREA) for g in gray]) if len(gray) else \
        np.zeros((0, 8, 9), np.float32)
    bits = (small[:, :, 1:] > small[:, :, :-1]).reshape(len(gray), 64)
    return np.packbits(bits, axis=1).view(">u8").ravel().astype(np.uint64)


def near_duplicate_pairs(hashes: np.ndarray, max_distance: int = MAX_DISTANCE,
                         skip: np.ndarray | None = None) -> list[tuple[int, int, int]]:
    """(i, j, differing bits) for every pair i < j within `max_distance` (faces in `skip` left out)."""
    n = len(hashes)
    active = np.ones(n, bool) if skip is None else ~np.asarray(skip, bool)
    chunks = max_distance + 1
    edges = np.linspace(0, 64, chunks + 1).astype(int)
    found: dict[tuple[int, int], int] = {}
    for lo, hi in zip(edges[:-1], edges[1:]):
        key = (hashes >> np.uint64(64 - hi)) & np.uint64((1 << (hi - lo)) - 1)
        idx = np.flatnonzero(active)
        order = idx[np.argsort(key[idx], kind="stable")]
        ks = key[order]
        starts = np.flatnonzero(np.r_[True, ks[1:] != ks[:-1]])
        for s, e in zip(starts, np.r_[starts[1:], len(order)]):
            if e - s < 2 or e - s > _MAX_BUCKET:
                continue
            members = order[s:e]
            x = hashes[members][:, None] ^ hashes[members][None, :]
            dist = _popcount(x)
            a, b = np.nonzero(np.triu(dist <= max_distance, k=1))
            for p, q in zip(a.tolist(), b.tolist()):
                i, j = sorted((int(members[p]), int(members[q])))
                found[(i, j)] = int(dist[p, q])
    return sorted((i, j, d) for (i, j), d in found.items())


def near_duplicate_groups(hashes: np.ndarray, max_distance: int = MAX_DISTANCE,
                          skip: np.ndarray | None = None) -> list[list[int]]:
    """Faces linked by near-duplicate pairs, as groups (connected components) of 2 or more."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    pairs = near_duplicate_pairs(hashes, max_distance, skip)
    if not pairs:
        return []
    i, j, _ = np.array(pairs).T
    n = len(hashes)
    _, comp = connected_components(coo_matrix((np.ones(len(i)), (i, j)), shape=(n, n)), directed=False)
    linked = np.unique(np.r_[i, j])
    groups: dict[int, list[int]] = {}
    for k in linked.tolist():
        groups.setdefault(int(comp[k]), []).append(k)
    return sorted((sorted(g) for g in groups.values() if len(g) > 1), key=lambda g: g[0])


def _popcount(x: np.ndarray) -> np.ndarray:
    """Set bits per uint64."""
    return np.unpackbits(x.view(np.uint8), axis=-1).reshape(*x.shape, 64).sum(-1) if x.size else \
        np.zeros(x.shape, np.int64)
