"""Each dataset format in its exact layout: detection, label map, splits, dropped counts, errors."""
from __future__ import annotations

import numpy as np
import pytest

from fer_engine.data import DatasetError, load_dataset
from fer_engine.data.report import dataset_report

import dataset_builders as b


def counts(data, split):
    return dict(zip(data.class_names, data.class_counts(split).tolist()))


def split_of(data):
    out = np.empty(len(data.labels), object)
    for name, idx in data.splits.items():
        out[idx] = name
    return out


# -- FERPlus ------------------------------------------------------------------------------------
#        neutral happy surprise sad anger disgust fear contempt unknown NF
VOTES = [[8, 1, 0, 1, 0, 0, 0, 0, 0, 0],    # neutral (the 1s are noise)
         [0, 5, 4, 0, 0, 0, 0, 0, 1, 0],    # majority happy (5 of 9 votes)
         [4, 4, 0, 0, 2, 0, 0, 0, 0, 0],    # no majority; plurality: neutral (first of the tie)
         [0, 0, 0, 0, 0, 0, 0, 0, 7, 3],    # top vote unknown: dropped
         [1, 0, 0, 0, 0, 0, 0, 0, 0, 9],    # top vote NF: dropped
         [0, 0, 0, 0, 0, 0, 0, 6, 0, 4],    # contempt
         [0, 0, 2, 6, 0, 0, 2, 0, 0, 0]]    # sad
USAGES = ["Training", "Training", "Training", "Training", "PublicTest", "PrivateTest", "PrivateTest"]


def test_ferplus_csv_majority_drops_and_label_map(tmp_path, data_cfg):
    b.ferplus_csv(tmp_path, VOTES + [[9, 1, 0, 0, 0, 0, 0, 0, 0, 0]], USAGES + ["Training"],
                  names=[f"fer{i:07d}.png" for i in range(7)] + [""])
    d = load_dataset(data_cfg(tmp_path))
    assert d.layout == "ferplus"
    assert d.class_names == ["happy", "sad", "neutral", "contempt"]
    assert counts(d, "train") == {"happy": 1, "sad": 0, "neutral": 1, "contempt": 0}
    assert counts(d, "test") == {"happy": 0, "sad": 1, "neutral": 0, "contempt": 1}
    assert "FERPlus label contempt -> contempt" in d.label_map
    report = dataset_report(str(tmp_path / "fer2013new.csv"), cache_dir=data_cfg(tmp_path).cache_dir)
    assert report.dropped == {"no majority (the top emotion has half of the votes or fewer)": 1,
                              "top vote unknown": 1, "top vote NF": 1,
                              "left out by FERPlus (empty Image name)": 1}
    assert any("left out 1 face(s): top vote NF" in n for n in report.notes)
    # each face keeps its own row's pixels: row 0 of fer2013.csv is line 2
    assert d.sources[0].endswith("fer2013.csv#2")


def test_ferplus_probability_mode_gives_vote_distributions(tmp_path, data_cfg):
    b.ferplus_csv(tmp_path, VOTES, USAGES)
    d = load_dataset(data_cfg(tmp_path, label_mode="probability"))
    row = d.sources.index(f"{tmp_path / 'fer2013.csv'}#3")  # votes 0,5,4 (+1 unknown)
    soft = dict(zip(d.class_names, d.soft[row].tolist()))
    assert soft["happy"] == pytest.approx(5 / 9) and soft["surprise"] == pytest.approx(4 / 9)
    assert d.class_names[d.labels[row]] == "happy"
    assert np.allclose(d.soft.sum(1), 1.0)
    plural = load_dataset(data_cfg(tmp_path, label_mode="plurality"))
    assert len(plural.labels) == len(d.labels) == 5  # the tie kept, unknown and NF dropped


