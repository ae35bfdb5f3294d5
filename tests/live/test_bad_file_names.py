"""File names that are not valid UTF-8, and truncated images, in `predict` and the live sources
(issue 19, item 1 and 8). OpenCV's own file functions crash (SIGSEGV) on such names, so the
CLI runs in a child process: a crash fails the test instead of taking pytest down."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from fer_engine.live import VideoRecorder, open_source
from fer_engine.live.cvfiles import write_image

BAD = b"bad\xff\xfe"
ROOT = Path(__file__).resolve().parents[2]


def _frame(i: int = 0) -> np.ndarray:
    img = np.full((64, 80, 3), 40 + 20 * i, np.uint8)
    cv2.circle(img, (40, 32), 20, (200, 180, 160), -1)
    return img


def _jpeg(i: int = 0) -> bytes:
    return cv2.imencode(".jpg", _frame(i))[1].tobytes()


def _cli(*args: bytes | str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "fer_engine.cli", *args], capture_output=True,
                          env=env, timeout=240)


@pytest.fixture
def folder(tmp_path) -> bytes:
    d = os.fsencode(tmp_path / "pictures")
    os.mkdir(d)
    with open(d + b"/" + BAD + b".jpg", "wb") as f:
        f.write(_jpeg(1))
    with open(d + b"/good.jpg", "wb") as f:
        f.write(_jpeg(2))
    with open(d + b"/cut.jpg", "wb") as f:
        f.write(_jpeg(3)[:300])  # truncated: OpenCV would decode it to grey and find "no face"
    return d


def test_predict_a_folder_with_a_non_utf8_name_and_a_truncated_jpeg(tiny_run, folder, tmp_path):
    out = os.fsencode(tmp_path) + b"/out-" + BAD
    r = _cli("predict", str(tiny_run), folder, "--out", out)
    assert r.returncode == 0, r.stderr.decode(errors="replace")[-2000:]
    rows = r.stdout.decode().splitlines()[1:]
    assert sorted(row.split()[1] for row in rows) == ["bad\\xff\\xfe.jpg", "good.jpg"]
    err = r.stderr.decode()
    assert "unreadable, skipped: " in err and "cut.jpg: truncated or corrupt image data" in err
    assert sorted(os.listdir(out)) == sorted([BAD + b".png", b"good.png"])
    assert cv2.imdecode(np.fromfile(out + b"/" + BAD + b".png", np.uint8), cv2.IMREAD_COLOR).shape == (64, 80, 3)


def test_predict_a_video_with_a_non_utf8_name_into_a_non_utf8_video(tiny_run, tmp_path):
    plain = tmp_path / "clip.mp4"
    w = cv2.VideoWriter(str(plain), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, (80, 64))
    for i in range(6):
        w.write(_frame(i))
    w.release()
    src = os.fsencode(tmp_path) + b"/" + BAD + b".mp4"
    os.rename(plain, src)
    out = os.fsencode(tmp_path) + b"/out-" + BAD + b".mp4"
    r = _cli("predict", str(tiny_run), src, "--out", out)
    assert r.returncode == 0, r.stderr.decode(errors="replace")[-2000:]
    assert b"6 frame(s)" in r.stderr
    assert sorted(p for p in os.listdir(os.fsencode(tmp_path)) if p.startswith(b"out-")) == [b"out-" + BAD + b".mp4"]
    with open_source(os.fsdecode(out)) as source:  # the live page's source reads it back
        assert source.kind == "video" and sum(1 for _ in source) == 6


def test_live_sources_and_recorder_take_any_file_name(folder, tmp_path):
    source = open_source(os.fsdecode(folder))
    names = [frame.name for frame in source]
    assert sorted(names) == sorted([os.fsdecode(BAD + b".jpg"), "good.jpg"])
    assert [(p.name, "truncated" in reason) for p, reason in source.skipped] == [("cut.jpg", True)]
    video = Path(os.fsdecode(os.fsencode(tmp_path) + b"/" + BAD + b".avi"))
    with VideoRecorder(video, fps=5) as rec:
        for i in range(3):
            rec.write(_frame(i))
    assert video.is_file() and not [p for p in tmp_path.iterdir() if p.name.startswith(".recording-")]
    write_image(tmp_path / os.fsdecode(BAD + b".png"), _frame())
    assert (tmp_path / os.fsdecode(BAD + b".png")).stat().st_size > 0
