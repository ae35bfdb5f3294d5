"""What the set-up page shows of a `DatasetReport`: plain lists the widgets take as is.

Built on the background thread together with the sample thumbnails, so the GUI thread
only copies finished values into widgets.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from fer_engine.data.report import DatasetReport, Finding

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
    split_rule: str = ""  # how the layout's splits are completed (the report's split_rule)


def build_report_view(path: str, report: DatasetReport, samples: bool = True, image_size: int = 48,
                      channels: int = 1, should_stop=lambda: False) -> ReportView:
    """Turn a `DatasetReport` into a ReportView (sample thumbnails decoded when asked)."""
    class_names = list(report.class_names)
    counts = {split: [int(per_class.get(c, 0)) for c in class_names] for split, per_class in report.counts.items()}
    view = ReportView(path=path, class_names=class_names, counts=counts, summary=_summary_rows(report, counts),
                      warnings=_warning_rows(report.findings(), _root(path, report.path)),
                      train_count=sum(counts.get("train", [])), split_rule=report.split_rule)
    if samples:
        view.samples = _decode_samples(path, report.samples, image_size, channels, should_stop)
    return view


def _fmt_list(values: list[float]) -> str:
    return ", ".join(f"{v:.3f}" for v in values)


def _summary_rows(report: DatasetReport, counts: dict[str, list[int]]) -> list[tuple[str, str]]:
    stats = report.train_pixel_stats
    rows = [("Source", report.path), ("Layout", report.layout),
            ("Images", " · ".join(f"{s} {sum(v):,}" for s, v in counts.items())
             + f" (total {sum(sum(v) for v in counts.values()):,})"),
            ("Imbalance", _imbalance_text(report.imbalance)),
            ("Pixel mean / std", f"{_fmt_list(stats.get('mean', []))} / {_fmt_list(stats.get('std', []))}")]
    for counter, title in ((report.sizes, "Image sizes"), (report.modes, "Colour modes")):
        if counter:
            rows.append((title, _counter_text(counter)))
    if report.label_map:
        rows.append(("Label map", "; ".join(report.label_map)))
    if report.subjects:
        rows.append(("Subjects", f"{report.subjects:,}"))
    rows += [("Note", str(note)) for note in report.notes]
    return rows


def _imbalance_text(imb: dict[str, Any]) -> str:
    """`DatasetReport.imbalance` ({ratio, largest, smallest}) as one line."""
    ratio = imb["ratio"]
    if ratio is None and imb["smallest"]:
        return f"∞: {imb['smallest']} has no training images (largest {imb['largest']})"
    if ratio is not None and ratio < 1.05:
        return f"balanced (largest/smallest class = {ratio:.1f}×)"
    parts = [f"largest/smallest class = {ratio:.1f}×" if ratio is not None else ""]
    if imb["largest"]:
        parts.append(f"largest {imb['largest']}")
    if imb["smallest"]:
        parts.append(f"smallest {imb['smallest']}")
    return ", ".join(p for p in parts if p)


def _counter_text(c: dict[str, int], top: int = 4) -> str:
    items = sorted(c.items(), key=lambda kv: -kv[1])
    text = ", ".join(f"{k}: {v:,}" for k, v in items[:top])
    return text + (f", … ({len(items)} kinds)" if len(items) > top else "")


#: `DatasetReport.findings()` kind -> (title, severity)
WARNING_KINDS = {
    "unreadable": ("Unreadable files", "error"),
    "conflicting_labels": ("Identical images with different labels", "error"),
    "duplicates_across_splits": ("Identical images in more than one split (leakage)", "warning"),
    "duplicates_within_splits": ("Identical images within a split", "info"),
    "near_blank": ("Near-blank images", "warning"),
    "near_duplicates_across_splits": ("Near-duplicates in more than one split (perceptual hash; leakage)", "warning"),
    "near_duplicates_within_splits": ("Near-duplicates within a split (perceptual hash)", "info"),
}


def _root(path: str, source: str) -> str:
    """The folder warning paths are shown relative to (a CSV's folder; "" for the demo set)."""
    root = source or path
    if root == "demo" or not root:
        return ""
    p = Path(root)
    return str(p.parent if p.suffix.lower() == ".csv" else p)


def _rel(file: str, root: str) -> str:
    if root and file.startswith(root.rstrip("/") + "/"):
        return file[len(root.rstrip("/")) + 1:]
    return file


def _warning_rows(findings: dict[str, list[Finding]],
                  root: str = "") -> list[tuple[str, str, list[tuple[str, str, list[str]]]]]:
    """(title, severity, entries); an entry is (text, detail, its files as full paths), text relative
    to the dataset folder."""
    return [(title, severity, [(", ".join(_rel(f, root) for f in x.files), x.detail, list(x.files))
                               for x in findings.get(kind, [])])
            for kind, (title, severity) in WARNING_KINDS.items()]


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
