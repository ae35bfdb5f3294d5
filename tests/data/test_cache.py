"""The decoded-face cache: hit without decoding, invalidation on change, atomic writes."""
from __future__ import annotations

import os
import time

import numpy as np
import pytest

from fer_engine.data import images, load_dataset
from fer_engine.progress import Cancelled


def _no_decode(*a, **k):
    raise AssertionError("decode_image called although the cache should have been used")


def test_second_load_uses_the_cache_without_decoding(tmp_path, data_cfg, tree, cache_folder, monkeypatch):
    tree(tmp_path / "ds", {"train/happy": 5, "train/sad": 5, "test/sad": 2})
    first = load_dataset(data_cfg(tmp_path / "ds"))
    assert len(list(cache_folder.glob("*.npz"))) == 1
    monkeypatch.setattr(images, "decode_image", _no_decode)
    messages = []
    second = load_dataset(data_cfg(tmp_path / "ds", val_fraction=0.4, max_per_class=3),
                          progress=lambda f, m: messages.append(m))
    assert np.array_equal(first.images, load_dataset(data_cfg(tmp_path / "ds")).images)
    assert any("from the cache" in m for m in messages)
    assert second.class_counts("train").tolist() == [3, 3]  # split options apply after the cache


def test_a_changed_file_invalidates_the_cache(tmp_path, data_cfg, tree, faces, cache_folder):
    tree(tmp_path / "ds", {"train/happy": 3, "train/sad": 3})
    before = load_dataset(data_cfg(tmp_path / "ds"))
    target = sorted((tmp_path / "ds/train/happy").iterdir())[0]
    faces(tmp_path / "new", 1, seed=99)
    os.replace(next((tmp_path / "new").iterdir()), target)
    st = target.stat()
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    after = load_dataset(data_cfg(tmp_path / "ds"))
    i = after.sources.index(str(target))
    assert not np.array_equal(before.images[i], after.images[i])
    assert len(list(cache_folder.glob("*.npz"))) == 1  # the stale cache was replaced


def test_a_corrupt_cache_file_is_rebuilt(tmp_path, data_cfg, tree, cache_folder):
    tree(tmp_path / "ds", {"happy": 4, "sad": 4})
    good = load_dataset(data_cfg(tmp_path / "ds"))
    (cache_file,) = cache_folder.glob("*.npz")
    cache_file.write_bytes(cache_file.read_bytes()[:100])
    again = load_dataset(data_cfg(tmp_path / "ds"))
    assert np.array_equal(good.images, again.images)


def test_a_failed_cache_write_leaves_no_partial_file(tmp_path, data_cfg, tree, cache_folder, monkeypatch):
    tree(tmp_path / "ds", {"happy": 3, "sad": 3})

    def killed(*a, **k):
        raise KeyboardInterrupt  # as if the process were interrupted mid-write

    monkeypatch.setattr(np, "savez", killed)
    with pytest.raises(KeyboardInterrupt):
        load_dataset(data_cfg(tmp_path / "ds"))
    assert list(cache_folder.iterdir()) == []


def _count_decodes(monkeypatch) -> list[int]:
    """A list that grows by one for every face decoded from now on."""
    calls: list[int] = []
    decode = images.decode_image

    def counting(*a, **k):
        calls.append(1)
        return decode(*a, **k)

    monkeypatch.setattr(images, "decode_image", counting)
    return calls


def test_stop_aborts_decoding_within_one_batch(tmp_path, data_cfg, tree, monkeypatch):
    from fer_engine.data import parallel

    monkeypatch.setattr(parallel, "BATCH", 4)
    tree(tmp_path / "ds", {"happy": 30, "sad": 30})
    calls = _count_decodes(monkeypatch)
    with pytest.raises(Cancelled):
        load_dataset(data_cfg(tmp_path / "ds"), should_stop=lambda: len(calls) > 0)
    workers = min(16, (os.cpu_count() or 2) + 2)
    assert len(calls) <= 2 * workers * 4  # only the batches already queued ran


def test_stop_seen_late_queues_no_new_batch(tmp_path, data_cfg, tree, monkeypatch):
    """On a loaded machine the main thread may look only when every queued batch is done: the
    stop must then cancel everything, not queue another round first (this flaked under load)."""
    from concurrent.futures import ALL_COMPLETED

    from fer_engine.data import parallel

    real_wait = parallel.wait
    monkeypatch.setattr(parallel, "wait", lambda fs, return_when: real_wait(fs, return_when=ALL_COMPLETED))
    monkeypatch.setattr(parallel, "BATCH", 4)
    tree(tmp_path / "ds", {"happy": 100, "sad": 100})
    calls = _count_decodes(monkeypatch)
    with pytest.raises(Cancelled):  # a slow check: idle threads would start anything queued
        load_dataset(data_cfg(tmp_path / "ds"), should_stop=lambda: time.sleep(0.2) or len(calls) > 0)
    workers = min(16, (os.cpu_count() or 2) + 2)
    assert len(calls) == 2 * workers * 4  # exactly the batches queued before the stop was seen
