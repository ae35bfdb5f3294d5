"""`fer-studio export RUN_OR_ENSEMBLE --format onnx|torchscript --out FILE`: one portable, checked file."""
from __future__ import annotations

import argparse
import sys

from .. import CliError

NAME = "export"
HELP = ("Export a run or ensemble as one ONNX or TorchScript file with its preprocessing and metadata, "
        "checked against the PyTorch model, with MODEL_CARD.md beside it.")


def add_arguments(p: argparse.ArgumentParser) -> None:
    from ...export.formats import EXPORTS
    from ...export.quantize import INT8_MODES

    p.add_argument("run_dir", metavar="RUN_OR_ENSEMBLE", help="a finished run or ensemble directory")
    p.add_argument("--format", dest="fmt", choices=EXPORTS.names(), default="onnx", help="file format (default onnx)")
    p.add_argument("--out", required=True, metavar="FILE", help="the file to write (.onnx or .pt)")
    p.add_argument("--opset", type=int, default=17, metavar="N", help="ONNX opset (default 17)")
    p.add_argument("--dynamic-batch", action="store_true", help="any batch size (default: batch size 1)")
    p.add_argument("--half", action="store_true", help="ONNX: float16 weights and activations")
    p.add_argument("--int8", nargs="?", const="static", default="", choices=INT8_MODES,
                   help="ONNX: int8 quantisation, static (calibrated on training faces, default) or dynamic; "
                        "prints the accuracy change on the test split")
    p.add_argument("--no-card", action="store_true", help="do not write MODEL_CARD.md beside the file")


def run(args: argparse.Namespace) -> int:
    from ...export.build import export_model
    from ...export.formats import ExportOptions

    if not 7 <= args.opset <= 21:
        raise CliError(f"--opset must be between 7 and 21, got {args.opset}")
    last = [""]

    def progress(fraction: float, detail: str) -> None:
        if detail != last[0]:
            last[0] = detail
            print(f"[{fraction:4.0%}] {detail}", file=sys.stderr)

    options = ExportOptions(opset=args.opset, dynamic_batch=args.dynamic_batch, half=args.half, int8=args.int8)
    result = export_model(args.run_dir, args.out, args.fmt, options, card=not args.no_card, progress=progress)
    for line in result.lines():
        print(line)
    return 0
