"""An exported model in use: `predict` without torch gives the run's labels per frame; the Live
page plays a video with it; the model card and the `card` command."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fer_engine.cli import main

REPO = Path(__file__).resolve().parents[2]
NO_TORCH = ("import sys; sys.modules['torch'] = None\n"
            "from fer_engine.cli import main\n"
            "rc = main(sys.argv[1:])\n"
            "assert sys.modules['torch'] is None and not any(m.startswith('torch.') for m in sys.modules)\n"
            "sys.exit(rc)\n")
FRAMES = "90"


def _records(text: str) -> dict[tuple[int, int], dict]:
    return {(r["frame"], r["track_id"]): r for r in map(json.loads, text.splitlines())}


@pytest.mark.realdata
def test_predict_with_the_onnx_file_needs_no_torch_and_gives_the_runs_labels(tiny_run, tiny_onnx, video, capsys):
    args = [str(video), "--json", "--max-frames", FRAMES, "--every", "3"]
    assert main(["predict", str(tiny_run), *args]) == 0
    by_run = _records(capsys.readouterr().out)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", NO_TORCH, "predict", str(tiny_onnx), *args], env=env,
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    by_onnx = _records(done.stdout)
    assert len(by_run) >= 60 and by_onnx.keys() == by_run.keys()
    for key, r in by_run.items():
        o = by_onnx[key]
        assert o["label"] == r["label"] and o["box"] == r["box"], key
        assert max(abs(o["raw_probs"][c] - p) for c, p in r["raw_probs"].items()) <= 2e-4  # 4-decimal rounding


@pytest.mark.realdata
def test_live_page_plays_a_video_with_an_exported_model(qtbot, tiny_run, tiny_onnx, video, tmp_path):
    pytest.importorskip("pytestqt")
    from fer_studio.pages.live_page import LivePage
    from fer_studio.state import AppState

    page = LivePage(AppState(runs_root=tiny_run.parent))
    qtbot.addWidget(page)
    page.out_dir.setText(str(tmp_path / "saved"))
    page.show()
    page.run_combo.select(str(tiny_onnx))
    page.source.set_source("video", str(video))
    page.start()
    try:
        qtbot.waitUntil(lambda: page.latest is not None and len(page.latest.result.boxes) > 0, timeout=60000)
        assert page.latest.result.probs.shape[1] == 7  # a run loader would refuse a file: the export plays
        page.settings_panel.cam.setChecked(True)  # no Grad-CAM without the PyTorch model: said, play goes on
        qtbot.waitUntil(lambda: "Grad-CAM is off" in page.banner.text(), timeout=60000)
        shown = page.view.frames_shown
        qtbot.waitUntil(lambda: page.view.frames_shown > shown + 2, timeout=60000)
        assert page.worker is not None and page.latest.result.cam is None
        page.stop()
        qtbot.waitUntil(lambda: page.worker is None, timeout=60000)
    finally:
        page.shutdown()


def test_grad_cam_on_an_exported_model_says_it_needs_the_run(tiny_onnx):
    from fer_engine.export.source import open_model
    from fer_engine.live.cam import make_cam_fn

    with pytest.raises(ValueError, match="Grad-CAM needs the PyTorch model"):
        make_cam_fn(open_model(tiny_onnx, "cpu"))


def test_model_card_has_every_section(tiny_run, tmp_path):
    card = tmp_path / "card" / "MODEL_CARD.md"
    card.parent.mkdir()
    assert main(["card", str(tiny_run), "--out", str(card)]) == 0
    text = card.read_text()
    for heading in ("## Model", "## Data", "## Recipe", "## Results on the test split", "## Other datasets",
                    "## Intended use and limits"):
        assert heading in text, heading
    assert "Byte-identical groups: 0" in text and "95% CI" in text and "| angry |" in text
    assert (card.parent / "MODEL_CARD_confusion.png").read_bytes().startswith(b"\x89PNG")
