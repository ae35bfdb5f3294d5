"""The analysis page's bridge to the engine on a real (untrained) fer_cnn run directory:
Grad-CAM maps per method and class, and a dropped file decoded and predicted like training."""
from __future__ import annotations

import numpy as np
import pytest

CLASSES = ["angry", "fear", "happy"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> str:
    import torch

    from fer_engine.config import RunConfig
    from fer_engine.models import create_model
    from fer_engine.training.checkpoint import save_checkpoint
    from fer_engine.training.run_files import Preprocess
    from fer_engine.training.rundir import RunDir

    torch.manual_seed(0)
    cfg = RunConfig().replace(**{"model.backbone": "fer_cnn"})
    run = RunDir.create(tmp_path_factory.mktemp("runs"), cfg)
    model = create_model(cfg.model, num_classes=len(CLASSES), in_chans=1)
    run.write_preprocess(Preprocess(class_names=CLASSES, channels=1, image_size=48,
                                    input_size=model.input_size, mean=[0.5], std=[0.25],
                                    backbone="fer_cnn"))
    run.checkpoints_dir.mkdir(exist_ok=True)
    save_checkpoint(run.checkpoint_path("best"), {"model": model.state_dict()})
    return str(run.path)


def test_cams_differ_per_method_and_class(run_dir):
    from fer_engine.eval.inspector import InspectorModel

    m = InspectorModel(run_dir)
    keys = [k for k, _ in m.methods]
    assert {"gradcam", "eigencam", "scorecam"} <= set(keys) and m.layers and not m.unavailable
    faces = np.random.default_rng(0).integers(0, 256, (2, 48, 48, 1), dtype=np.uint8)
    faces[1] = faces[0]
    grad = m.cams(faces, "gradcam", [0, 2], None)
    eigen = m.cams(faces, "eigencam", [0, 2], None)
    assert grad.shape == eigen.shape == (2, 48, 48)
    assert grad.min() >= 0 and grad.max() <= 1
    assert not np.allclose(grad, eigen)
    assert not np.allclose(grad[0], grad[1])  # same face, "why angry" vs "why happy"


def test_dropped_file_is_decoded_like_training_and_predicted(run_dir, tmp_path):
    from PIL import Image

    from fer_engine.eval.inspector import InspectorModel

    path = tmp_path / "photo.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (120, 90, 3), dtype=np.uint8)).save(path)
    m = InspectorModel(run_dir)
    face = m.decode(str(path))
    assert face.shape == (48, 48, 1) and face.dtype == np.uint8
    probs = m.predict(face)
    assert probs.shape == (3,) and abs(float(probs.sum()) - 1) < 1e-5
