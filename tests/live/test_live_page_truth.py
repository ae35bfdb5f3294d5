"""The live page shows only the session it names (issue #20, items 4 and 10, and the run caveat)."""
from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("pytestqt")

WAIT_MS = 30000


def _play(page, qtbot, kind, spec):
    page.source.set_source(kind, spec)
    page.start()
    assert page.worker is not None


def test_snapshot_names_run_checkpoint_and_source_and_a_failed_start_clears_the_old_session(
        page, qtbot, tiny_run, video, tmp_path):
    from live_runs import make_run

    _play(page, qtbot, "video", str(video))
    qtbot.waitUntil(lambda: page.latest is not None and len(page.latest.result.boxes) > 0, timeout=WAIT_MS)
    meta = json.loads([p for p in page.snapshot() if p.suffix == ".json"][0].read_text())
    assert meta["run"] == "live fer_cnn_tiny" and meta["run_id"] == tiny_run.name
    assert meta["checkpoint"].startswith("best.pt") and meta["source"] == str(video.resolve())
    assert meta["source_kind"] == "video" and meta["faces"]
    page.stop()
    qtbot.waitUntil(lambda: page.worker is None, timeout=WAIT_MS)
    assert page.snapshot_btn.isEnabled()  # the stopped session's last frame can still be saved

    broken = make_run(tmp_path / "runs", checkpoint=False)
    page.run_combo.select(str(broken))
    _play(page, qtbot, "video", str(video))
    qtbot.waitUntil(lambda: page.worker is None, timeout=WAIT_MS)
    assert "has no checkpoint yet" in page.banner.text()
    assert page.latest is None and not page.snapshot_btn.isEnabled()
    assert page.fps_label.text() == "– fps" and page.latency_label.text() == "" and page.faces_label.text() == ""
    assert page.bars.bars == [] and page.snapshot() == []


def test_live_grad_cam_is_visible_offers_methods_and_says_when_the_map_is_flat(page, qtbot, video, monkeypatch):
    from fer_studio.widgets import live_worker

    methods = [page.settings_panel.cam_method.itemData(i) for i in range(page.settings_panel.cam_method.count())]
    assert "gradcam" in methods and "layercam" in methods and "scorecam" not in methods
    made = []

    def flat_cam_fn(predictor, method="gradcam", layer=None):
        made.append(method)
        return lambda face, class_index: np.zeros(face.shape[:2], np.float32)

    monkeypatch.setattr("fer_engine.live.cam.make_cam_fn", flat_cam_fn)
    page.settings_panel.cam.setChecked(True)
    page.settings_panel.cam_every.setValue(1)
    _play(page, qtbot, "video", str(video))
    qtbot.waitUntil(lambda: page.latest is not None and page.latest.result.cam is not None, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: "flat map" in page.cam_note.text(), timeout=WAIT_MS)
    assert "Grad-CAM" in page.cam_note.text() and "LayerCAM" in page.cam_note.text()
    page.settings_panel.cam_method.setCurrentIndex(methods.index("layercam"))
    qtbot.waitUntil(lambda: made[-1:] == ["layercam"], timeout=WAIT_MS)
    assert isinstance(page.worker, live_worker.LiveWorker)
    page.stop()
    qtbot.waitUntil(lambda: page.worker is None, timeout=WAIT_MS)


def test_the_heat_map_shows_on_the_frame_even_where_it_is_weak():
    from fer_engine.live.overlay import annotate
    from fer_engine.live.pipeline import FrameResult

    frame = np.full((200, 200, 3), 120, np.uint8)
    base = dict(index=0, class_names=["happy", "sad"], boxes=np.array([[60, 60, 80, 80]]),
                track_ids=np.array([1]), probs=np.array([[0.7, 0.3]]), smoothed=np.array([[0.7, 0.3]]),
                faces=np.zeros((1, 48, 48, 1), np.uint8), detected=True)
    plain = annotate(frame, FrameResult(**base), bars=False, hud=False)
    weak = annotate(frame, FrameResult(**base, cam=np.zeros((48, 48), np.float32), cam_track=1),
                    bars=False, hud=False)
    inside = (slice(80, 120), slice(80, 120))
    assert np.abs(weak[inside].astype(int) - plain[inside]).mean() > 20  # tinted, not invisible


def test_live_warns_about_demo_trained_and_near_chance_runs(page, qtbot, tiny_run, tmp_path):
    from live_runs import make_run

    from fer_engine.training.run_files import DatasetInfo
    from fer_engine.training.rundir import RunDir

    qtbot.waitUntil(lambda: page.caveat.isVisible(), timeout=WAIT_MS)
    assert "demo set" in page.caveat.text()  # the fixture run's config trains on "demo"
    weak = RunDir(make_run(tmp_path / "runs"))
    weak.config().replace(**{"data.path": "/data/fer2013"}).save(weak.config_path)
    weak.write_dataset(DatasetInfo(class_names=["angry", "happy"], split_class_counts={"test": [755, 245]}))
    weak.write_status("finished", summary={"test_acc": 0.19})
    page.run_combo.select(str(weak.path))
    qtbot.waitUntil(lambda: "near chance" in page.caveat.text(), timeout=WAIT_MS)
    assert "19.0%" in page.caveat.text() and "always angry 75.5%" in page.caveat.text()
