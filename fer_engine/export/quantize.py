"""float16 and int8 versions of an exported ONNX graph, with onnxruntime's own tools.

int8 "static" calibrates activations on training faces (QDQ, per-channel weights: the usual
choice for CNNs on CPU); "dynamic" quantises weights only and needs no data.
"""
from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Iterator

import numpy as np

from .metadata import ExportError

INT8_MODES = ("static", "dynamic")


def to_float16(src: Path, dst: Path) -> None:
    """Weights and activations in float16; the uint8 input and float32 output stay."""
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16

    model = convert_float_to_float16(onnx.load(str(src)), keep_io_types=True)
    onnx.save(model, str(dst))


class _FacesReader:
    """onnxruntime's CalibrationDataReader protocol over uint8 faces, a batch at a time."""

    def __init__(self, input_name: str, faces: np.ndarray, batch: int):
        self._feeds = [{input_name: faces[i:i + batch]} for i in range(0, len(faces) - batch + 1, batch)]
        self._next = 0

    def get_next(self):
        if self._next >= len(self._feeds):
            return None
        self._next += 1
        return self._feeds[self._next - 1]

    def rewind(self) -> None:  # called by newer onnxruntime versions between calibration passes
        self._next = 0


@contextlib.contextmanager
def _quiet_quantizer() -> Iterator[None]:
    """onnxruntime's quantiser logs advice and per-tensor notes as root warnings; the export
    reports what matters (the difference and the accuracy change) itself."""
    root = logging.getLogger()
    only_errors = logging.Filter()
    only_errors.filter = lambda record: record.levelno >= logging.ERROR  # type: ignore[method-assign]
    root.addFilter(only_errors)
    try:
        yield
    finally:
        root.removeFilter(only_errors)


def to_int8(src: Path, dst: Path, mode: str, calibration_faces: np.ndarray | None = None,
            batch: int = 1) -> None:
    """Quantise `src` into `dst` ("static" needs `calibration_faces`, uint8 stored format)."""
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_dynamic, quantize_static

    if mode not in INT8_MODES:
        raise ExportError(f"int8 mode must be one of {', '.join(INT8_MODES)}, got {mode!r}")
    if mode == "dynamic":
        with _quiet_quantizer():
            quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8)
        return
    if calibration_faces is None or len(calibration_faces) < batch:
        raise ExportError("static int8 quantisation needs calibration faces (the run's training split)")
    import onnx

    input_name = onnx.load(str(src), load_external_data=False).graph.input[0].name
    with _quiet_quantizer():
        quantize_static(str(src), str(dst), _FacesReader(input_name, calibration_faces, batch),
                        quant_format=QuantFormat.QDQ, per_channel=True, activation_type=QuantType.QUInt8,
                        weight_type=QuantType.QInt8)
