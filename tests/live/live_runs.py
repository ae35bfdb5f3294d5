"""A finished run directory for live tests (a module of its own: every test folder has a conftest)."""
from __future__ import annotations

from pathlib import Path

from fer_engine.classes import FER2013_CLASSES


def make_run(root: Path, backbone: str = "fer_cnn_tiny", checkpoint: bool = True) -> Path:
    """A run directory as training leaves it (config, preprocess, best.pt, finished)."""
    import torch

    from fer_engine.config import RunConfig
    from fer_engine.models import create_model
    from fer_engine.training.checkpoint import save_checkpoint
    from fer_engine.training.run_files import Preprocess
    from fer_engine.training.rundir import RunDir

    cfg = RunConfig().replace(**{"model.backbone": backbone, "name": f"live {backbone}"})
    run = RunDir.create(root, cfg)
    torch.manual_seed(0)
    model = create_model(cfg.model, num_classes=len(FER2013_CLASSES), in_chans=1)
    run.write_preprocess(Preprocess(class_names=list(FER2013_CLASSES), channels=1, image_size=48,
                                    input_size=int(model.input_size), mean=[0.5], std=[0.25],
                                    backbone=backbone))
    if checkpoint:
        save_checkpoint(run.checkpoint_path("best"), {"model": model.state_dict()})
    run.write_status("finished")
    return run.path
