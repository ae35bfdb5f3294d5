"""The Analysis page's headline: run, data, checkpoint, split and its numbers, or what went wrong."""
from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget


class AnalysisSummary(QLabel):
    def __init__(self, parent: QWidget | None = None):
        super().__init__("Choose a run and press Open", parent)
        self.setTextInteractionFlags(Qt.TextSelectableByMouse)

    def show_analysis(self, analysis) -> None:
        """The headline and macro-F1, balanced and prior-corrected accuracy of an `eval.Analysis`."""
        s = analysis.summary()
        parts = [html.escape(analysis.headline()), f"macro-F1 <b>{s['macro_f1']:.3f}</b>",
                 f"balanced acc <b>{s['balanced_accuracy']:.1%}</b>"]
        if "prior_corrected" in s:
            parts.append(f"prior-corrected acc <b>{s['prior_corrected']['accuracy']:.1%}</b>")
        if s.get("num_excluded"):
            parts.append(f"{s['num_excluded']} faces of classes the model lacks left out")
        self.setText(" \u00b7 ".join(parts))
        self.setToolTip("")

    def show_error(self, message: str, details: str = "") -> None:
        """The message in red, its traceback in the tooltip."""
        hint = " <span style='color:gray'>(hover for the traceback)</span>" if details else ""
        self.setText(f"<span style='color:#c0392b'>{html.escape(message)}</span>{hint}")
        self.setToolTip(details)
