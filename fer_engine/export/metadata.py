"""What an exported model carries about itself, and the figures that go into it (torch-free).

The exported graph takes uint8 faces (B, S, S, C) in the stored format of the run: the face
box widened by `face_margin` per side into a square crop, converted like the training data
(`fer_engine.data.images.decode_image`: Pillow, whole crop resized bicubic to S x S, gray as
ITU-R 601-2 luma). Everything after that (scale to [0, 1], resize to the model's input size,
mean/std, softmax, the ensemble mean) is inside the graph; its output is (B, K) probabilities.
"""
from __future__ import annotations

import hashlib
import json
import math
import warnings
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from ..training.run_files import Preprocess

#: Key of the JSON blob in ONNX metadata props / TorchScript extra files / the sidecar.
METADATA_KEY = "fer_studio"
FORMAT_VERSION = 1
#: The face-crop margin the live pipeline uses (`LivePipeline(margin=...)`'s default).
DEFAULT_FACE_MARGIN = 0.1


class ExportError(ValueError):
    """An export that cannot be made or a file that is not a fer-studio export; one line."""


def accuracy_with_interval(correct: int, n: int) -> dict[str, float | str]:
    from ..scoring.stats import accuracy_interval

    iv = accuracy_interval(correct, n)
    low, high = iv.low, iv.high
    return {"accuracy": correct / n if n else math.nan, "low": low, "high": high, "n": int(n),
            "interval": "wilson 95%"}


def config_hash(config_json: str) -> str:
    """sha256 of the run config with sorted keys (two equal configs hash alike)."""
    canonical = json.dumps(json.loads(config_json), sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass
class MemberInfo:
    """One model inside the graph and the preprocessing the graph applies for it."""

    run_id: str
    backbone: str
    channels: int  # the channels this member was trained on (gray is computed in-graph)
    input_size: int  # the model's input size (the graph resizes S -> input_size)
    mean: list[float]
    std: list[float]


@dataclass
class ExportMetadata:
    """Everything a script, a phone or a web page needs to run the file like fer-studio."""

    class_names: list[str]  # output order
    image_size: int  # S of the uint8 input (B, S, S, C)
    channels: int  # C of the input: 1 gray, 3 RGB
    members: list[MemberInfo]
    kind: str = "run"  # "run" or "ensemble" (probabilities averaged)
    face_margin: float = DEFAULT_FACE_MARGIN
    dataset: dict[str, Any] = field(default_factory=dict)  # path, layout, split sizes
    test_accuracy: dict[str, Any] = field(default_factory=dict)  # accuracy_with_interval (+ "tta")
    config_hash: str = ""
    precision: str = "float32"  # float32, float16, int8
    format: str = "onnx"
    opset: int = 0
    dynamic_batch: bool = False
    self_check: dict[str, Any] = field(default_factory=dict)  # faces, max_abs_diff, label_agreement
    int8: dict[str, Any] = field(default_factory=dict)  # mode, accuracy before/after on the test split
    source: str = ""  # the run or ensemble directory it came from
    created: str = ""
    input: str = "uint8 (B, S, S, C) faces: square crop with face_margin per side, Pillow bicubic resize"
    output: str = "float32 (B, K) probabilities in class_names order"
    version: int = FORMAT_VERSION

    @property
    def mean(self) -> list[float]:
        return self.members[0].mean

    @property
    def std(self) -> list[float]:
        return self.members[0].std

    @property
    def input_size(self) -> int:
        return self.members[0].input_size

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str, where: str = "model") -> "ExportMetadata":
        try:
            d = json.loads(text)
            if not isinstance(d, dict):
                raise TypeError("not an object")
            known = {f.name for f in fields(cls)}
            d = {k: v for k, v in d.items() if k in known}
            d["members"] = [MemberInfo(**m) for m in d.get("members", [])]
            meta = cls(**d)
        except (TypeError, ValueError) as e:
            raise ExportError(f"{where}: unreadable fer-studio metadata ({e})") from None
        if meta.version > FORMAT_VERSION:
            raise ExportError(f"{where} was exported by a newer fer-studio (metadata version {meta.version})")
        if not meta.class_names or meta.channels not in (1, 3) or meta.image_size < 1 or not meta.members:
            raise ExportError(f"{where}: metadata lacks class names, input format or members")
        return meta

    def preprocess(self) -> Preprocess:
        """The run's `Preprocess` (what `live.classify.input_format` reads)."""
        return Preprocess(class_names=list(self.class_names), image_size=self.image_size,
                          channels=self.channels, input_size=self.input_size, mean=self.mean, std=self.std)


# -- reading it back from an exported file -------------------------------------------------------
def read_onnx_metadata(path: str | Path, session=None) -> ExportMetadata:
    """The metadata of an .onnx file, read through onnxruntime (no onnx package needed);
    pass an open `session` of that file to avoid loading it twice."""
    import onnxruntime as ort

    path = Path(path)
    if not path.is_file():
        raise ExportError(f"model file not found: {path}")
    try:
        session = session or ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        props = session.get_modelmeta().custom_metadata_map
    except Exception as e:  # noqa: BLE001 - onnxruntime's exception types derive straight from Exception
        raise ExportError(f"not a readable ONNX model: {path} ({str(e).splitlines()[0]})") from None
    if METADATA_KEY not in props:
        raise ExportError(f"{path} is an ONNX model but not a fer-studio export (no {METADATA_KEY!r} metadata)")
    return ExportMetadata.from_json(props[METADATA_KEY], str(path))


def sidecar_path(path: str | Path) -> Path:
    """model.pt -> model.json: the metadata beside a TorchScript file."""
    return Path(path).with_suffix(".json")


def read_torchscript_metadata(path: str | Path) -> ExportMetadata:
    """The metadata inside a TorchScript export (the sidecar JSON when the file lacks it)."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise ExportError(f"model file not found: {path}")
    extra = {f"{METADATA_KEY}.json": ""}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            torch.jit.load(str(path), map_location="cpu", _extra_files=extra)
    except RuntimeError as e:  # torch's reader fails on foreign files with RuntimeError
        raise ExportError(f"not a TorchScript model: {path} ({str(e).splitlines()[0]})") from None
    text = extra[f"{METADATA_KEY}.json"]
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    if not text and sidecar_path(path).is_file():
        text = sidecar_path(path).read_text(encoding="utf-8")
    if not text:
        raise ExportError(f"{path} is TorchScript but not a fer-studio export "
                          f"(no metadata, no {sidecar_path(path).name})")
    return ExportMetadata.from_json(text, str(path))
