"""Frame sources and their faults: unplugged camera, missing camera, video end, unreadable files."""
from __future__ import annotations

import numpy as np
import pytest
from live_fakes import FakeCapture

from fer_engine.live import (CameraSource, ImageSequenceSource, SourceEnded, SourceLost,
                             SourceUnavailable, VideoRecorder, VideoSource, open_source)


def test_camera_unplugged_mid_stream_raises_source_lost():
    cam = CameraSource(0, capture=FakeCapture(frames=3), retry_wait_s=0)
    assert [cam.read().index for _ in range(3)] == [0, 1, 2]
    with pytest.raises(SourceLost, match="camera 0 stopped delivering frames after 3 frames"):
        cam.read()
    cam.close()


def test_camera_that_never_delivers_is_unavailable_not_lost():
    with pytest.raises(SourceUnavailable, match="delivers no frames"):
        CameraSource(1, capture=FakeCapture(frames=0), retry_wait_s=0).read()


def test_missing_camera_is_a_clear_error():
    fake = FakeCapture(opened=False)
    with pytest.raises(SourceUnavailable, match="cannot open camera 5"):
        CameraSource(5, capture=fake)
    assert fake.released
    with pytest.raises(SourceUnavailable, match="cannot open camera 97"):
        open_source("97")


def _write_video(path, n=5, size=(64, 48)):
    with VideoRecorder(path, fps=10) as rec:
        for i in range(n):
            rec.write(np.full((size[1], size[0], 3), i * 40, np.uint8))
    return path


def test_video_ends_after_its_frames(tmp_path):
    src = VideoSource(_write_video(tmp_path / "clip.mp4"))
    assert src.frame_count == 5 and src.fps == pytest.approx(10)
    assert [f.index for f in src] == [0, 1, 2, 3, 4]
    with pytest.raises(SourceEnded, match="clip.mp4 ended after 5 frames"):
        src.read()


def test_unreadable_and_missing_video(tmp_path):
    bad = tmp_path / "notes.mp4"
    bad.write_text("not a video")
    with pytest.raises(SourceUnavailable, match="cannot read video file .*notes.mp4"):
        open_source(bad)
    with pytest.raises(SourceUnavailable, match="video file not found"):
        VideoSource(tmp_path / "gone.mp4")
    with pytest.raises(SourceUnavailable, match="no such file or folder"):
        open_source(tmp_path / "gone.mp4")


def test_image_folder_plays_in_name_order_and_skips_broken_files(tmp_path):
    import cv2

    for name, value in (("b.png", 20), ("a.jpg", 10)):
        cv2.imwrite(str(tmp_path / name), np.full((30, 40, 3), value, np.uint8))
    (tmp_path / "c.png").write_bytes(b"broken")
    (tmp_path / "readme.txt").write_text("ignored")
    src = open_source(tmp_path)
    assert isinstance(src, ImageSequenceSource) and src.frame_count == 3
    assert [f.name for f in src] == ["a.jpg", "b.png"]
    assert [p.name for p, _ in src.skipped] == ["c.png"]


def test_folder_without_readable_images(tmp_path):
    with pytest.raises(SourceUnavailable, match="no image files in folder"):
        open_source(tmp_path)
    (tmp_path / "x.png").write_bytes(b"broken")
    with pytest.raises(SourceUnavailable, match="none of the images"):
        open_source(tmp_path).read()
