"""Grad-CAM of the tracked face for the live overlay (pytorch-grad-cam, one hooked model).

The live page asks for a CAM only every few frames, so one `GradCAM` object stays hooked
for the session (no per-call hook set-up); `LiveCam.close()` releases the hooks.
For an ensemble the first member's model explains the face.
"""
from __future__ import annotations

import numpy as np
import torch

from ..tricks.preprocess import prepare_batch


class LiveCam:
    """Callable (face (S, S, C) uint8, class index) -> (S, S) float32 CAM in [0, 1]."""

    def __init__(self, predictor: object, layer: str | None = None):
        from pytorch_grad_cam import GradCAM

        members = getattr(predictor, "members", None) or [predictor]
        self.predictor = members[0]
        model = self.predictor.model
        if not hasattr(model, "cam_target_layers"):
            raise ValueError(f"{type(model).__name__} does not name a Grad-CAM layer")
        self._cam = GradCAM(model, model.cam_target_layers(layer),
                            reshape_transform=getattr(model, "cam_reshape_transform", None))

    def __call__(self, face: np.ndarray, class_index: int) -> np.ndarray:
        from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

        pre = self.predictor.preprocess
        x = torch.from_numpy(np.ascontiguousarray(face[None])).to(self.predictor.device)
        x = prepare_batch(x, pre["mean"], pre["std"], int(pre["input_size"]))
        with torch.enable_grad():
            cam = self._cam(x, [ClassifierOutputTarget(int(class_index))])[0]
        return np.clip(np.nan_to_num(cam), 0.0, 1.0).astype(np.float32)

    def close(self) -> None:
        self._cam.activations_and_grads.release()
