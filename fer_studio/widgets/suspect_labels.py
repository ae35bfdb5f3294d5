"""The "Suspect labels" tab: faces whose given label is most likely wrong (cleanlab, computed by
`fer_engine.eval.label_issues`), given vs suggested label and score; the user marks faces to
relabel or exclude and saves them as a new version of the label-overrides file beside the runs
(the dataset is never modified; later runs apply it through data.label_overrides)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QListView, QListWidget, QListWidgetItem, QPushButton,
                               QVBoxLayout, QWidget)

from ..tasks import run_task
from .analysis_images import to_pixmap

MAX_SHOWN = 300  # the most likely wrong first; a longer list is in `fer-studio label-issues --json`
THUMB = 72


def find_suspects(run_dir: str, progress, should_stop) -> tuple[Any, np.ndarray]:
    """(LabelIssueReport, thumbnails of the first MAX_SHOWN issues) -- runs on a pool thread."""
    from fer_engine.data import load_face
    from fer_engine.eval.label_issues import label_issues_for_run

    report = label_issues_for_run(run_dir, progress=progress)
    faces = []
    for issue in report.issues[:MAX_SHOWN]:
        if should_stop():
            break
        try:
            faces.append(load_face(issue.source, 48, 1))
        except Exception:  # noqa: BLE001 - a face gone since the run still gets its row
            faces.append(np.zeros((48, 48, 1), np.uint8))
    return report, np.array(faces, np.uint8).reshape(-1, 48, 48, 1)


class SuspectLabels(QWidget):
    """Gallery of suspect labels with relabel / exclude marks and a save button."""

    overridesSaved = Signal(str)  # path of the new overrides version

    def __init__(self, runs_root: Path, parent: QWidget | None = None):
        super().__init__(parent)
        self.runs_root = Path(runs_root)
        self.run_dir: str | None = None
        self.report: Any = None
        self.marks: dict[str, tuple[str, str]] = {}  # source -> (action, label)
        self._task = None
        self.find_button = QPushButton("Find suspect labels")
        self.find_button.setToolTip("Rank this run's faces by how likely their label is wrong (cleanlab); "
                                    "a k-fold run covers every training face")
        self.find_button.clicked.connect(self.find)
        self.relabel_button = QPushButton("Relabel to suggested")
        self.exclude_button = QPushButton("Exclude")
        self.clear_button = QPushButton("Clear mark")
        self.save_button = QPushButton("Save overrides\u2026")
        self.save_button.setToolTip("Write the marks as a new version of the label-overrides file beside the runs")
        self.relabel_button.clicked.connect(lambda: self.mark_selected("relabel"))
        self.exclude_button.clicked.connect(lambda: self.mark_selected("exclude"))
        self.clear_button.clicked.connect(lambda: self.mark_selected(""))
        self.save_button.clicked.connect(self.save)
        self.status = QLabel("Open a run, then find the faces whose label looks wrong")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.list = QListWidget()
        self.list.setViewMode(QListView.IconMode)
        self.list.setIconSize(QSize(THUMB, THUMB))
        self.list.setGridSize(QSize(THUMB + 64, THUMB + 52))
        self.list.setResizeMode(QListView.Adjust)
        self.list.setMovement(QListView.Static)
        self.list.setSelectionMode(QListWidget.ExtendedSelection)
        self.list.setWordWrap(True)
        buttons = QHBoxLayout()
        for b in (self.find_button, self.relabel_button, self.exclude_button, self.clear_button, self.save_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        lay = QVBoxLayout(self)
        lay.addLayout(buttons)
        lay.addWidget(self.status)
        lay.addWidget(self.list, 1)
        self._enable()

    def set_run(self, run_dir: str | None) -> None:
        if run_dir != self.run_dir:
            self.run_dir, self.report, self.marks = run_dir, None, {}
            self.list.clear()
            self.status.setText("Press \u201cFind suspect labels\u201d to rank this run's faces")
        self._enable()

    def _enable(self) -> None:
        has = self.report is not None and self.list.count() > 0
        self.find_button.setEnabled(self.run_dir is not None)
        for b in (self.relabel_button, self.exclude_button, self.clear_button):
            b.setEnabled(has)
        self.save_button.setEnabled(bool(self.marks))

    def find(self) -> None:
        if not self.run_dir:
            return
        run_dir = self.run_dir
        self.status.setText("Ranking the labels\u2026")
        self.find_button.setEnabled(False)
        self._task = run_task(lambda p, s: find_suspects(run_dir, p, s), context=self,
                              on_done=lambda r: self.show_report(*r), on_error=self._failed)

    def _failed(self, message: str, details: str = "") -> None:
        self.status.setText(f"Could not rank the labels: {message}")
        self._enable()

    def show_report(self, report: Any, faces: np.ndarray) -> None:
        self.report = report
        self.list.clear()
        for issue, face in zip(report.issues, faces):
            item = QListWidgetItem(QIcon(to_pixmap(face, THUMB)), "")
            item.setData(Qt.UserRole, issue.source)
            item.setToolTip(f"{issue.source}\ngiven {issue.given}, suggested {issue.suggested}, "
                            f"label quality {issue.score:.3f}"
                            + ("" if issue.agreement is None else f", annotator agreement {issue.agreement:.0%}"))
            self.list.addItem(item)
            self._caption(item)
        more = len(report.issues) - self.list.count()
        self.status.setText(f"{len(report.issues):,} of {report.faces:,} faces flagged ({report.split} predictions, "
                            f"{report.method}); most likely wrong first"
                            + (f"; {more:,} more in `fer-studio label-issues --json`" if more > 0 else "")
                            + "".join(f". {n}" for n in report.notes))
        self._enable()

    def _issue(self, source: str):
        return next(i for i in self.report.issues if i.source == source)

    def _caption(self, item: QListWidgetItem) -> None:
        source = item.data(Qt.UserRole)
        issue = self._issue(source)
        action, label = self.marks.get(source, ("", ""))
        mark = {"relabel": f"\n\u2192 relabel {label}", "exclude": "\n\u2716 exclude"}.get(action, "")
        item.setText(f"{issue.given} \u2192 {issue.suggested}\n{issue.score:.2f}{mark}")

    def mark_selected(self, action: str) -> None:
        """Mark the selected faces ("" clears their marks)."""
        for item in self.list.selectedItems():
            source = item.data(Qt.UserRole)
            if action:
                self.marks[source] = (action, self._issue(source).suggested)
            else:
                self.marks.pop(source, None)
            self._caption(item)
        self._enable()

    def save(self) -> Path | None:
        """Write the marks as the next overrides version (starting from the run's current file)."""
        from fer_engine.data.overrides import LabelOverrides, load_overrides
        from fer_engine.training.rundir import RunDir

        if not self.marks or not self.run_dir:
            return None
        cfg = RunDir.open(self.run_dir).config()
        base = cfg.data.label_overrides
        ov = load_overrides(base) if base else LabelOverrides(dataset=cfg.data.path)
        ov.based_on = base
        for source, (action, label) in self.marks.items():
            ov.mark(source, action, label)
        path = ov.save_new_version(self.runs_root / "label-overrides")
        self.status.setText(f"Saved {len(self.marks)} mark(s) as {path}; train with data.label_overrides set to it "
                            f"(the set-up page's data.label_overrides field)")
        self.overridesSaved.emit(str(path))
        return path
