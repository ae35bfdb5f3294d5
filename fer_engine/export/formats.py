"""The export formats: a registry of name, file suffix, exporter, loader and metadata I/O.

An exporter writes the graph (`graph.ExportGraph`, uint8 faces in, probabilities out) to a
file; torch is imported only when exporting, so loading an ONNX file stays torch-free.
"""
from __future__ import annotations

import contextlib
import io
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..registry import Registry
from .metadata import (METADATA_KEY, ExportError, ExportMetadata, read_onnx_metadata,
                       read_torchscript_metadata, sidecar_path)


@dataclass(frozen=True)
class ExportOptions:
    opset: int = 17
    dynamic_batch: bool = False
    half: bool = False
    int8: str = ""  # "" (off), "static" (calibrated on training faces) or "dynamic"


@dataclass(frozen=True)
class ExportFormat:
    name: str
    title: str
    suffix: str
    export: Callable[[Any, Path, ExportOptions, str], None]  # (graph, path, options, what) -> file
    load: Callable[..., Any]  # (path, device) -> predictor
    write_metadata: Callable[[Path, ExportMetadata], None]
    read_metadata: Callable[[Path], ExportMetadata]
    options: frozenset[str]  # the ExportOptions it honours beyond the defaults
    sidecars: Callable[[Path], list[Path]] = lambda path: []  # files written beside the model


EXPORTS: Registry[ExportFormat] = Registry("export format")


def format_for_file(path: str | Path) -> ExportFormat | None:
    """The format whose suffix the file has (None: not an exported model)."""
    suffix = Path(path).suffix.lower()
    return next((f for _, f in EXPORTS.items() if f.suffix == suffix), None)


def _unsupported_op(message: str) -> str:
    m = re.search(r"operator '?([\w:.]+)'?", message) or re.search(r"(aten::\w+|prim::\w+)", message)
    return m.group(1) if m else ""


def _example(meta_size: int, channels: int, batch: int = 1):
    import torch

    return torch.zeros(batch, meta_size, meta_size, channels, dtype=torch.uint8)


# -- ONNX -------------------------------------------------------------------------------------
def export_onnx(graph, path: Path, options: ExportOptions, what: str) -> None:
    import torch

    size, channels = graph.image_size, graph.channels
    dynamic = {"faces": {0: "batch"}, "probs": {0: "batch"}} if options.dynamic_batch else None
    try:
        quiet = io.StringIO()  # the exporter prints its TorchScript graph when it fails
        with warnings.catch_warnings(), torch.no_grad(), contextlib.redirect_stdout(quiet), \
                contextlib.redirect_stderr(quiet):
            warnings.simplefilter("ignore")
            torch.onnx.export(graph, (_example(size, channels),), str(path), dynamo=False,
                              opset_version=options.opset, input_names=["faces"], output_names=["probs"],
                              dynamic_axes=dynamic, do_constant_folding=True)
    except Exception as e:  # noqa: BLE001 - the exporter raises many unrelated types; name the operator when it does
        text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        op = _unsupported_op(str(e))
        detail = f"operator {op} is not supported" if op else text
        raise ExportError(f"{what} does not export to ONNX (opset {options.opset}): {detail}") from None


def write_onnx_metadata(path: Path, meta: ExportMetadata) -> None:
    import onnx

    model = onnx.load(str(path))
    keep = [p for p in model.metadata_props if p.key not in (METADATA_KEY, "class_names")]
    del model.metadata_props[:]
    model.metadata_props.extend(keep)
    for key, value in ((METADATA_KEY, meta.to_json()), ("class_names", ",".join(meta.class_names))):
        prop = model.metadata_props.add()
        prop.key, prop.value = key, value
    model.doc_string = f"fer-studio export: {meta.input} -> {meta.output}"
    onnx.save(model, str(path))


def load_onnx(path: str | Path, device: str = "auto"):
    from .runtime import OnnxPredictor

    return OnnxPredictor(path, device)


# -- TorchScript -------------------------------------------------------------------------------
def export_torchscript(graph, path: Path, options: ExportOptions, what: str) -> None:
    import torch

    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            traced = torch.jit.trace(graph, (_example(graph.image_size, graph.channels, 2),), check_trace=False)
            traced = torch.jit.freeze(traced.eval())
            torch.jit.save(traced, str(path))
    except Exception as e:  # noqa: BLE001 - tracing runs the model's own code, which may raise anything
        text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ExportError(f"{what} does not export to TorchScript: {text}") from None


def write_torchscript_metadata(path: Path, meta: ExportMetadata) -> None:
    import torch

    from ..utils.atomic import atomic_write_text

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        module = torch.jit.load(str(path))
        torch.jit.save(module, str(path), _extra_files={f"{METADATA_KEY}.json": meta.to_json()})
    atomic_write_text(sidecar_path(path), meta.to_json() + "\n")


def load_torchscript(path: str | Path, device: str = "auto"):
    from .runtime import TorchScriptPredictor

    return TorchScriptPredictor(path, device)


EXPORTS.register("onnx", ExportFormat(
    "onnx", "ONNX (onnxruntime, web, mobile)", ".onnx", export_onnx, load_onnx, write_onnx_metadata,
    read_onnx_metadata, frozenset({"opset", "dynamic_batch", "half", "int8"})))
EXPORTS.register("torchscript", ExportFormat(
    "torchscript", "TorchScript (PyTorch without fer-studio)", ".pt", export_torchscript, load_torchscript,
    write_torchscript_metadata, read_torchscript_metadata, frozenset({"dynamic_batch"}),
    lambda path: [sidecar_path(path)]))
