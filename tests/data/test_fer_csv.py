"""The FER2013 CSV importer: Usage splits, rows without Usage, and agreement with the folders."""
from __future__ import annotations

import collections

import numpy as np
import pytest

from fer_engine.config import DataConfig
from fer_engine.data import load_dataset, load_face


def write_csv(path, rows, header="emotion,pixels,Usage"):
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return path


def row(label, usage, seed, side=48):
    pixels = np.random.default_rng(seed).integers(0, 256, side * side)
    return f"{label},{' '.join(map(str, pixels))}" + (f",{usage}" if usage else "")


def test_csv_usage_maps_to_train_val_test(tmp_path, data_cfg):
    rows = [row(3, "Training", 0), row(3, "Training", 1), row(0, "PublicTest", 2), row(6, "PrivateTest", 3)]
    d = load_dataset(data_cfg(write_csv(tmp_path / "fer2013.csv", rows), image_size=48))
    assert d.layout == "fer2013_csv"
    assert d.class_names == ["angry", "happy", "neutral"]
    assert {k: d.class_counts(k).tolist() for k in d.splits} == {
        "train": [0, 2, 0], "val": [1, 0, 0], "test": [0, 0, 1]}
    expected = np.array(row(3, "", 1).split(",")[1].split(), np.uint8).reshape(48, 48, 1)
    assert np.array_equal(d.images[1], expected)
    assert d.sources[1].endswith("fer2013.csv#3")


def test_large_csv_reports_progress_and_stops(tmp_path, data_cfg, monkeypatch):
    from fer_engine.data import fer_csv
    from fer_engine.progress import Cancelled

    monkeypatch.setattr(fer_csv, "_ROWS_PER_BATCH", 16)
    path = write_csv(tmp_path / "big.csv", [row(i % 7, "Training", i, side=8) for i in range(100)])
    seen = []
    d = load_dataset(data_cfg(path, image_size=8), progress=lambda f, m: seen.append(f))
    assert len(d.images) == 100
    assert any(0 < f < 1 for f in seen) and seen == sorted(seen, key=lambda f: (f >= 0, f))
    with pytest.raises(Cancelled):
        load_dataset(data_cfg(path, image_size=8, cache_dir=str(tmp_path / "other")),
                     should_stop=lambda: True)


def test_csv_without_usage_is_split_stratified_and_resized(tmp_path, data_cfg):
    rows = [row(i % 2, "", i) for i in range(40)]
    d = load_dataset(data_cfg(write_csv(tmp_path / "train.csv", rows, header="emotion,pixels"),
                              image_size=24, channels=3))
    assert d.images.shape == (40, 24, 24, 3)
    assert d.class_counts("val").tolist() == [2, 2] and d.class_counts("test").tolist() == [2, 2]


def test_load_face_reads_a_csv_row_by_its_source(tmp_path, data_cfg):
    rows = [row(i % 7, "Training", i) for i in range(5)]
    d = load_dataset(data_cfg(write_csv(tmp_path / "fer2013.csv", rows), image_size=32, channels=3))
    for i in (0, 4):
        assert np.array_equal(load_face(d.sources[i], 32, 3), d.images[i])


@pytest.mark.realdata
def test_csv_importer_agrees_with_the_folder_loader(shared_data, fer2013_dir):
    """Every row of fer2013_sample.csv is a face of the folders with the same class and Usage split.

    The sample's pixels were decoded from the FER2013 JPEGs, so each row must equal (byte for
    byte) a face the folder loader decoded, in the split its Usage names and with its label;
    then the class counts per Usage of the matched faces equal the CSV's.
    """
    csv_data = load_dataset(DataConfig(path=str(fer2013_dir / "fer2013_sample.csv")))
    folders = load_dataset(DataConfig(path=str(fer2013_dir)))
    by_pixels = collections.defaultdict(list)
    for i in range(len(folders.images)):
        by_pixels[folders.images[i].tobytes()].append(i)
    folder_split = {int(i): s for s, idx in folders.splits.items() for i in idx}
    matched = collections.Counter()
    for split, idx in csv_data.splits.items():
        for i in idx:
            label = csv_data.class_names[csv_data.labels[i]]
            same = [j for j in by_pixels[csv_data.images[i].tobytes()]
                    if folder_split[j] == split and folders.class_names[folders.labels[j]] == label]
            assert same, f"{csv_data.sources[i]} ({split}, {label}) matches no folder face"
            matched[split, label] += 1
    csv_counts = {(s, c): n for s in csv_data.splits
                  for c, n in zip(csv_data.class_names, csv_data.class_counts(s).tolist())}
    assert dict(matched) == csv_counts
    assert csv_counts[("train", "angry")] == 140 and csv_counts[("val", "disgust")] == 30
