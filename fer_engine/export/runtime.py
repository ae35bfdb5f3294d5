"""Exported models as predictors: `predict_faces(faces) -> probabilities`, like a run's.

`OnnxPredictor` needs numpy, Pillow (the face conversion), OpenCV and onnxruntime only --
no torch -- so the small `inference` extra runs it. Faces of any size are converted to the
stored format by `data.images.to_stored_format` (the training conversion); the rest of the
preprocessing is inside the graph. A graph exported without a dynamic batch takes its fixed
batch size; faces are then fed in chunks of that size.
"""
from __future__ import annotations

import warnings
from abc import ABC, abstractmethod
from pathlib import Path

import numpy as np

from ..data.images import to_stored_format
from .metadata import ExportError, ExportMetadata, read_onnx_metadata, read_torchscript_metadata


class ExportedPredictor(ABC):
    """Common part: metadata, class names, the run's `Preprocess`, face conversion."""

    def __init__(self, path: str | Path, meta: ExportMetadata):
        self.path = Path(path)
        self.meta = meta
        self.class_names: list[str] = list(meta.class_names)
        self.preprocess = meta.preprocess()

    def predict_faces(self, faces: np.ndarray) -> np.ndarray:
        """uint8 faces (B, H, W[, C]) of any size -> (B, K) float32 probabilities."""
        if len(faces) == 0:
            return np.zeros((0, len(self.class_names)), np.float32)
        return self.predict_stored(to_stored_format(faces, self.meta.image_size, self.meta.channels))

    @abstractmethod
    def predict_stored(self, stored: np.ndarray) -> np.ndarray:
        """(B, S, S, C) uint8 faces already in the stored format -> (B, K) probabilities."""


def onnx_providers(device: str = "auto") -> list[str]:
    """onnxruntime providers for "auto" (CUDA when onnxruntime has it), "cpu" or "cuda[:n]"."""
    import onnxruntime as ort

    available = ort.get_available_providers()
    if device == "cpu":
        return ["CPUExecutionProvider"]
    if device.startswith("cuda"):
        if "CUDAExecutionProvider" not in available:
            raise ExportError("onnxruntime here has no CUDA provider (install onnxruntime-gpu) -- use --device cpu")
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    if device != "auto":
        raise ExportError(f"device must be auto, cpu or cuda[:n], got {device!r}")
    return [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in available]


class OnnxPredictor(ExportedPredictor):
    """An exported .onnx file run by onnxruntime (CPU, or CUDA when asked and available)."""

    def __init__(self, path: str | Path, device: str = "auto", threads: int = 0):
        try:
            import onnxruntime as ort
        except ImportError:
            raise ExportError("running an .onnx model needs onnxruntime (pip install onnxruntime)") from None
        path = Path(path)
        if not path.is_file():
            raise ExportError(f"model file not found: {path}")
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
        # no busy-waiting between ops: on a shared CPU (or beside the GUI) spinning threads
        # steal the cores the next op needs
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        providers = onnx_providers(device)
        try:
            self.session = ort.InferenceSession(str(path), opts, providers=providers)
        except Exception as e:  # noqa: BLE001 - onnxruntime's exception types derive straight from Exception
            raise ExportError(f"not a readable ONNX model: {path} ({str(e).splitlines()[0]})") from None
        super().__init__(path, read_onnx_metadata(path, self.session))
        inp = self.session.get_inputs()[0]
        self.input_name = inp.name
        self.batch = inp.shape[0] if isinstance(inp.shape[0], int) else 0  # 0 = any batch size
        self.device = "cuda" if "CUDAExecutionProvider" in self.session.get_providers() else "cpu"

    def predict_stored(self, stored: np.ndarray) -> np.ndarray:
        """(B, S, S, C) uint8 faces already in the stored format -> (B, K) probabilities."""
        stored = np.ascontiguousarray(stored, np.uint8)
        if not self.batch:
            return self.session.run(None, {self.input_name: stored})[0].astype(np.float32)
        out = []
        for start in range(0, len(stored), self.batch):
            chunk = stored[start:start + self.batch]
            pad = self.batch - len(chunk)
            if pad:
                chunk = np.concatenate([chunk, np.repeat(chunk[-1:], pad, axis=0)])
            out.append(self.session.run(None, {self.input_name: chunk})[0][:self.batch - pad])
        return np.concatenate(out).astype(np.float32)


class TorchScriptPredictor(ExportedPredictor):
    """An exported TorchScript file (needs torch; the metadata is inside and in the sidecar)."""

    def __init__(self, path: str | Path, device: str = "auto"):
        import torch

        from ..eval.store import resolve_device

        super().__init__(path, read_torchscript_metadata(path))
        self.device = torch.device(resolve_device(device))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)  # TorchScript is deprecated upstream, still supported
                self.module = torch.jit.load(str(self.path), map_location=self.device).eval()
        except RuntimeError as e:  # torch's reader fails on foreign files with RuntimeError
            raise ExportError(f"cannot load TorchScript {self.path}: {str(e).splitlines()[0]}") from None

    def predict_stored(self, stored: np.ndarray) -> np.ndarray:
        import torch

        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(stored, np.uint8)).to(self.device)
            return self.module(x).float().cpu().numpy()
