"""Small datasets in the exact on-disk layouts of FERPlus, RAF-DB, AffectNet, CK+, JAFFE and ExpW,
built from faces of the demo generator (contempt: a neutral face, only its name matters here)."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from PIL import Image

from fer_engine.data.demo import render_face
from fer_engine.data.label_maps import FERPLUS_COLUMNS


def face(name: str, seed: int, size: int = 48) -> np.ndarray:
    img = render_face("neutral" if name == "contempt" else name, np.random.default_rng(seed))
    return img if size == 48 else np.asarray(Image.fromarray(img).resize((size, size)))


def save(path: Path, pixels: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)
    return path


def fer2013_csv(path: Path, labels: list[int], usages: list[str]) -> Path:
    """A FER2013 CSV (emotion,pixels,Usage) of demo faces with FER2013 labels."""
    from fer_engine.classes import FER2013_CLASSES

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["emotion", "pixels", "Usage"])
        for i, (lab, usage) in enumerate(zip(labels, usages)):
            w.writerow([lab, " ".join(map(str, face(FER2013_CLASSES[lab], i).ravel())), usage])
    return path


def ferplus_csv(folder: Path, votes: list[list[int]], usages: list[str], names: list[str] | None = None) -> Path:
    """fer2013new.csv (votes) beside a fer2013.csv of as many rows."""
    fer2013_csv(folder / "fer2013.csv", [6] * len(votes), usages)
    names = names if names is not None else [f"fer{i:07d}.png" for i in range(len(votes))]
    with open(folder / "fer2013new.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["Usage", "Image name", *FERPLUS_COLUMNS])
        for usage, name, v in zip(usages, names, votes):
            w.writerow([usage, name, *v])
    return folder


def ferplus_folders(root: Path, rows: dict[str, list[list[int]]], with_box: bool = True) -> Path:
    """FER2013Train/ FER2013Valid/ FER2013Test/ PNGs with header-less label.csv files."""
    for folder, votes in rows.items():
        lines = []
        for i, v in enumerate(votes):
            name = f"fer{i:07d}.png"
            save(root / folder / name, face("happy", i))
            lines.append(",".join([name, *(['"(0, 0, 48, 48)"'] if with_box else []), *map(str, v)]))
        (root / folder / "label.csv").write_text("\n".join(lines) + "\n")
    return root


RAFDB_NAMES = {1: "surprise", 2: "fear", 3: "disgust", 4: "happy", 5: "sad", 6: "angry", 7: "neutral"}


def rafdb(root: Path, per_label: int = 3, aligned: bool = True) -> Path:
    """EmoLabel/list_patition_label.txt with Image/aligned/<stem>_aligned.jpg (100x100)."""
    lines, n = [], 0
    for split in ("train", "test"):
        for label, name in RAFDB_NAMES.items():
            for _ in range(per_label if split == "train" else 1):
                n += 1
                file = f"{split}_{n:05d}.jpg"
                target = f"{split}_{n:05d}_aligned.jpg" if aligned else file
                save(root / "Image" / ("aligned" if aligned else "original") / target, face(name, n, 100))
                lines.append(f"{file} {label}")
    (root / "EmoLabel").mkdir(parents=True, exist_ok=True)
    (root / "EmoLabel" / "list_patition_label.txt").write_text("\n".join(lines) + "\n")
    return root


AFFECTNET_HEADER = ["subDirectory_filePath", "face_x", "face_y", "face_width", "face_height",
                    "facial_landmarks", "expression", "valence", "arousal"]


def affectnet(root: Path, train: list[int], validation: list[int]) -> Path:
    """Manually_Annotated_file_lists/{training,validation}.csv; each photo is 80x80 black with the
    48x48 face pasted at (20, 12), which is the annotated box."""
    for name, expressions in (("training.csv", train), ("validation.csv", validation)):
        rows = []
        for i, e in enumerate(expressions):
            photo = np.zeros((80, 80), np.uint8)
            photo[12:60, 20:68] = face("happy", i)
            rel = f"{i % 3 + 1}/{name[:5]}_{i:04d}.jpg"
            save(root / "Manually_Annotated_Images" / rel, photo)
            rows.append([rel, 20, 12, 48, 48, "1;2;3", e, 0.1, -0.2])
        (root / "Manually_Annotated_file_lists").mkdir(parents=True, exist_ok=True)
        with open(root / "Manually_Annotated_file_lists" / name, "w", newline="") as f:
            csv.writer(f).writerows([AFFECTNET_HEADER, *rows])
    return root


CK_NAMES = {1: "angry", 2: "contempt", 3: "disgust", 4: "fear", 5: "happy", 6: "sad", 7: "surprise"}


def ckplus(root: Path, subjects: int = 6, frames: int = 6, unlabelled: int = 1) -> Path:
    """cohn-kanade-images/S###/###/ sequences; Emotion/ labels for all but `unlabelled` per subject."""
    for s in range(subjects):
        subject = f"S{s + 10:03d}"
        for q, label in enumerate(list(CK_NAMES)[s % 3: s % 3 + 3]):
            take = f"{q + 1:03d}"
            for f in range(frames):
                save(root / "cohn-kanade-images" / subject / take / f"{subject}_{take}_{f + 1:08d}.png",
                     face(CK_NAMES[label] if f >= frames // 2 else "neutral", s * 100 + q * 10 + f))
            if q >= unlabelled:
                p = root / "Emotion" / subject / take / f"{subject}_{take}_{frames:08d}_emotion.txt"
                p.parent.mkdir(parents=True, exist_ok=True)
                p.write_text(f"   {label:.7e}\n")
    return root


JAFFE_CODES = {"AN": "angry", "DI": "disgust", "FE": "fear", "HA": "happy", "NE": "neutral", "SA": "sad",
               "SU": "surprise"}


def jaffe(root: Path, subjects=("KA", "KL", "KM", "KR", "MK", "NA", "NM", "TM", "UY", "YM")) -> Path:
    n = 0
    for subject in subjects:
        for code, name in JAFFE_CODES.items():
            for k in (1, 2):
                n += 1
                save(root / f"{subject}.{code}{k}.{n}.tiff", face(name, n))
    return root


def expw(root: Path, labels: list[int]) -> Path:
    """label/label.lst and image/origin/ photos holding two faces each (left and right half)."""
    from fer_engine.classes import FER2013_CLASSES

    lines = []
    for i in range(0, len(labels), 2):
        pair = labels[i:i + 2]
        photo = np.zeros((60, 110), np.uint8)
        name = f"photo_{i:04d}.jpg"
        for j, lab in enumerate(pair):
            photo[6:54, 5 + 55 * j:53 + 55 * j] = face(FER2013_CLASSES[lab], i + j)
            lines.append(f"{name} {j} 6 {5 + 55 * j} {53 + 55 * j} 54 0.9 {lab}")
        save(root / "image" / "origin" / name, photo)
    (root / "label").mkdir(parents=True, exist_ok=True)
    (root / "label" / "label.lst").write_text("\n".join(lines) + "\n")
    return root
