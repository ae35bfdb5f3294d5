"""Grad-CAM of the tracked face for the live overlay, through `eval.cam.compute_cams`.

The hooks live only for one call (the every-frame classification stays hook-free), and
the live page asks for a map only every few frames. An ensemble is explained by its
first member's model.
"""
from __future__ import annotations

import numpy as np
import torch

from ..data.images import decode_image
from ..recipe.preprocess import prepare_batch
from .pipeline import CamFn


def make_cam_fn(predictor: object, method: str = "gradcam", layer: str | None = None) -> CamFn:
    """(face (S, S, C) uint8, class index) -> (H, W) float32 map in [0, 1] for the live pipeline."""
    from ..eval.cam import CAM_METHODS, compute_cams

    CAM_METHODS.get(method)  # an unknown method fails now, not at the first face
    member = (getattr(predictor, "members", None) or [predictor])[0]
    if not hasattr(member, "model"):
        raise ValueError("Grad-CAM needs the PyTorch model: choose the run, not an exported model file")
    pre = member.preprocess
    size, channels = pre.image_size, pre.channels
    if not hasattr(member.model, "cam_target_layers"):
        raise ValueError(f"{type(member.model).__name__} does not name a Grad-CAM layer")

    def cam(face: np.ndarray, class_index: int) -> np.ndarray:
        if face.shape != (size, size, channels):
            face = decode_image(face, size, channels)
        x = torch.from_numpy(np.array(face[None])).to(member.device)
        x = prepare_batch(x, pre.mean, pre.std, pre.input_size)
        return compute_cams(member.model, x, method, [int(class_index)], layer)[0]

    return cam
