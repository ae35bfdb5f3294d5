"""`fer-studio list-backbones [--classes K] [--channels C] [--json]`: the backbone registry."""
from __future__ import annotations

import argparse
import json

NAME = "list-backbones"
HELP = "List the backbones a run can use: family, default input size, parameters, Grad-CAM layer."


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--classes", type=int, default=7, help="classes of the head, for the parameter count (default 7)")
    p.add_argument("--channels", type=int, choices=(1, 3), default=None,
                   help="input channels for the parameter count (default: each backbone's recommended)")
    p.add_argument("--json", action="store_true", help="print the table as JSON")


def backbone_rows(num_classes: int = 7, in_chans: int | None = None) -> list[dict]:
    """One plain dict per registered backbone (what the table and --json show)."""
    from ...models import BACKBONES

    rows = []
    for name, spec in BACKBONES.items():
        chans = in_chans or spec.channels
        rows.append({
            "name": name, "title": spec.title, "family": spec.family,
            "input_size": spec.default_input_size, "channels": spec.channels,
            "params_m": round(spec.param_count(num_classes, chans) / 1e6, 2),
            "pretrained": spec.supports_pretrained, "cam_layer": spec.cam_layer,
            "mean": list(spec.mean) if spec.mean else None,
            "std": list(spec.std) if spec.std else None, "notes": spec.notes,
        })
    return rows


def run(args: argparse.Namespace) -> int:
    if args.classes < 1:
        raise ValueError(f"--classes must be at least 1, got {args.classes}")
    rows = backbone_rows(args.classes, args.channels)
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    cols = [("name", "name"), ("family", "family"), ("input_size", "input"),
            ("params_m", "params (M)"), ("pretrained", "pretrained"), ("cam_layer", "Grad-CAM layer")]
    cells = [[h for _, h in cols]] + [[_fmt(r[k]) for k, _ in cols] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(cols))]
    for row in cells:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    return 0


def _fmt(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)
