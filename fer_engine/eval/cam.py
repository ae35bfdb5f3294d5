"""Grad-CAM maps through pytorch-grad-cam: computation only (arrays in, arrays out).

`compute_cams` explains a batch of already preprocessed faces for one method, target class
and layer, and leaves the model as it found it: hooks released (even on error), eval mode,
parameters' `requires_grad` flags and `.grad` tensors restored. Gradients flow through the
activations only (the input is the one leaf that requires grad), so no parameter gradient
is computed. `overlay` turns a map into a picture; display code lives in the GUI.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import cv2
import numpy as np
import torch

from ..registry import Registry
from ..progress import Cancelled, ProgressFn, StopFn

if TYPE_CHECKING:
    from ..models.fer_model import FerModel


@dataclass(frozen=True)
class CamMethod:
    name: str
    title: str
    class_name: str  # the pytorch_grad_cam class
    uses_gradients: bool
    slow: bool = False  # one forward pass per activation channel (run off the GUI thread)
    notes: str = ""


CAM_METHODS: Registry[CamMethod] = Registry("CAM method")
for _m in (
    CamMethod("gradcam", "Grad-CAM", "GradCAM", True,
              notes="Channel weights = mean gradient of the class score."),
    CamMethod("gradcam++", "Grad-CAM++", "GradCAMPlusPlus", True,
              notes="Higher-order gradient weights; better for several instances."),
    CamMethod("xgradcam", "XGrad-CAM", "XGradCAM", True,
              notes="Gradients weighted by normalised activations (axiom-based)."),
    CamMethod("hirescam", "HiResCAM", "HiResCAM", True,
              notes="Element-wise gradient x activation: faithful to the model's computation."),
    CamMethod("layercam", "LayerCAM", "LayerCAM", True,
              notes="Positive gradients per location; works on shallower layers too."),
    CamMethod("eigencam", "Eigen-CAM", "EigenCAM", False,
              notes="First principal component of the activations; class-agnostic."),
    CamMethod("scorecam", "Score-CAM", "ScoreCAM", False, slow=True,
              notes="Gradient-free: scores the input masked by each channel; slow."),
):
    CAM_METHODS.register(_m.name, _m)

#: a map spanning less than this carries no localisation (Grad-CAM's ReLU zeroed it)
FLAT_SPAN = 0.02


def is_flat(cam: np.ndarray) -> bool:
    """Whether a [0, 1] map shows nothing: no positive evidence for the class at that layer."""
    return float(np.ptp(np.asarray(cam))) < FLAT_SPAN


FLAT_HINT = "no positive evidence at this layer (try LayerCAM or Grad-CAM++)"

COLORMAPS = {"jet": cv2.COLORMAP_JET, "turbo": cv2.COLORMAP_TURBO, "inferno": cv2.COLORMAP_INFERNO,
             "viridis": cv2.COLORMAP_VIRIDIS, "magma": cv2.COLORMAP_MAGMA, "hot": cv2.COLORMAP_HOT}


def compute_cams(model: FerModel, x: torch.Tensor, method: str = "gradcam",
                 targets: Sequence[int] | None = None, layer: str | None = None, *,
                 batch_size: int = 32, progress: ProgressFn | None = None,
                 should_stop: StopFn | None = None) -> np.ndarray:
    """(B, H, W) float32 maps in [0, 1] at the input's resolution.

    x: (B, C, H, W) faces already normalised and resized as the model expects (C = 1 works).
    targets: class index per image; None = each image's predicted class.
    layer: a dotted module name (see `FerModel.named_cam_layers()`); None = the backbone's.
    batch_size: images per CAM pass, and for Score-CAM the masked inputs per forward.
    Between passes `progress(fraction, message)` is called and `should_stop()` can cancel
    (raises `Cancelled`).
    """
    import pytorch_grad_cam
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    spec = CAM_METHODS.get(method)
    if x.ndim != 4:
        raise ValueError(f"compute_cams expects (B, C, H, W) input, got shape {tuple(x.shape)}")
    if targets is not None and len(targets) != len(x):
        raise ValueError(f"{len(targets)} targets for {len(x)} images")
    num_classes = getattr(model, "num_classes", None)
    if targets is not None and num_classes is not None:
        bad = [int(t) for t in targets if not 0 <= int(t) < num_classes]
        if bad:
            raise ValueError(f"target class index {bad[0]} out of range for {num_classes} classes")
    layers = model.cam_target_layers(layer)
    device = next(model.parameters()).device
    chunk = 1 if spec.slow else max(1, int(batch_size))
    out = np.zeros((len(x), x.shape[-2], x.shape[-1]), np.float32)
    params = list(model.parameters())
    saved = [(p.requires_grad, p.grad) for p in params]
    cam = None
    try:
        for p in params:
            p.requires_grad_(False)
        cam = getattr(pytorch_grad_cam, spec.class_name)(
            model=model, target_layers=layers,
            reshape_transform=getattr(model, "cam_reshape_transform", None))
        if spec.slow:
            cam.batch_size = max(1, int(batch_size))
        for start in range(0, len(x), chunk):
            if should_stop is not None and should_stop():
                raise Cancelled(f"{spec.title} cancelled after {start} of {len(x)} images")
            xb = x[start:start + chunk].detach().to(device).float().requires_grad_(spec.uses_gradients)
            tb = None if targets is None else [ClassifierOutputTarget(int(t))
                                               for t in targets[start:start + chunk]]
            with torch.enable_grad():
                maps = cam(input_tensor=xb, targets=tb)
            out[start:start + len(xb)] = np.clip(np.nan_to_num(maps, nan=0.0), 0.0, 1.0)
            cam.outputs = None  # drop the retained graph before the next chunk
            if progress is not None:
                progress(min(1.0, (start + len(xb)) / len(x)), f"{spec.title}: {start + len(xb)}/{len(x)}")
    finally:
        if cam is not None:
            cam.activations_and_grads.release()
            cam.outputs = None
        for p, (req, grad) in zip(params, saved):
            p.requires_grad_(req)
            p.grad = grad
        model.eval()
    return out


def overlay(face: np.ndarray, cam: np.ndarray, alpha: float = 0.5, colormap: str = "jet") -> np.ndarray:
    """Blend a colour-mapped CAM over a face: (H, W) / (H, W, 1|3) uint8 -> (H, W, 3) uint8 RGB.

    The map is resized to the face (bilinear); a grayscale face is expanded to RGB first.
    """
    if colormap not in COLORMAPS:
        raise ValueError(f"unknown colormap {colormap!r}; available: {', '.join(COLORMAPS)}")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    rgb = face_to_rgb(face)
    heat_map = np.clip(np.nan_to_num(np.asarray(cam, np.float32)), 0.0, 1.0)
    if heat_map.ndim != 2:
        raise ValueError(f"cam must be (h, w), got shape {heat_map.shape}")
    if heat_map.shape != rgb.shape[:2]:
        heat_map = cv2.resize(heat_map, (rgb.shape[1], rgb.shape[0]), interpolation=cv2.INTER_LINEAR)
    heat = cv2.applyColorMap(np.uint8(np.round(255 * heat_map)), COLORMAPS[colormap])
    heat = cv2.cvtColor(heat, cv2.COLOR_BGR2RGB)
    blended = (1.0 - alpha) * rgb.astype(np.float32) + alpha * heat.astype(np.float32)
    return np.clip(np.round(blended), 0, 255).astype(np.uint8)


def face_to_rgb(face: np.ndarray) -> np.ndarray:
    """(H, W), (H, W, 1) or (H, W, 3) uint8 -> (H, W, 3) uint8."""
    face = np.asarray(face)
    if face.dtype != np.uint8:
        raise ValueError(f"face must be uint8, got {face.dtype}")
    if face.ndim == 2:
        face = face[:, :, None]
    if face.ndim != 3 or face.shape[2] not in (1, 3):
        raise ValueError(f"face must be (H, W), (H, W, 1) or (H, W, 3), got shape {face.shape}")
    return np.repeat(face, 3, axis=2) if face.shape[2] == 1 else face
