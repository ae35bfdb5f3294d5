"""The "Export…" dialog of the runs page: format and options, then the self-check's result.

The export runs in its own process (`fer_engine.export.job.ExportJob`, polled by a timer);
the dialog shows its progress, then the self-check lines (max |probability difference| and
label agreement against PyTorch, the int8 accuracy change) or the one-line reason it was
refused. Closing the dialog stops an export in progress.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout,
                               QHBoxLayout, QLineEdit, QPlainTextEdit, QProgressBar, QPushButton, QSpinBox,
                               QVBoxLayout, QWidget)

POLL_MS = 100

#: Precision choices: (title, ExportOptions changes, formats that offer it).
PRECISIONS = [
    ("float32 (exact, checked to 1e-4)", {}, ("onnx", "torchscript")),
    ("float16 (half the size)", {"half": True}, ("onnx",)),
    ("int8, static (calibrated on training faces)", {"int8": "static"}, ("onnx",)),
    ("int8, dynamic (weights only)", {"int8": "dynamic"}, ("onnx",)),
]


class ExportDialog(QDialog):
    def __init__(self, run_dir: str, parent: QWidget | None = None):
        super().__init__(parent)
        from fer_engine.export.formats import EXPORTS

        self.run_dir = Path(run_dir)
        self.setWindowTitle(f"Export {self.run_dir.name}")
        self.setMinimumWidth(620)
        self.job = None  # the ExportJob in progress
        self.lines: list[str] = []  # the last export's report
        self.timer = QTimer(self, interval=POLL_MS, timeout=self._poll)
        self.format_combo = QComboBox()
        for name, spec in EXPORTS.items():
            self.format_combo.addItem(spec.title, name)
        self.precision_combo = QComboBox()
        self.opset = QSpinBox()
        self.opset.setRange(7, 21)
        self.opset.setValue(17)
        self.dynamic = QCheckBox("any batch size (else batch size 1)")
        self.dynamic.setChecked(True)
        self.card = QCheckBox("write MODEL_CARD.md beside the file")
        self.card.setChecked(True)
        self.out_edit = QLineEdit()
        browse = QPushButton("…")
        browse.clicked.connect(self._browse)
        out_row = QHBoxLayout()
        out_row.addWidget(self.out_edit, 1)
        out_row.addWidget(browse)
        form = QFormLayout()
        form.addRow("Format", self.format_combo)
        form.addRow("Precision", self.precision_combo)
        form.addRow("ONNX opset", self.opset)
        form.addRow("Batch", self.dynamic)
        form.addRow("File", out_row)
        form.addRow("", self.card)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.hide()
        self.report = QPlainTextEdit()
        self.report.setReadOnly(True)
        self.report.setPlaceholderText("The export is checked against the PyTorch model on 256 test faces; "
                                       "the result shows here.")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.export_btn = self.buttons.addButton("Export", QDialogButtonBox.ButtonRole.ActionRole)
        self.export_btn.clicked.connect(self.start)
        self.buttons.rejected.connect(self.reject)
        self.finished.connect(self._stop)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.progress)
        lay.addWidget(self.report, 1)
        lay.addWidget(self.buttons)
        self.format_combo.currentIndexChanged.connect(self._format_changed)
        self._format_changed()

    def fmt(self) -> str:
        return self.format_combo.currentData()

    def _format_changed(self, *_) -> None:
        from fer_engine.export.formats import EXPORTS

        fmt = self.fmt()
        self.precision_combo.clear()
        for title, changes, formats in PRECISIONS:
            if fmt in formats:
                self.precision_combo.addItem(title, changes)
        self.opset.setEnabled(fmt == "onnx")
        self.dynamic.setEnabled(fmt == "onnx")
        suffix = EXPORTS.get(fmt).suffix
        current = self.out_edit.text().strip()
        base = Path(current) if current else self.run_dir / "export" / self.run_dir.name
        self.out_edit.setText(str(base.with_suffix(suffix)))

    def _browse(self) -> None:
        from fer_engine.export.formats import EXPORTS

        suffix = EXPORTS.get(self.fmt()).suffix
        path, _ = QFileDialog.getSaveFileName(self, "Export to", self.out_edit.text(), f"*{suffix}")
        if path:
            self.out_edit.setText(str(Path(path).with_suffix(suffix)))

    def options(self):
        from fer_engine.export.formats import ExportOptions

        return ExportOptions(opset=self.opset.value(), dynamic_batch=self.dynamic.isChecked() or self.fmt() != "onnx",
                             **(self.precision_combo.currentData() or {}))

    def start(self) -> None:
        """Export in a separate process; the report shows the self-check or the reason it failed."""
        from fer_engine.export.job import ExportJob

        out = Path(self.out_edit.text().strip())
        if not out.name:
            self.report.setPlainText("Choose the file to write.")
            return
        self.job = ExportJob.start(self.run_dir, out, self.fmt(), self.options(), self.card.isChecked())
        self.export_btn.setEnabled(False)
        self.progress.setValue(0)
        self.progress.show()
        self.report.setPlainText(f"Exporting to {out} …")
        self.timer.start()

    def running(self) -> bool:
        return self.job is not None and not self.job.finished

    def _poll(self) -> None:
        for message in self.job.poll():
            kind, *rest = message
            if kind == "progress":
                fraction, text = rest
                self.progress.setValue(round(100 * max(fraction, 0.0)))
                self.progress.setFormat(f"%p% {text}")
            elif kind == "done":
                self.lines = list(rest[0])
                self.progress.setValue(100)
                self.report.setPlainText("\n".join(self.lines))
            else:
                self.lines = [f"Not exported: {rest[0]}"]
                self.progress.hide()
                self.report.setPlainText(self.lines[0])
        if self.job.finished:
            self.timer.stop()
            self.export_btn.setEnabled(True)

    def _stop(self, *_) -> None:
        """The dialog closed: stop an export in progress."""
        self.timer.stop()
        if self.running():
            self.job.cancel()
