"""Near-duplicates beyond byte-identical copies: a brightened, re-encoded copy in another split is
found; different faces (even of one expression) are not grouped."""
from __future__ import annotations

import numpy as np

from fer_engine.data.near_duplicates import phash, near_duplicate_pairs
from fer_engine.data.report import dataset_report

import dataset_builders as b


def test_phash_pairs_copies_not_different_faces():
    faces = np.stack([b.face("happy", s) for s in range(40)])[..., None]
    copy = np.clip(faces[3].astype(int) * 1.1 + 8, 0, 255).astype(np.uint8)  # brighter, more contrast
    hashes = phash(np.concatenate([faces, copy[None]]))
    pairs = near_duplicate_pairs(hashes)
    assert [(i, j) for i, j, _ in pairs] == [(3, 40)]
    skip = np.zeros(41, bool)
    skip[40] = True
    assert near_duplicate_pairs(hashes, skip=skip) == []


def test_report_lists_near_duplicates_across_splits(tmp_path, cache_folder):
    for split, seeds in (("train", range(0, 12)), ("val", range(12, 16))):
        for s in seeds:
            name = "happy" if s % 2 else "sad"
            b.save(tmp_path / split / name / f"{s}.png", b.face(name, s))
    leaked = np.clip(b.face("happy", 5).astype(int) + 12, 0, 255).astype(np.uint8)
    b.save(tmp_path / "val" / "sad" / "leak.jpg", leaked)  # a re-encoded, brighter copy, relabelled
    b.save(tmp_path / "train" / "happy" / "copy.png", b.face("happy", 5))  # byte-identical: reported elsewhere
    r = dataset_report(str(tmp_path), cache_dir=str(cache_folder))
    d = r.to_dict()
    assert d["near_duplicates"]["groups"] == 1 and d["near_duplicates"]["train_and_eval"] == 1
    group = d["near_duplicates_across_splits"][0]
    assert sorted(group["splits"]) == ["train", "val"] and sorted(group["labels"]) == ["happy", "sad"]
    assert any(f.endswith("leak.jpg") for f in group["files"])
    assert r.duplicate_summary()["groups"] == 1
    assert "Near-duplicate groups (perceptual hash" in r.format_text()
