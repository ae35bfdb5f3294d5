"""CK+ (extended Cohn-Kanade): `cohn-kanade-images/S###/###/*.png` sequences from neutral to
the peak expression, with `Emotion/S###/###/*_emotion.txt` (one float, CK+'s order: 0 neutral,
1 anger, 2 contempt, 3 disgust, 4 fear, 5 happy, 6 sadness, 7 surprise) for the labelled
sequences only. The last `data.sequence_frames` frames of a labelled sequence take its label;
with `data.sequence_first_neutral` its first frame is a neutral face. Subject ids (S###) are kept:
consecutive frames are near-copies, so splits are made per subject.
"""
from __future__ import annotations

from pathlib import Path

from ...classes import CANONICAL_CLASSES
from ...config import DataConfig
from ..errors import DatasetError
from ..images import is_image_name
from ..label_maps import CKPLUS
from ..layouts import SPLIT_ALL, UNASSIGNED, Listing
from .registry import dataset_format, read_lines

IMAGES, LABELS = "cohn-kanade-images", "Emotion"


def _detect(source: Path) -> bool:
    return source.is_dir() and (source / IMAGES).is_dir()


@dataset_format("ckplus", "CK+", _detect, label_map="ckplus",
                description="cohn-kanade-images/S###/###/ sequences with Emotion/S###/###/*_emotion.txt")
def scan_ckplus(root: Path, cfg: DataConfig) -> Listing:
    if cfg.sequence_frames < 1:
        raise DatasetError(f"data.sequence_frames must be at least 1, got {cfg.sequence_frames}")
    labels_root = root / LABELS
    if not labels_root.is_dir():
        raise DatasetError(f"CK+: label folder not found: {labels_root} (Emotion/S###/###/*_emotion.txt)")
    listing = Listing(root, "ckplus", split_rule=SPLIT_ALL, label_map=CKPLUS.describe())
    for seq in sorted(p for p in (root / IMAGES).glob("S*/*") if p.is_dir()):
        subject, take = seq.parent.name, seq.name
        frames = sorted(str(f) for f in seq.iterdir() if is_image_name(f.name))
        label_files = sorted((labels_root / subject / take).glob("*_emotion.txt"))
        if not frames:
            continue
        if not label_files:
            listing.drop("frames of sequences without an emotion label", len(frames))
            continue
        text = " ".join(read_lines(label_files[0], "CK+")).strip()
        if not text:
            raise DatasetError(f"CK+: {label_files[0]} is empty (expected one number 0-7)")
        cls = CKPLUS.parse(text, str(label_files[0]))
        k = min(cfg.sequence_frames, len(frames) - (1 if cfg.sequence_first_neutral else 0))
        listing.add(frames[len(frames) - k:], CANONICAL_CLASSES.index(cls), UNASSIGNED, group=subject)
        if cfg.sequence_first_neutral and len(frames) > k:
            listing.add(frames[:1], CANONICAL_CLASSES.index("neutral"), UNASSIGNED, group=subject)
        if len(frames) - k - cfg.sequence_first_neutral > 0:
            listing.drop("intermediate frames of labelled sequences", len(frames) - k - int(cfg.sequence_first_neutral))
    if not listing.files:
        raise DatasetError(f"CK+: no labelled sequence in {root} (no {LABELS}/S###/###/*_emotion.txt "
                           f"matches a {IMAGES}/S###/###/ folder)")
    listing.notes.append(f"CK+: the last {cfg.sequence_frames} frame(s) of each labelled sequence"
                         + (", and its first frame as neutral" if cfg.sequence_first_neutral else ""))
    return listing
