"""A fake run for the analysis page: real engine `Analysis`/`Predictions` over synthetic faces,
and a fake inspector model whose Grad-CAM maps depend on the method and the target class."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

CLASSES = ["angry", "fear", "happy", "sad"]
N = 60
WAIT_MS = 60_000  # generous: background jobs share two busy cores with the rest of the suite


def make_analysis(run_dir: Path, split: str = "test"):
    from fer_engine.eval.analysis import Analysis
    from fer_engine.scoring.predictions import Predictions, cross_entropy

    rng = np.random.default_rng(1)
    y_true = np.repeat(np.arange(len(CLASSES)), N // len(CLASSES))
    logits = rng.normal(size=(N, len(CLASSES))).astype(np.float32)
    logits[np.arange(N), y_true] += 1.0  # mostly right, with some mistakes in every row
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    y_pred = probs.argmax(1)
    features = np.concatenate([np.eye(len(CLASSES))[y_true] * 3, rng.normal(size=(N, 4))], 1)
    preds = Predictions(index=np.arange(N), y_true=y_true, y_pred=y_pred, probs=probs.astype(np.float32),
                        logits=np.log(probs).astype(np.float32), losses=cross_entropy(probs, y_true),
                        features=features.astype(np.float32), class_names=list(CLASSES), split=split)
    # each face carries its row number in its first pixels, so a shown face names its row
    images = rng.integers(0, 256, (N, 16, 16, 1), dtype=np.uint8)
    images[:, 0, 0, 0] = np.arange(N)
    return Analysis(run_dir=run_dir, predictions=preds, images=images,
                    sources=[f"/data/test/{CLASSES[t]}/{i}.png" for i, t in enumerate(y_true)],
                    data_path="synthetic")


class FakeInspectorModel:
    """Grad-CAM maps that differ per method and target; predictions from the mean brightness."""

    methods = [("gradcam", "Grad-CAM"), ("eigencam", "Eigen-CAM"), ("scorecam", "Score-CAM")]
    layers = ["body.0", "body.2"]
    unavailable = ""

    def __init__(self, run_dir: str):
        self.class_names = list(CLASSES)
        self.calls: list[tuple[str, tuple[int, ...], str | None]] = []

    def cams(self, faces, method, targets, layer, progress=None, should_stop=None):
        self.calls.append((method, tuple(targets), layer))
        h, w = faces.shape[1:3]
        yy, xx = np.mgrid[0:h, 0:w] / max(h - 1, 1)
        base = {"gradcam": xx, "eigencam": yy, "scorecam": (xx + yy) / 2}[method]
        return np.stack([np.clip(base * (1 + t) / len(CLASSES), 0, 1) for t in targets]).astype(np.float32)

    def predict(self, face):
        p = np.full(len(CLASSES), 0.1, np.float32)
        p[int(face.mean()) % len(CLASSES)] = 0.7
        return p

    def decode(self, path):
        from fer_engine.data.images import decode_image

        return decode_image(path, 16, 1)


@pytest.fixture(name="make_analysis")
def make_analysis_fixture():
    """The factory of fake analyses: make_analysis(run_dir, split) -> engine Analysis."""
    return make_analysis


@pytest.fixture
def classes() -> list[str]:
    return list(CLASSES)


@pytest.fixture
def page(qtbot, tmp_path):
    """An AnalysisPage opened on the fake run (waits for the background open to finish)."""
    from fer_studio.pages.analysis_page import AnalysisPage
    from fer_studio.state import AppState

    state = AppState(runs_root=tmp_path / "runs")
    p = AnalysisPage(state)
    p.opener = lambda run_dir, split, data, tta, progress, should_stop: make_analysis(Path(run_dir), split)
    p.model_loader = FakeInspectorModel
    qtbot.addWidget(p)
    p.resize(1400, 900)
    p.show()
    qtbot.waitExposed(p)
    state.analysisRequested.emit(str(tmp_path / "run-1"))
    qtbot.waitUntil(lambda: p.analysis is not None or "color:" in p.summary.text(), timeout=WAIT_MS)
    assert p.analysis is not None, p.summary.text()
    return p

