"""Plain-text reports of a `metrics.summary` dict (what `fer-studio evaluate` prints)."""
from __future__ import annotations

from typing import Any, Sequence


def format_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Right-aligned columns, first column left-aligned."""
    cells = [list(map(str, header))] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = []
    for r in cells:
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
    return "\n".join(lines)


def format_confusion(cm: Sequence[Sequence[int]], class_names: Sequence[str],
                     present: Sequence[str]) -> str:
    """Counts with class names; rows only for classes present in the data."""
    rows = [[f"{name}"] + list(cm[i]) for i, name in enumerate(class_names) if name in present]
    return format_table(["true \\ pred"] + list(class_names), rows)


def _with_interval(h: dict[str, Any]) -> str:
    """An accuracy with its 95% interval: `0.6410 [0.6250, 0.6564]`."""
    lo, hi = h.get("accuracy_ci95", (None, None))
    return f"{h['accuracy']:.4f}" + (f" [{lo:.4f}, {hi:.4f}]" if lo is not None else "")


def format_summary(s: dict[str, Any], title: str = "") -> str:
    out = [title] if title else []
    out.append(f"split: {s['split']}   TTA: {s['tta']}   faces: {s['num_samples']}"
               + (f"   (left out: {s['num_excluded']} of classes the model does not know: "
                  f"{', '.join(s['excluded_classes'])})" if s["num_excluded"] else ""))
    headline = [["accuracy", _with_interval(s)], ["macro-F1", f"{s['macro_f1']:.4f}"],
                ["balanced accuracy", f"{s['balanced_accuracy']:.4f}"]]
    header = ["metric", "argmax"]
    if "prior_corrected" in s:
        pc = s["prior_corrected"]
        header.append(f"prior-corrected ({pc['target']})")
        headline[0].append(_with_interval(pc))
        for row, key in zip(headline[1:], ("macro_f1", "balanced_accuracy")):
            row.append(f"{pc[key]:.4f}")
    out += ["", format_table(header, headline), "(accuracy: [95% Wilson interval] over these faces)"]
    if s.get("baselines"):
        b = s["baselines"]
        out.append(f"baselines on these faces: chance {b['chance']:.4f}, "
                   f"always {b['majority_class']} {b['majority']:.4f}")
    out.append("")
    per_class = [[m["name"], f"{m['precision']:.3f}", f"{m['recall']:.3f}", f"{m['f1']:.3f}", m["support"]]
                 for m in s["per_class"] if m["name"] in s["present_classes"]]
    out += [format_table(["class", "precision", "recall", "F1", "support"], per_class), ""]
    out += ["confusion matrix (rows: true class, columns: predicted class)",
            format_confusion(s["confusion_matrix"], s["class_names"], s["present_classes"])]
    if s["most_confused"]:
        pairs = ", ".join(f"{t} as {p} ({c})" for t, p, c in s["most_confused"][:5])
        out += ["", f"most confused: {pairs}"]
    return "\n".join(out)
