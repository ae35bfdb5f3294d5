"""The dataset report on synthetic problems, its cache of per-file facts, and inspect-data."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from PIL import Image

from fer_engine.cli import main
from fer_engine.data import report as report_mod
from fer_engine.data.report import dataset_report


@pytest.fixture
def messy(tmp_path, tree):
    """train/val of happy+sad with a cross-split copy, a relabelled copy, a blank and a broken file."""
    root = tree(tmp_path / "messy", {"train/happy": 6, "train/sad": 3, "val/happy": 2, "val/sad": 2})
    happy = sorted((root / "train/happy").iterdir())
    shutil.copy(happy[0], root / "val/happy/copy_of_train.png")  # leakage, same label
    shutil.copy(happy[1], root / "train/sad/relabelled.png")  # same bytes, different label
    Image.fromarray(np.full((20, 30), 128, np.uint8), "L").save(root / "train/sad/blank.png")
    Image.fromarray(np.zeros((12, 12, 3), np.uint8), "RGB").save(root / "train/happy/colour.png")
    (root / "train/happy/broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    return root


def test_report_finds_counts_duplicates_conflicts_blanks_and_unreadable(messy, cache_folder):
    r = dataset_report(str(messy), cache_dir=str(cache_folder))
    assert r.layout == "split_folders"
    assert r.counts == {"train": {"happy": 7, "sad": 5}, "val": {"happy": 3, "sad": 2}}
    assert r.imbalance["ratio"] == pytest.approx(7 / 5)
    assert [p.endswith("broken.jpg") for p, _ in r.unreadable] == [True]
    assert "Pillow" in r.unreadable[0][1] or "truncated" in r.unreadable[0][1]
    s = r.duplicate_summary()
    keys = ("groups", "files", "across_splits", "train_and_eval", "conflicting_labels")
    assert tuple(s[k] for k in keys) == (2, 4, 1, 1, 1)
    (conflict,) = [g for g in r.duplicate_groups if g.conflicting]
    assert sorted(conflict.labels) == ["happy", "sad"]
    # the blank 30x20 and the black 12x12 colour image are both near-blank
    assert sorted(p.rsplit("/", 1)[1] for p, _ in r.near_blank) == ["blank.png", "colour.png"]
    assert r.sizes == {"12x12": 16, "30x20": 1} and r.modes == {"L": 16, "RGB": 1}
    assert set(r.pixel_stats) == {"train", "val"} and len(r.pixel_stats["train"]["mean"]) == 1
    d = json.loads(json.dumps(r.to_dict()))
    assert d["duplicates"]["conflicting_labels"] == 1 and len(d["samples"]["happy"]) == 7
    text = r.format_text()
    assert "Byte-identical groups: 2 (4 files)" in text and "broken.jpg" in text


def test_second_report_reuses_the_cached_file_facts(messy, cache_folder, monkeypatch):
    first = dataset_report(str(messy), cache_dir=str(cache_folder))

    def no_facts(path):
        raise AssertionError("file facts recomputed although cached")

    monkeypatch.setattr(report_mod, "_file_facts", no_facts)
    second = dataset_report(str(messy), cache_dir=str(cache_folder))
    assert second.to_dict() == first.to_dict()


def test_report_pixel_stats_follow_the_run_channels(messy, cache_folder):
    r = dataset_report(str(messy), cache_dir=str(cache_folder), channels=3, image_size=16)
    assert len(r.pixel_stats["train"]["mean"]) == 3
    assert all(0 < m < 1 for m in r.pixel_stats["train"]["mean"])


def test_inspect_data_cli_prints_json_and_text(messy, capsys):
    assert main(["inspect-data", str(messy), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["totals"] == {"train": 12, "val": 5} and len(d["near_blank"]) == 2
    assert main(["inspect-data", str(messy), "--max-listed", "1"]) == 0
    out = capsys.readouterr().out
    assert "Near-blank images (pixel std < 1): 2" in out and "... and 1 more" in out


def test_inspect_data_cli_reports_a_missing_path(tmp_path, capsys):
    assert main(["inspect-data", str(tmp_path / "nope")]) == 2
    assert "dataset path not found" in capsys.readouterr().err
