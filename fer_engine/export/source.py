"""One way to open what classifies faces: a run, an ensemble, or an exported model file.

`open_model(path, device)` returns an object with `class_names`, `preprocess` (or
`members`) and `predict_faces(faces) -> probabilities`, the interface `live.FaceClassifier`
takes. An exported file is opened by its format's loader (`formats.EXPORTS`, by suffix);
an .onnx file imports no torch.
"""
from __future__ import annotations

from pathlib import Path

from .metadata import ExportError


def is_exported_model(path: str | Path) -> bool:
    from .formats import format_for_file

    p = Path(path)
    return p.is_file() and format_for_file(p) is not None


def open_model(path: str | Path, device: str = "auto"):
    """A run or ensemble directory (PyTorch) or an exported model file (its format's loader)."""
    from .formats import format_for_file

    p = Path(getattr(path, "path", path))
    if p.is_file():
        fmt = format_for_file(p)
        if fmt is None:
            raise ExportError(f"not a run, an ensemble or an exported model (.onnx, .pt): {p}")
        return fmt.load(p, device)
    if not p.exists():
        raise FileNotFoundError(f"no run, ensemble or model file at {p}")
    from ..eval.predictor import load_predictor

    return load_predictor(p, device)


def face_margin(predictor, default: float = 0.1) -> float:
    """The face-crop margin an exported model was made for (a run's is the live default)."""
    meta = getattr(predictor, "meta", None)
    return float(meta.face_margin) if meta is not None else default
