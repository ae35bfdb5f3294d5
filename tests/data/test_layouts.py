"""Every accepted dataset layout, class-name matching and the errors of unusable folders."""
from __future__ import annotations

import numpy as np
import pytest

from fer_engine.data import DatasetError, load_dataset


def counts(data, split):
    return dict(zip(data.class_names, data.class_counts(split).tolist()))


def test_split_folders_keep_their_splits(tmp_path, data_cfg, tree):
    tree(tmp_path, {"train/angry": 4, "train/happy": 3, "val/angry": 2, "val/happy": 1,
                         "test/angry": 1, "test/happy": 2})
    d = load_dataset(data_cfg(tmp_path))
    assert d.layout == "split_folders"
    assert d.class_names == ["angry", "happy"]
    assert counts(d, "train") == {"angry": 4, "happy": 3}
    assert counts(d, "val") == {"angry": 2, "happy": 1}
    assert counts(d, "test") == {"angry": 1, "happy": 2}
    assert d.images.shape == (13, 16, 16, 1) and d.images.dtype == np.uint8
    for i in d.splits["val"]:
        assert "/val/" in d.sources[i]


def test_kaggle_fer2013_test_folder_becomes_val_and_test(tmp_path, data_cfg, tree, faces):
    tree(tmp_path, {"train/sad": 3, "train/fear": 3})
    faces(tmp_path / "test/sad", 2, prefix="PublicTest")
    faces(tmp_path / "test/sad", 3, seed=1, prefix="PrivateTest")
    faces(tmp_path / "test/fear", 1, seed=2, prefix="PublicTest")
    d = load_dataset(data_cfg(tmp_path))
    assert d.layout == "kaggle_fer2013"
    assert counts(d, "val") == {"fear": 1, "sad": 2}
    assert counts(d, "test") == {"fear": 0, "sad": 3}
    assert all("PublicTest_" in d.sources[i] for i in d.splits["val"])
    assert any("PublicTest" in n and "validation" in n for n in d.notes)


def test_class_folders_get_a_seeded_stratified_split(tmp_path, data_cfg, tree):
    tree(tmp_path, {"angry": 20, "happy": 40, "neutral": 10})
    d = load_dataset(data_cfg(tmp_path, val_fraction=0.2, test_fraction=0.1, split_seed=3))
    assert d.layout == "class_folders"
    assert counts(d, "val") == {"angry": 4, "happy": 8, "neutral": 2}
    assert counts(d, "test") == {"angry": 2, "happy": 4, "neutral": 1}
    assert sum(len(v) for v in d.splits.values()) == 70
    assert len(np.unique(np.concatenate(list(d.splits.values())))) == 70  # disjoint, complete
    again = load_dataset(data_cfg(tmp_path, val_fraction=0.2, test_fraction=0.1, split_seed=3))
    other = load_dataset(data_cfg(tmp_path, val_fraction=0.2, test_fraction=0.1, split_seed=4))
    assert np.array_equal(again.splits["val"], d.splits["val"])
    assert not np.array_equal(other.splits["val"], d.splits["val"])


def test_train_only_layout_gets_a_validation_split_from_train(tmp_path, data_cfg, tree):
    tree(tmp_path, {"train/angry": 10, "train/happy": 20})
    d = load_dataset(data_cfg(tmp_path, val_fraction=0.1))
    assert counts(d, "val") == {"angry": 1, "happy": 2}
    assert counts(d, "train") == {"angry": 9, "happy": 18}
    assert "test" not in d.splits
    assert any("carved from train" in n for n in d.notes)


def test_aliases_and_case_map_to_canonical_classes_in_canonical_order(tmp_path, data_cfg, tree):
    tree(tmp_path, {"Neutral": 3, "HAPPINESS": 3, "anger": 3, "Surprised": 3, "sadness": 3})
    d = load_dataset(data_cfg(tmp_path))
    assert d.class_names == ["angry", "happy", "sad", "surprise", "neutral"]
    for i, src in enumerate(d.sources):
        folder = src.split("/")[-2].lower()
        assert d.class_names[d.labels[i]] == {"anger": "angry", "happiness": "happy", "sadness": "sad",
                                              "surprised": "surprise", "neutral": "neutral"}[folder]


def test_unknown_class_names_are_an_error_listing_them(tmp_path, data_cfg, tree):
    tree(tmp_path, {"train/happy": 2, "train/bored": 2, "train/Confused": 2})
    with pytest.raises(DatasetError, match=r"unknown class folder name\(s\): Confused, bored"):
        load_dataset(data_cfg(tmp_path))


def test_a_dataset_one_level_down_is_suggested(tmp_path, data_cfg, tree):
    tree(tmp_path / "download" / "fer2013", {"train/happy": 2, "test/happy": 2})
    with pytest.raises(DatasetError, match=r"unknown class folder name\(s\): fer2013 "
                                           r".*did you mean the dataset folder .*download/fer2013\?"):
        load_dataset(data_cfg(tmp_path / "download"))


def test_max_per_class_caps_training_images_deterministically(tmp_path, data_cfg, tree):
    tree(tmp_path, {"train/angry": 12, "train/happy": 5, "val/angry": 3, "val/happy": 3})
    a = load_dataset(data_cfg(tmp_path, max_per_class=4))
    b = load_dataset(data_cfg(tmp_path, max_per_class=4))
    assert counts(a, "train") == {"angry": 4, "happy": 4}
    assert counts(a, "val") == {"angry": 3, "happy": 3}
    assert len(a.images) == 14  # capped-away faces are not kept
    assert [a.sources[i] for i in a.splits["train"]] == [b.sources[i] for i in b.splits["train"]]


def test_stray_files_are_ignored_with_a_note(tmp_path, data_cfg, tree, faces):
    tree(tmp_path, {"train/happy": 3, "train/sad": 3})
    (tmp_path / "train" / "happy" / "notes.txt").write_text("hello")
    faces(tmp_path / "train", 1, prefix="loose")
    d = load_dataset(data_cfg(tmp_path))
    assert len(d.images) == 6
    assert any("non-image" in n for n in d.notes) and any("outside class folders" in n for n in d.notes)


@pytest.mark.parametrize("setup, message", [
    (lambda p, tree, faces: None, "dataset path not found"),
    (lambda p, tree, faces: (p / "x").mkdir(), "holds no images and no class folders"),
    (lambda p, tree, faces: tree(p / "x", {"train/happy": 2}) and (p / "x/train/sad").mkdir(),
     "class folder .*sad holds no images"),
    (lambda p, tree, faces: faces(p / "x", 2), "holds images but no class folders"),
    (lambda p, tree, faces: tree(p / "x", {"train": 2}), "has no class folders"),
])
def test_unusable_folders_give_one_clear_error(tmp_path, data_cfg, tree, faces, setup, message):
    setup(tmp_path, tree, faces)
    with pytest.raises(DatasetError, match=message):
        load_dataset(data_cfg(tmp_path / "x"))


def test_a_folder_of_only_unreadable_files_is_an_error(tmp_path, data_cfg):
    for name in ("angry", "happy"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "a.png").write_bytes(b"not an image")
    with pytest.raises(DatasetError, match="none of its 2 image files could be read"):
        load_dataset(data_cfg(tmp_path))
