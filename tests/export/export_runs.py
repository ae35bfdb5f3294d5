"""Finished run directories on the demo faces for the export tests (untrained, float32)."""
from __future__ import annotations

from pathlib import Path

from fer_engine.classes import FER2013_CLASSES


def make_run(root: Path, backbone: str = "fer_cnn_tiny", channels: int = 1, seed: int = 0,
             mean=(0.5,), std=(0.25,), stored_predictions: bool = True) -> Path:
    """A run as training leaves it (config, preprocess, dataset.json, best.pt, finished), on
    the demo data, trained without autocast so the app's own predictor runs float32.

    `stored_predictions`: write test predictions as training would (stand-in probabilities,
    seeded), so an export does not run the model over the whole test split."""
    import torch

    from fer_engine.config import RunConfig
    from fer_engine.models import create_model
    from fer_engine.training.checkpoint import save_checkpoint
    from fer_engine.training.run_files import DatasetInfo, Preprocess
    from fer_engine.training.rundir import RunDir

    cfg = RunConfig().replace(**{"model.backbone": backbone, "name": f"export {backbone}", "data.path": "demo",
                                 "data.channels": channels, "train.amp": False, "train.seed": seed})
    run = RunDir.create(root, cfg)
    torch.manual_seed(seed)
    model = create_model(cfg.model, num_classes=len(FER2013_CLASSES), in_chans=channels)
    run.write_preprocess(Preprocess(class_names=list(FER2013_CLASSES), channels=channels, image_size=48,
                                    input_size=int(model.input_size), mean=list(mean), std=list(std),
                                    backbone=backbone))
    run.write_dataset(DatasetInfo(source="demo", layout="demo", class_names=list(FER2013_CLASSES),
                                  splits={"train": 2100, "val": 350, "test": 350}, train_class_counts=[300] * 7))
    save_checkpoint(run.checkpoint_path("best"), {"model": model.state_dict()})
    if stored_predictions:
        _stored_test_predictions(run, seed)
    run.write_status("finished")
    return run.path


def _stored_test_predictions(run, seed: int) -> None:
    import numpy as np

    from fer_engine.scoring.predictions import Predictions, cross_entropy

    rng = np.random.default_rng(seed)
    n, k = 350, len(FER2013_CLASSES)
    probs = rng.dirichlet(np.ones(k), n).astype(np.float32)
    y_true = np.arange(n) % k
    Predictions(index=np.arange(n), y_true=y_true, y_pred=probs.argmax(1), probs=probs, logits=np.log(probs),
                losses=cross_entropy(probs, y_true), features=rng.normal(size=(n, 4)).astype(np.float32),
                class_names=list(FER2013_CLASSES), split="test").save(run.predictions_path("test", False))
