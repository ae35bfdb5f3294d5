"""`fer-studio predict` on the whole video (frame count of the annotated output) and on a folder."""
from __future__ import annotations

import json

import cv2
import numpy as np

from fer_engine.cli import main


def test_predict_video_writes_every_frame_and_a_distribution_per_face(tiny_run, video, tmp_path, capsys):
    out = tmp_path / "annotated.mp4"
    assert main(["predict", str(tiny_run), str(video), "--json", "--every", "8", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    records = [json.loads(line) for line in captured.out.splitlines()]
    frames_with_face = {r["frame"] for r in records}
    assert len(frames_with_face) >= 0.8 * 464
    for r in records:
        assert set(r) >= {"frame", "box", "label", "probs", "track_id", "confidence"}
        assert len(r["probs"]) == 7 and abs(sum(r["probs"].values()) - 1) < 1e-3
        assert r["label"] == max(r["probs"], key=r["probs"].get)
    assert "464 frame(s)" in captured.err
    cap = cv2.VideoCapture(str(out))
    n = 0
    while cap.read()[0]:
        n += 1
    cap.release()
    assert n == 464


def test_predict_image_folder_as_a_table_and_annotated_images(tiny_run, video, tmp_path, capsys):
    folder = tmp_path / "pictures"
    folder.mkdir()
    cap = cv2.VideoCapture(str(video))
    for name in ("a.jpg", "b.png"):
        cv2.imwrite(str(folder / name), cap.read()[1])
    cap.release()
    cv2.imwrite(str(folder / "blank.png"), np.zeros((120, 160, 3), np.uint8))
    (folder / "broken.jpg").write_bytes(b"not an image")
    out = tmp_path / "annotated"
    assert main(["predict", str(tiny_run), str(folder), "--out", str(out)]) == 0
    captured = capsys.readouterr()
    rows = captured.out.splitlines()
    assert rows[0].split()[:3] == ["frame", "source", "face"]
    by_name = {row.split()[1]: row for row in rows[1:]}
    assert set(by_name) == {"a.jpg", "b.png", "blank.png"}
    assert "no face" in by_name["blank.png"] and "no face" not in by_name["a.jpg"]
    assert "skipped" in captured.err and "broken.jpg" in captured.err
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "b.png", "blank.png"]


def test_predict_errors_are_one_clear_line(tiny_run, tmp_path, capsys):
    assert main(["predict", str(tiny_run), str(tmp_path / "missing.mp4")]) == 2
    assert "no such file or folder" in capsys.readouterr().err
    bad = tmp_path / "bad.mp4"
    bad.write_text("x")
    assert main(["predict", str(tiny_run), str(bad)]) == 2
    assert "cannot read video file" in capsys.readouterr().err
