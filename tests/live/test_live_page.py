"""The live page plays woman2.mp4 in its worker thread; faults show a message and Start works again."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from fer_studio.widgets import live_worker  # noqa: E402

WAIT_MS = 30000  # generous: the suite shares two CPU cores


def _play(page, qtbot, kind, spec):
    page.source.set_source(kind, spec)
    page.start()
    assert page.worker is not None


def test_page_plays_the_video_shows_frames_fps_and_bars_then_snapshot_and_record(page, qtbot, tiny_run, video):
    assert page.run_dir() == str(tiny_run)
    page.settings_panel.detect_every.setValue(4)
    _play(page, qtbot, "video", str(video))
    qtbot.waitUntil(lambda: page.view.frames_shown >= 5 and len(page.latest.result.boxes), timeout=WAIT_MS)
    assert page.fps_label.text().endswith("fps") and float(page.fps_label.text().split()[0]) > 0
    assert "detect" in page.latency_label.text() and "classify" in page.latency_label.text()
    assert page.bars.class_names and len(page.bars.bars) == min(3, len(page.latest.result.boxes))
    heights = page.bars.bars[0].opts["height"]
    assert len(heights) == 7 and abs(float(np.sum(heights)) - 1) < 1e-3
    page.record_btn.setChecked(True)
    shown = page.view.frames_shown
    qtbot.waitUntil(lambda: page.view.frames_shown >= shown + 5, timeout=WAIT_MS)
    with qtbot.waitSignal(page.worker.recordingSaved, timeout=WAIT_MS) as saved:
        page.record_btn.setChecked(False)
    path, frames = saved.args
    assert frames >= 5 and path.endswith(".mp4")
    faces = len(page.latest.result.boxes)
    paths = page.snapshot()
    assert [p.suffix for p in paths] == [".png"] * (1 + faces) + [".json"] and all(p.is_file() for p in paths)
    page.stop()
    qtbot.waitUntil(lambda: page.worker is None, timeout=WAIT_MS)
    assert page.start_btn.isEnabled() and "Stopped" in page.banner.text()


def test_video_end_is_reported_and_the_page_starts_again(page, qtbot, tmp_path):
    from fer_engine.live import VideoRecorder

    clip = tmp_path / "short.mp4"
    with VideoRecorder(clip, fps=30) as rec:
        for i in range(4):
            rec.write(np.full((60, 80, 3), 40 * i, np.uint8))
    for _ in range(2):  # the second start proves the page recovers
        _play(page, qtbot, "video", str(clip))
        qtbot.waitUntil(lambda: page.worker is None, timeout=WAIT_MS)
        assert "ended after 4 frames" in page.banner.text()
        assert page.start_btn.isEnabled()


def test_faults_show_a_clear_message_and_the_page_can_start_again(page, qtbot, tmp_path, video, tiny_run,
                                                               monkeypatch):
    from live_runs import make_run
    from live_fakes import FakeCapture

    from fer_engine.live import CameraSource

    bad = tmp_path / "bad.mp4"
    bad.write_text("not a video")
    _play(page, qtbot, "video", str(bad))
    qtbot.waitUntil(lambda: page.worker is None, timeout=WAIT_MS)
    assert "cannot read video file" in page.banner.text()

    page.source.set_cameras([])  # no camera found: Start explains instead of failing later
    page.source.set_source("camera", "0")
    page.start()
    assert page.worker is None and "No camera was found" in page.banner.text()

    # a camera unplugged mid-stream
    monkeypatch.setattr(live_worker.LiveWorker, "_open_source",
                        lambda self: CameraSource(0, capture=FakeCapture(frames=6), retry_wait_s=0))
    page.source.set_cameras([0])
    page.source.set_source("camera", "0")
    page.start()
    qtbot.waitUntil(lambda: page.worker is None, timeout=WAIT_MS)
    assert "Source lost: camera 0 stopped delivering frames after 6 frames" in page.banner.text()
    monkeypatch.undo()

    # a run whose checkpoint is missing
    broken = make_run(tmp_path / "runs", checkpoint=False)
    page.run_combo.select(str(broken))
    _play(page, qtbot, "video", str(video))
    qtbot.waitUntil(lambda: page.worker is None, timeout=WAIT_MS)
    assert "has no checkpoint yet" in page.banner.text()

    # and the page still plays the real video afterwards
    page.run_combo.select(str(tiny_run))
    _play(page, qtbot, "video", str(video))
    qtbot.waitUntil(lambda: page.view.frames_shown >= 3, timeout=WAIT_MS)
    page.stop()
    qtbot.waitUntil(lambda: page.worker is None, timeout=WAIT_MS)


def test_settings_change_while_playing_turns_grad_cam_on(page, qtbot, video):
    pytest.importorskip("pytorch_grad_cam")  # imported here: a slow first import is not part of the wait
    _play(page, qtbot, "video", str(video))
    qtbot.waitUntil(lambda: page.view.frames_shown >= 2, timeout=WAIT_MS)
    page.settings_panel.cam_every.setValue(2)
    page.settings_panel.cam.setChecked(True)
    qtbot.waitUntil(lambda: page.latest is not None and page.latest.result.cam is not None, timeout=WAIT_MS)
    assert page.latest.result.cam.shape == (48, 48)
    assert "Grad-CAM" in page.latency_label.text()
    page.stop()
    qtbot.waitUntil(lambda: page.worker is None, timeout=WAIT_MS)
