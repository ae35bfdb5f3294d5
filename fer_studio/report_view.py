"""What the set-up page shows of a `DatasetReport`: plain lists the widgets take as is.

Built on the background thread together with the sample thumbnails, so the GUI thread
only copies finished values into widgets.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

SAMPLES_PER_CLASS = 8


@dataclass
class ReportView:
    path: str
    class_names: list[str]
    counts: dict[str, list[int]]  # split -> count per class (class_names order)
    summary: list[tuple[str, str]]  # (label, text) rows
    warnings: list[tuple[str, str, list[tuple]]]  # (title, severity, [(text, detail, files)])
    samples: dict[str, list[tuple[np.ndarray, str]]] = field(default_factory=dict)
    train_count: int = 0
    raw: dict[str, Any] = field(default_factory=dict)  # the report's to_dict()


def build_report_view(path: str, report: Any, samples: bool = True, image_size: int = 48,
                      channels: int = 1, should_stop=lambda: False) -> ReportView:
    """Turn a `DatasetReport` into a ReportView (sample thumbnails decoded when asked)."""
    d = report.to_dict() if hasattr(report, "to_dict") else dict(report)
    class_names = list(d.get("class_names", []))
    counts = {split: [int(per_class.get(c, 0)) for c in class_names]
              for split, per_class in d.get("counts", {}).items()}
    view = ReportView(path=path, class_names=class_names, counts=counts,
                      summary=_summary_rows(d, counts), warnings=_warning_rows(d, _root(path, d)),
                      train_count=sum(counts.get("train", [])), raw=d)
    if samples:
        view.samples = _decode_samples(path, d.get("samples", {}), image_size, channels, should_stop)
    return view


def _fmt_list(values) -> str:
    return ", ".join(f"{v:.3f}" if isinstance(v, float) else str(v) for v in values)


def _summary_rows(d: dict[str, Any], counts: dict[str, list[int]]) -> list[tuple[str, str]]:
    rows = [("Source", str(d.get("path", ""))), ("Layout", str(d.get("layout", "")))]
    rows.append(("Images", " · ".join(f"{s} {sum(v):,}" for s, v in counts.items())
                 + f" (total {sum(sum(v) for v in counts.values()):,})"))
    imb = d.get("imbalance")
    if imb:
        rows.append(("Imbalance", _imbalance_text(imb)))
    if "mean" in d and "std" in d:
        rows.append(("Pixel mean / std", f"{_fmt_list(_as_list(d['mean']))} / {_fmt_list(_as_list(d['std']))}"))
    for key, title in (("sizes", "Image sizes"), ("modes", "Colour modes")):
        if d.get(key):
            rows.append((title, _counter_text(d[key])))
    if d.get("label_map"):
        rows.append(("Label map", "; ".join(d["label_map"])))
    if d.get("subjects"):
        rows.append(("Subjects", f"{d['subjects']:,}"))
    for note in d.get("notes", []):
        rows.append(("Note", str(note)))
    return rows


def _as_list(v) -> list:
    return list(v) if isinstance(v, (list, tuple)) else [v]


def _imbalance_text(imb: Any) -> str:
    if isinstance(imb, dict):
        ratio = imb.get("ratio")
        if ratio is None and imb.get("smallest"):
            return f"∞: {imb['smallest']} has no training images (largest {imb.get('largest')})"
        if isinstance(ratio, (int, float)) and ratio < 1.05:
            return f"balanced (largest/smallest class = {ratio:.1f}×)"
        parts = [f"largest/smallest class = {ratio:.1f}×" if isinstance(ratio, (int, float)) else ""]
        if imb.get("largest"):
            parts.append(f"largest {imb['largest']}")
        if imb.get("smallest"):
            parts.append(f"smallest {imb['smallest']}")
        return ", ".join(p for p in parts if p)
    return f"largest/smallest class = {float(imb):.1f}×"


def _counter_text(c: Any, top: int = 4) -> str:
    if isinstance(c, dict):
        items = sorted(c.items(), key=lambda kv: -kv[1])
        text = ", ".join(f"{k}: {v:,}" for k, v in items[:top])
        return text + (f", … ({len(items)} kinds)" if len(items) > top else "")
    return str(c)


#: report key -> (title, severity)
WARNING_KINDS = {
    "unreadable": ("Unreadable files", "error"),
    "conflicting_labels": ("Identical images with different labels", "error"),
    "duplicates_across_splits": ("Identical images in more than one split (leakage)", "warning"),
    "duplicates_within_splits": ("Identical images within a split", "info"),
    "near_blank": ("Near-blank images", "warning"),
    "near_duplicates_across_splits": ("Near-duplicates in more than one split (perceptual hash; leakage)", "warning"),
    "near_duplicates_within_splits": ("Near-duplicates within a split (perceptual hash)", "info"),
}


def _root(path: str, d: dict[str, Any]) -> str:
    """The folder warning paths are shown relative to (a CSV's folder; "" for the demo set)."""
    root = str(d.get("path") or path)
    if root == "demo" or not root:
        return ""
    p = Path(root)
    return str(p.parent if p.suffix.lower() == ".csv" else p)


def _rel(file: str, root: str) -> str:
    if root and file.startswith(root.rstrip("/") + "/"):
        return file[len(root.rstrip("/")) + 1:]
    return file


def _warning_rows(d: dict[str, Any], root: str = "") -> list[tuple[str, str, list[tuple[str, str, list[str]]]]]:
    """(title, severity, entries); an entry is (text, detail, its files as full paths), text relative
    to the dataset folder."""
    out = []
    for key, (title, severity) in WARNING_KINDS.items():
        out.append((title, severity, [_file_row(x, root) for x in d.get(key, [])]))
    return out


def _file_row(x: Any, root: str = "") -> tuple[str, str, list[str]]:
    if isinstance(x, dict):
        files = x.get("files") or x.get("paths")
        if files:
            files = [str(f) for f in files]
            return (", ".join(_rel(f, root) for f in files), str(x.get("detail", x.get("labels", ""))), files)
        file = str(x.get("path", x))
        return _rel(file, root), str(x.get("detail", x.get("error", x.get("reason", "")))), [file]
    if isinstance(x, (list, tuple)):
        files = [str(f) for f in x]
        return ", ".join(_rel(f, root) for f in files), "", files
    return _rel(str(x), root), "", [str(x)]


def _decode_samples(path: str, samples: dict[str, list[str]], size: int, channels: int,
                    should_stop) -> dict[str, list[tuple[np.ndarray, str]]]:
    """Faces exactly as training sees them: files through `decode_image`; CSV rows
    ("file.csv#row") from the dataset's cached arrays."""
    from fer_engine.data import decode_image

    wanted = {name: list(sources)[:SAMPLES_PER_CLASS] for name, sources in samples.items()}
    arrays = None
    if any("#" in str(s) for sources in wanted.values() for s in sources):
        from fer_engine.config import DataConfig
        from fer_engine.data import load_dataset

        arrays = load_dataset(DataConfig(path=path, image_size=size, channels=channels),
                              should_stop=should_stop)
    index = {src: i for i, src in enumerate(arrays.sources)} if arrays is not None else {}
    out: dict[str, list[tuple[np.ndarray, str]]] = {}
    for name, sources in wanted.items():
        faces = []
        for src in sources:
            if should_stop():
                return out
            try:
                face = arrays.images[index[src]] if src in index else decode_image(src, size, channels)
            except Exception:  # noqa: BLE001 - an unreadable sample is already in the warnings
                continue
            faces.append((face, str(src)))
        out[name] = faces
    return out
