"""Near-duplicate faces beyond byte-identical copies: a perceptual hash (pHash).

Each decoded face is shrunk to 32x32 gray and its 2-D DCT taken; the 16x16 lowest frequencies
(bar the mean) compared with their median give 255 bits that re-encoded (JPEG), resized,
re-lit or slightly noisy copies keep almost unchanged (a few bits), while different faces, even
schematic ones of one expression, differ in dozens. Pairs within `max_distance` bits are found
without comparing all pairs: the hash is cut into `max_distance + 1` byte-aligned chunks, and two
hashes that close agree on at least one chunk (pigeonhole), so only faces sharing a chunk value
are compared.
"""
from __future__ import annotations

import numpy as np

LOW = 16  # the LOW x LOW lowest DCT frequencies make the hash
MAX_DISTANCE = 16  # of 255 bits: re-encoded, resized or re-lit copies stay well within it
BITS = LOW * LOW - 1
_MAX_BUCKET = 500  # a chunk value shared by more faces (flat images) is skipped: no signal in it
_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], np.uint16)


def phash(images: np.ndarray) -> np.ndarray:
    """(N, 32) uint8 packed perceptual hashes of (N, S, S, C) uint8 faces."""
    import cv2

    out = np.zeros((len(images), (BITS + 7) // 8), np.uint8)
    for i, face in enumerate(images):
        gray = face.mean(axis=-1, dtype=np.float32) if face.shape[-1] > 1 else face[..., 0].astype(np.float32)
        low = cv2.dct(cv2.resize(gray, (32, 32), interpolation=cv2.INTER_AREA))[:LOW, :LOW].ravel()[1:]
        out[i] = np.packbits(low > np.median(low))
    return out


def near_duplicate_pairs(hashes: np.ndarray, max_distance: int = MAX_DISTANCE,
                         skip: np.ndarray | None = None) -> list[tuple[int, int, int]]:
    """(i, j, differing bits) for every pair i < j within `max_distance` (faces in `skip` left out)."""
    n, width = hashes.shape
    active = np.flatnonzero(np.ones(n, bool) if skip is None else ~np.asarray(skip, bool))
    found: dict[tuple[int, int], int] = {}
    for chunk in np.array_split(np.arange(width), min(max_distance + 1, width)):
        keys = np.ascontiguousarray(hashes[active][:, chunk]).view(f"V{len(chunk)}").ravel()
        _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
        for bucket in np.flatnonzero((counts > 1) & (counts <= _MAX_BUCKET)):
            members = active[inverse.ravel() == bucket]
            h = hashes[members]
            dist = _POPCOUNT[h[:, None, :] ^ h[None, :, :]].sum(-1)
            for p, q in zip(*np.nonzero(np.triu(dist <= max_distance, k=1))):
                found[(int(members[p]), int(members[q]))] = int(dist[p, q])
    return sorted((i, j, d) for (i, j), d in found.items())


def near_duplicate_groups(hashes: np.ndarray, max_distance: int = MAX_DISTANCE,
                          skip: np.ndarray | None = None) -> list[list[int]]:
    """Faces linked by near-duplicate pairs, as groups (connected components) of 2 or more."""
    pairs = near_duplicate_pairs(hashes, max_distance, skip)
    parent: dict[int, int] = {}

    def root(x: int) -> int:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i, j, _ in pairs:
        parent[root(i)] = root(j)
    groups: dict[int, list[int]] = {}
    for x in parent:
        groups.setdefault(root(x), []).append(x)
    return sorted((sorted(g) for g in groups.values() if len(g) > 1), key=lambda g: g[0])
