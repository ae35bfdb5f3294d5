"""A study's results as text: the results table in Markdown, CSV or aligned plain text."""
from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

from ..utils.atomic import atomic_write_text

from .results import StudyResults, VariantResult

COLUMNS = ("variant", "seeds", "accuracy", "acc 95% CI", "macro-F1", "val acc", "effect", "effect 95% CI",
           "p", "p (Holm)", "verdict", "classes moved", "wall time", "img/s")


def _pct(x: float, signed: bool = False) -> str:
    if not math.isfinite(x):
        return "–"
    return f"{100 * x:+.2f}" if signed else f"{100 * x:.2f}"


def _pm(mean: float, std: float) -> str:
    return _pct(mean) + (f" ± {100 * std:.2f}" if math.isfinite(std) else "")


def _ci(iv: tuple[float, float], signed: bool = False) -> str:
    lo, hi = iv
    return "–" if not math.isfinite(lo) else f"[{_pct(lo, signed)}, {_pct(hi, signed)}]"


def _p(x: float) -> str:
    return "–" if not math.isfinite(x) else (f"{x:.3f}" if x >= 0.001 else "<0.001")


def _moved(v: VariantResult, top: int = 2) -> str:
    ranked = sorted(v.class_effects.items(), key=lambda kv: -abs(kv[1]))[:top]
    return ", ".join(f"{c} {100 * d:+.1f}" for c, d in ranked) or "–"


def _duration(s: float) -> str:
    if not math.isfinite(s):
        return "–"
    m, sec = divmod(int(round(s)), 60)
    return f"{m}m{sec:02d}s"


def rows(results: StudyResults) -> list[list[str]]:
    """The table's cells (accuracies in %, effects in points), one row per variant."""
    out = []
    for v in results.variants:
        out.append([v.name, str(v.seeds), _pm(v.accuracy_mean, v.accuracy_std), _ci(v.accuracy_interval),
                    _pm(v.macro_f1_mean, v.macro_f1_std), _pct(v.val_accuracy_mean), _pct(v.effect, True),
                    _ci(v.effect_interval, True), _p(v.p), _p(v.p_holm), v.verdict or "–", _moved(v),
                    _duration(v.wall_time_s), "–" if not math.isfinite(v.img_per_s) else f"{v.img_per_s:.0f}"])
    return out


def _caption(results: StudyResults) -> str:
    return (f"{results.name or 'study'}: {results.split} accuracy{' with TTA' if results.tta else ''} "
            f"on {results.faces} faces (%, mean ± std over seeds); effects in points against the baseline")


def to_markdown(results: StudyResults) -> str:
    lines = [f"**{_caption(results)}**", "", "| " + " | ".join(COLUMNS) + " |",
             "|" + "|".join(["---"] + ["---:"] * (len(COLUMNS) - 1)) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows(results)]
    lines += [""] + [f"- {n}" for n in results.notes]
    return "\n".join(lines) + "\n"


def to_csv(results: StudyResults) -> str:
    """Machine-readable: raw fractions, one row per variant."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["variant", "changes", "seeds", "accuracy_mean", "accuracy_std", "accuracy_ci_low",
                "accuracy_ci_high", "macro_f1_mean", "macro_f1_std", "val_accuracy_mean", "effect",
                "effect_ci_low", "effect_ci_high", "p", "p_holm", "verdict", "wall_time_s", "img_per_s"])
    for v in results.variants:
        w.writerow([v.name, ";".join(f"{k}={val}" for k, val in v.changes.items()), v.seeds,
                    *(_num(x) for x in (v.accuracy_mean, v.accuracy_std, *v.accuracy_interval, v.macro_f1_mean,
                                        v.macro_f1_std, v.val_accuracy_mean, v.effect, *v.effect_interval,
                                        v.p, v.p_holm)),
                    v.verdict, _num(v.wall_time_s), _num(v.img_per_s)])
    return buf.getvalue()


def _num(x: Any) -> str:
    return "" if not isinstance(x, (int, float)) or not math.isfinite(x) else f"{x:.6g}"


def to_text(results: StudyResults) -> str:
    from ..eval.report import format_table

    out = [_caption(results), "", format_table(COLUMNS, rows(results)), ""]
    out += [f"note: {n}" for n in results.notes]
    return "\n".join(out)


FORMATS = {"text": to_text, "md": to_markdown, "csv": to_csv}


def write_table(results: StudyResults, path: str | Path) -> Path:
    """The results table as Markdown (.md) or CSV (.csv), by the file's suffix."""
    path = Path(path)
    fmt = {".md": to_markdown, ".csv": to_csv}.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"the table exports to .md or .csv, not {path.suffix or 'no suffix'}")
    atomic_write_text(path, fmt(results))
    return path
