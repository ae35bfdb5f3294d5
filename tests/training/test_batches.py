"""Training batches: the same images whether the split is kept on the device or on the host."""
import numpy as np
import pytest
import torch

from fer_engine.training.batches import GPU_SHARE, TrainBatches, fits_on_device


def _split(n=40, size=8):
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (n, size, size, 1), dtype=np.uint8), rng.integers(0, 7, n)


def test_the_images_go_to_the_gpu_only_within_their_share_of_its_free_memory():
    free = 12 * 2**30
    assert fits_on_device(66 * 2**20, free)  # FER2013 at 48x48
    assert not fits_on_device(11 * 2**30, free)  # AffectNet-sized at 112x112 RGB
    assert fits_on_device(int(GPU_SHARE * free), free) and not fits_on_device(int(GPU_SHARE * free) + 1, free)


def _batches_of(source: TrainBatches, order: np.ndarray, bs: int):
    labels = source.epoch(order)
    return [(source.images(slice(i, i + bs)), labels[i:i + bs]) for i in range(0, len(order), bs)]


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs a CUDA GPU"))])
def test_host_and_device_placement_serve_the_same_batches(device):
    images, labels = _split()
    order = np.random.default_rng(1).permutation(len(labels))
    dev = torch.device(device)
    kept = TrainBatches(images, labels, dev, on_device=False)
    moved = TrainBatches(images, labels, dev, on_device=True)
    assert not kept.on_device and moved.on_device
    for (xa, ya), (xb, yb) in zip(_batches_of(kept, order, 16), _batches_of(moved, order, 16)):
        assert xa.device.type == dev.type and torch.equal(xa, xb) and torch.equal(ya, yb)
    first = _batches_of(kept, order, 16)[0]
    assert torch.equal(first[0].cpu(), torch.from_numpy(images[order[:16]]))
    assert torch.equal(first[1].cpu(), torch.from_numpy(labels[order[:16]].astype(np.int64)))


def test_on_cpu_the_split_counts_as_on_the_device_without_a_note():
    images, labels = _split()
    source = TrainBatches(images, labels, torch.device("cpu"))
    assert source.on_device and source.note == ""
