"""The "Cross-dataset" tab: accuracy / macro-F1 of runs (rows) on datasets (columns), every face
of each dataset, classes matched by name (computed by `fer_engine.eval.cross_dataset`); a cell
whose dataset holds classes outside the model's set says so in its text and tooltip."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QFileDialog, QHBoxLayout, QLabel, QPushButton, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from ..tasks import run_task

OWN = "own"


class CrossDatasetMatrix(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.runs: list[str] = []
        self.datasets: list[str] = [OWN]
        self.matrix: Any = None
        self._task = None
        add_run = QPushButton("Add run\u2026")
        add_run.clicked.connect(self._choose_run)
        add_folder = QPushButton("Add dataset folder\u2026")
        add_folder.clicked.connect(self._choose_folder)
        add_csv = QPushButton("Add CSV\u2026")
        add_csv.clicked.connect(self._choose_csv)
        self.compute_button = QPushButton("Compute")
        self.compute_button.setToolTip("Evaluate every run on every dataset (all faces; predictions are stored "
                                       "in each run and reused)")
        self.compute_button.clicked.connect(self.compute)
        clear = QPushButton("Clear")
        clear.clicked.connect(self.clear)
        self.status = QLabel("Rows: runs (the open run is added); columns: datasets (\u201cown\u201d = each run's own)")
        self.status.setWordWrap(True)
        self.table = QTableWidget()
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        top = QHBoxLayout()
        for b in (add_run, add_folder, add_csv, self.compute_button, clear):
            top.addWidget(b)
        top.addStretch(1)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.status)
        lay.addWidget(self.table, 1)
        self._refresh()

    def add_run(self, run_dir: str) -> None:
        if run_dir and run_dir not in self.runs:
            self.runs.append(str(run_dir))
            self._refresh()

    def add_dataset(self, path: str) -> None:
        if path and path not in self.datasets:
            self.datasets.append(str(path))
            self._refresh()

    def clear(self) -> None:
        self.runs, self.datasets, self.matrix = [], [OWN], None
        self._refresh()

    def _choose_run(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Add a run folder")
        self.add_run(d)

    def _choose_folder(self) -> None:
        self.add_dataset(QFileDialog.getExistingDirectory(self, "Add a dataset folder"))

    def _choose_csv(self) -> None:
        f, _ = QFileDialog.getOpenFileName(self, "Add a FER2013-style CSV", "", "CSV (*.csv)")
        self.add_dataset(f)

    def compute(self) -> None:
        if not self.runs:
            self.status.setText("Add a run first")
            return
        runs, datasets = list(self.runs), list(self.datasets)
        self.compute_button.setEnabled(False)
        self.status.setText(f"Evaluating {len(runs)} run(s) on {len(datasets)} dataset(s)\u2026")

        def job(progress, should_stop):
            from fer_engine.eval.cross_dataset import cross_dataset_matrix

            return cross_dataset_matrix(runs, datasets, progress=progress)

        self._task = run_task(job, context=self, on_done=self.show_matrix, on_error=self._failed,
                              on_progress=lambda f, m: self.status.setText(f"{m} ({f:.0%})"))

    def _failed(self, message: str, details: str = "") -> None:
        self.compute_button.setEnabled(True)
        self.status.setText(f"Could not evaluate: {message}")

    def show_matrix(self, matrix: Any) -> None:
        self.matrix = matrix
        self.compute_button.setEnabled(True)
        self.status.setText(f"accuracy / macro-F1 on split \u201c{matrix.split}\u201d, classes matched by name")
        self._refresh()

    def cell_text(self, run: str, data: str) -> str:
        """What a cell shows (also used by the tests)."""
        if self.matrix is None or run not in self.matrix.runs or data not in self.matrix.datasets:
            return ""
        c = self.matrix.cell(run, data)
        if c.error:
            return "error"
        text = "n/a" if math.isnan(c.accuracy) else f"{c.accuracy:.3f} / {c.macro_f1:.3f}"
        return text + (f"\n{c.excluded} left out: {', '.join(c.excluded_classes)}" if c.excluded else "")

    def _refresh(self) -> None:
        self.table.clear()
        self.table.setRowCount(len(self.runs))
        self.table.setColumnCount(len(self.datasets))
        self.table.setHorizontalHeaderLabels([d if d == OWN else Path(d).name for d in self.datasets])
        self.table.setVerticalHeaderLabels([Path(r).name for r in self.runs])
        for i, r in enumerate(self.runs):
            for j, d in enumerate(self.datasets):
                item = QTableWidgetItem(self.cell_text(r, d))
                item.setTextAlignment(Qt.AlignCenter)
                if self.matrix is not None and r in self.matrix.runs and d in self.matrix.datasets:
                    c = self.matrix.cell(r, d)
                    item.setToolTip(c.error or f"{c.faces:,} faces scored"
                                    + (f"; {c.excluded:,} of {', '.join(c.excluded_classes)} left out "
                                       f"(classes outside the model's set)" if c.excluded else ""))
                self.table.setItem(i, j, item)
        self.table.resizeColumnsToContents()
        self.table.resizeRowsToContents()
