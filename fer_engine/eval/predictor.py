"""Classify faces of any size with a run or an ensemble, exactly as they were trained.

`load_predictor(path, device)` returns a `RunPredictor` (one run: its model, features,
preprocessing) or an `EnsemblePredictor` (members each with their own preprocessing,
voted soft or hard like `ensemble.vote`). The live page and the image inspector use it.
Faces may be any size, grayscale or RGB uint8; each model gets them converted to its
stored format (channels, image size) by the dataset decoder and then through
`prepare_batch`, the same path as training. The forward runs in the run's training
precision (`train.amp`: bfloat16 autocast where the GPU or CPU computes it natively, float16
on older GPUs) and memory format, like the stored predictions; on a CPU with native bfloat16
that roughly doubles the live frame rate of a ResNet.
"""
from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np
import torch

from ..data.images import to_stored_format  # noqa: F401 - re-exported (torch-free home)
from ..training.precision import amp_dtype
from ..training.rundir import RunDir
from .ensemble import vote as combine_votes
from .source import open_source


class Predictor(Protocol):
    class_names: list[str]

    def predict_faces(self, faces: np.ndarray) -> np.ndarray:
        """uint8 (B, H, W, C) faces of any size -> (B, K) float32 probabilities."""


class RunPredictor:
    """One run's best model with its preprocessing."""

    def __init__(self, run_dir: str | Path | RunDir, device: str = "auto", which: str = "best"):
        from ..training.rundir import load_run_model
        from .store import resolve_device

        self.run = run_dir if isinstance(run_dir, RunDir) else RunDir.open(run_dir)
        self.device = torch.device(resolve_device(device))
        self.model, self.preprocess = load_run_model(self.run, which, str(self.device))
        self.class_names: list[str] = list(self.preprocess.class_names)
        self.amp_dtype = amp_dtype(self.device, self.run.config().train.amp)

    def inputs(self, faces: np.ndarray):
        """Model input (B, C, S, S) on the device for faces of any size (Grad-CAM uses it too)."""
        from ..recipe.preprocess import prepare_batch

        pre = self.preprocess
        stored = to_stored_format(faces, pre.image_size, pre.channels)
        raw = torch.from_numpy(stored).to(self.device)
        return prepare_batch(raw, pre.mean, pre.std, pre.input_size)

    def precision(self):
        """The autocast context the model runs in (the run's training precision)."""
        return torch.autocast(self.device.type, dtype=self.amp_dtype, enabled=self.amp_dtype is not None)

    def predict_faces(self, faces: np.ndarray) -> np.ndarray:
        if len(faces) == 0:
            return np.zeros((0, len(self.class_names)), np.float32)
        with torch.inference_mode(), self.precision():
            return self.model(self.inputs(faces)).float().softmax(-1).cpu().numpy()

    def features(self, faces: np.ndarray) -> np.ndarray:
        """(B, D) penultimate features (what the analysis scatter shows)."""
        with torch.inference_mode(), self.precision():
            return self.model.forward_features(self.inputs(faces)).float().flatten(1).cpu().numpy()


class EnsemblePredictor:
    """Members' probabilities voted soft or hard; each member converts faces its own way."""

    def __init__(self, members: list[RunPredictor], vote: str):
        self.members, self.vote = members, vote
        self.class_names = list(members[0].class_names)

    def predict_faces(self, faces: np.ndarray) -> np.ndarray:
        if len(faces) == 0:
            return np.zeros((0, len(self.class_names)), np.float32)
        return combine_votes(np.stack([m.predict_faces(faces) for m in self.members]), self.vote)[0]


def load_predictor(path: str | Path | RunDir, device: str = "auto") -> RunPredictor | EnsemblePredictor:
    """The run's predictor, or its members' voted (`open_source` checks they fit together)."""
    source = open_source(path)
    members = [RunPredictor(r, device) for r in source.runs]
    return members[0] if len(members) == 1 else EnsemblePredictor(members, source.vote)