def test_ferplus_folders_with_and_without_box_column(tmp_path, data_cfg):
    rows = {"FER2013Train": [[0, 9, 1, 0, 0, 0, 0, 0, 0, 0]] * 4 + [[9, 0, 0, 0, 0, 0, 0, 0, 1, 0]] * 3,
            "FER2013Valid": [[0, 9, 0, 0, 0, 0, 0, 0, 0, 1]] * 2, "FER2013Test": [[0, 0, 0, 0, 0, 0, 0, 0, 10, 0]]}
    for with_box in (True, False):
        root = b.ferplus_folders(tmp_path / str(with_box), rows, with_box=with_box)
        d = load_dataset(data_cfg(root))
        assert d.layout == "ferplus" and d.class_names == ["happy", "neutral"]
        assert counts(d, "train") == {"happy": 4, "neutral": 3} and counts(d, "val") == {"happy": 2, "neutral": 0}
        assert "test" not in d.splits  # its one face had only unknown votes


def test_ferplus_errors(tmp_path, data_cfg):
    b.ferplus_csv(tmp_path, VOTES, USAGES)
    (tmp_path / "fer2013.csv").unlink()
    with pytest.raises(DatasetError, match="fer2013.csv must lie beside it"):
        load_dataset(data_cfg(tmp_path))
    b.fer2013_csv(tmp_path / "fer2013.csv", [0, 1], ["Training"] * 2)  # fewer rows than the votes
    with pytest.raises(DatasetError, match="has only 2 rows"):
        load_dataset(data_cfg(tmp_path))
    root = b.ferplus_folders(tmp_path / "f", {"FER2013Train": [[0, 9, 0, 0, 0, 0, 0, 0, 0, 0]] * 2})
    (root / "FER2013Train" / "fer0000001.png").unlink()
    with pytest.raises(DatasetError, match=r"1 image\(s\) listed in .*label.csv are absent \(line 2: "):
        load_dataset(data_cfg(root))
    (root / "FER2013Train" / "label.csv").unlink()
    with pytest.raises(DatasetError, match="FERPlus: label file not found: .*label.csv"):
        load_dataset(data_cfg(root))
    with pytest.raises(DatasetError, match="data.label_mode must be one of"):
        load_dataset(data_cfg(tmp_path, label_mode="soft"))


# -- RAF-DB -------------------------------------------------------------------------------------
def test_rafdb_list_label_map_and_prefix_splits(tmp_path, data_cfg):
    root = b.rafdb(tmp_path / "raf")
    d = load_dataset(data_cfg(root))
    assert d.layout == "rafdb"
    assert "RAF-DB label 1 -> surprise" in d.label_map and "RAF-DB label 7 -> neutral" in d.label_map
    s = split_of(d)
    assert all(("train_" in src) == (s[i] in ("train", "val")) for i, src in enumerate(d.sources))
    assert counts(d, "test") == {c: 1 for c in d.class_names}
    first = d.sources.index(str(root / "Image/aligned/train_00001_aligned.jpg"))  # listed with label 1
    assert d.class_names[d.labels[first]] == "surprise"


def test_rafdb_errors(tmp_path, data_cfg):
    root = b.rafdb(tmp_path / "raf", per_label=1)
    label_file = root / "EmoLabel" / "list_patition_label.txt"
    lines = label_file.read_text().splitlines()
    label_file.write_text("\n".join(lines[:2] + ["train_00003.jpg 8"] + lines[3:]) + "\n")
    with pytest.raises(DatasetError, match=r"line 3: RAF-DB label 8 out of range \(expected one of 1, 2, 3"):
        load_dataset(data_cfg(root))
    label_file.write_text("\n".join(lines) + "\n")
    (root / "Image/aligned/train_00002_aligned.jpg").unlink()
    with pytest.raises(DatasetError,
                       match=r"RAF-DB: 1 image\(s\) listed in .* are absent \(line 2: .*train_00002_aligned"):
        load_dataset(data_cfg(root))
    label_file.unlink()
    with pytest.raises(DatasetError, match="RAF-DB: label file not found: .*list_patition_label.txt"):
        load_dataset(data_cfg(root))


def test_digit_class_folders_need_a_label_map(tmp_path, data_cfg, tree):
    tree(tmp_path, {"train/1": 3, "train/4": 3, "train/7": 3, "test/1": 1, "test/4": 1, "test/7": 1})
    with pytest.raises(DatasetError, match=r"class folders named by numbers \(1, 4, 7\) need data.label_map"):
        load_dataset(data_cfg(tmp_path))
    d = load_dataset(data_cfg(tmp_path, label_map="rafdb"))
    assert d.class_names == ["happy", "surprise", "neutral"]
    assert all("/1/" in d.sources[i] for i in np.flatnonzero(d.labels == d.class_names.index("surprise")))
    assert "RAF-DB label 4 -> happy" in d.label_map
    with pytest.raises(DatasetError, match="train/7: FER2013 label 7 out of range"):  # FER2013 counts 0-6
        load_dataset(data_cfg(tmp_path, label_map="fer2013"))
    with pytest.raises(DatasetError, match="unknown data.label_map 'raf'"):
        load_dataset(data_cfg(tmp_path, label_map="raf"))


# -- AffectNet ----------------------------------------------------------------------------------
def test_affectnet_crops_boxes_drops_none_and_keeps_contempt(tmp_path, data_cfg):
    root = b.affectnet(tmp_path / "an", train=[0, 1, 7, 7, 8, 9, 10, 1, 0, 7, 1, 0], validation=[0, 1, 7, 9])
    d = load_dataset(data_cfg(root, image_size=48))
    assert d.layout == "affectnet"
    assert d.class_names == ["happy", "neutral", "contempt"]
    assert counts(d, "test") == {"happy": 1, "neutral": 1, "contempt": 1}
    assert len(d.labels) == 12
    assert "#crop=20,12,68,60" in d.sources[0]
    assert d.images[:, :4].mean() > 40  # the black border of the photo is cropped away
    r = dataset_report(str(root), cache_dir=data_cfg(root).cache_dir)
    assert r.dropped == {"AffectNet expression 8 (none)": 1, "AffectNet expression 9 (uncertain)": 2,
                         "AffectNet expression 10 (no-face)": 1}
    assert "AffectNet label 7 -> contempt" in r.format_text()


def test_affectnet_errors(tmp_path, data_cfg):
    root = b.affectnet(tmp_path / "an", train=[0, 1, 11], validation=[0])
    with pytest.raises(DatasetError, match="line 4: AffectNet label 11 out of range"):
        load_dataset(data_cfg(root))
    root = b.affectnet(tmp_path / "an2", train=[0, 1, 1], validation=[0])
    next((root / "Manually_Annotated_Images").rglob("train_0001.jpg")).unlink()
    with pytest.raises(DatasetError, match=r"AffectNet: 1 image\(s\) listed in .*training.csv are absent"):
        load_dataset(data_cfg(root))


# -- CK+ and JAFFE: subjects --------------------------------------------------------------------
def test_ckplus_last_frames_first_neutral_and_subject_split(tmp_path, data_cfg):
    root = b.ckplus(tmp_path / "ck", subjects=8, frames=6, unlabelled=1)
    d = load_dataset(data_cfg(root, sequence_frames=2, sequence_first_neutral=True, val_fraction=0.2,
                              test_fraction=0.2))
    assert d.layout == "ckplus" and "contempt" in d.class_names
    assert len(d.labels) == 8 * 2 * 3  # 2 labelled sequences per subject: 2 peak frames + 1 neutral
    assert all(int(s[-12:-4]) in (1, 5, 6) for s in d.sources)
    s = split_of(d)
    for subject in set(d.groups.tolist()):
        assert len(set(s[d.groups == subject])) == 1  # no subject in two splits
    assert set(s) == {"train", "val", "test"}
    r = dataset_report(str(root), cache_dir=data_cfg(root).cache_dir, sequence_frames=2)
    assert r.subjects == 8 and r.dropped["frames of sequences without an emotion label"] == 8 * 6
    assert "CK+ label 2 -> contempt" in r.label_map


def test_per_image_split_of_subjects_is_warned(tmp_path, data_cfg):
    root = b.ckplus(tmp_path / "ck", subjects=4)
    d = load_dataset(data_cfg(root, split_by="image"))
    assert any(n.startswith("warning:") and "subject(s) have faces in more than one split" in n for n in d.notes)


def test_jaffe_names_and_subject_kfold_groups(tmp_path, data_cfg):
    root = b.jaffe(tmp_path / "jaffe")
    d = load_dataset(data_cfg(root))
    assert d.layout == "jaffe" and len(d.labels) == 140 and len(set(d.groups.tolist())) == 10
    assert "JAFFE label AN -> angry" in d.label_map
    ha = d.sources.index(str(root / "KA.HA1.7.tiff"))
    assert d.class_names[d.labels[ha]] == "happy" and d.groups[ha] == "KA"
    s = split_of(d)
    assert all(len(set(s[d.groups == g])) == 1 for g in set(d.groups.tolist()))
    (root / "notes.tiff").write_bytes(b"x")
    with pytest.raises(DatasetError, match="JAFFE: .*1 file name\\(s\\) not like KA.AN1.39.tiff: notes.tiff"):
        load_dataset(data_cfg(root, format="jaffe"))


def test_subject_regex_on_class_folders(tmp_path, data_cfg, tree):
    for subject in range(6):
        tree(tmp_path, {"happy": 2, "sad": 2}, seed=subject)
        for p in list((tmp_path / "happy").glob("happy_*.png")) + list((tmp_path / "sad").glob("sad_*.png")):
            p.rename(p.with_name(f"subj{subject}-{p.name.split('_', 1)[1]}"))
    d = load_dataset(data_cfg(tmp_path, subject_regex=r"^(subj\d+)-", val_fraction=0.2, test_fraction=0.2))
    assert len(set(d.groups.tolist())) == 6
    s = split_of(d)
    assert all(len(set(s[d.groups == g])) == 1 for g in set(d.groups.tolist()))
    with pytest.raises(DatasetError, match="does not match the file name"):
        load_dataset(data_cfg(tmp_path, subject_regex=r"^person\d+"))


# -- ExpW ---------------------------------------------------------------------------------------
def test_expw_crops_several_faces_per_photo(tmp_path, data_cfg):
    root = b.expw(tmp_path / "expw", [3, 4, 3, 6, 0, 3, 4, 6, 6, 0])
    d = load_dataset(data_cfg(root, image_size=48))
    assert d.layout == "expw" and len(d.labels) == 10
    assert "ExpW label 3 -> happy" in d.label_map
    assert len({s.split("#")[0] for s in d.sources}) == 5
    assert d.images[:, :, :3].mean() > 40  # cropped: no black border
    (root / "label" / "label.lst").write_text("photo_0000.jpg 0 6 5 53 54 0.9 7\n")
    with pytest.raises(DatasetError, match="label.lst line 1: ExpW label 7 out of range"):
        load_dataset(data_cfg(root))


def test_unknown_or_mismatched_format(tmp_path, data_cfg, tree):
    tree(tmp_path, {"happy": 2, "sad": 2})
    with pytest.raises(DatasetError, match="unknown data.format 'raf'"):
        load_dataset(data_cfg(tmp_path, format="raf"))
    with pytest.raises(DatasetError, match="RAF-DB: label file not found"):
        load_dataset(data_cfg(tmp_path, format="rafdb"))


def test_inspect_data_cli_prints_the_label_map(tmp_path, tree, capsys, monkeypatch):
    import json

    from fer_engine.cli import main

    monkeypatch.setenv("FER_STUDIO_CACHE", str(tmp_path / "cache"))
    tree(tmp_path / "copy", {"train/1": 3, "train/4": 3, "test/1": 1, "test/4": 1})
    assert main(["inspect-data", str(tmp_path / "copy")]) == 2
    assert "need data.label_map" in capsys.readouterr().err
    assert main(["inspect-data", str(tmp_path / "copy"), "--label-map", "rafdb", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["class_names"] == ["happy", "surprise"] and "RAF-DB label 4 -> happy" in doc["label_map"]
