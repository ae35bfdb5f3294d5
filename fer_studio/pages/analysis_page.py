"""Analysis page: why a finished run scores what it scores.

Top: run, split (test/val), TTA, another dataset, export, background-job strip, and the
headline numbers. Left: confusion matrix with the per-class table and most-confused pairs,
or the feature scatter. Right: the gallery of the faces picked there and the image
inspector with Grad-CAM overlays. Everything heavy (predicting a split, t-SNE, CAMs,
overlay export) runs off the GUI thread through `AnalysisTasks`; the engine
(`fer_engine.eval`) computes, the widgets display.
"""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QHBoxLayout, QLabel, QMessageBox,
                               QPushButton, QSplitter, QTabWidget, QVBoxLayout, QWidget)

from fer_engine.eval.export import ANALYSIS_EXPORTS

from ..state import AppState
from ..tasks import run_task
from ..widgets.analysis_confused_pairs import ConfusedPairsList
from ..widgets.analysis_confusion import ConfusionMatrixView
from ..widgets.analysis_data_choice import DataChoiceButton
from ..widgets.analysis_export_menu import ExportButton
from ..widgets.analysis_gallery import FaceGallery
from ..widgets.analysis_images import FaceSet
from ..widgets.analysis_inspector import CamRequest, ImageInspector
from ..widgets.analysis_metrics_table import MetricsTable
from ..widgets.analysis_scatter import FeatureScatter
from ..widgets.analysis_summary import AnalysisSummary
from ..widgets.analysis_tasks import AnalysisTasks
from ..widgets.cross_dataset_matrix import CrossDatasetMatrix
from ..widgets.suspect_labels import SuspectLabels
from ..widgets.run_combo import RunCombo
from .base import Page

SPLITS = ("test", "val")
_KEEP: Any = object()  # open_run argument default: keep the page's current choice


def _open_analysis(run_dir: str, split: str, data_path: str | None, tta: bool, progress, should_stop):
    from fer_engine.eval.analysis import open_analysis

    return open_analysis(run_dir, split=split, data_path=data_path, tta=tta,
                         progress=progress, should_stop=should_stop)


def _load_inspector(run_dir: str):
    from fer_engine.eval.inspector import InspectorModel

    return InspectorModel(run_dir)


def _overlay(face: np.ndarray, cam: np.ndarray, alpha: float, colormap: str) -> np.ndarray:
    from fer_engine.eval.cam import overlay

    return overlay(face, cam, alpha, colormap)


class AnalysisPage(Page):
    """Confusion matrix, metrics, scatter, gallery and inspector for one run on one split."""

    title = "Analysis"
    #: (run_dir, split, data_path, tta, progress, should_stop) -> fer_engine Analysis
    opener: Callable[..., Any] = staticmethod(_open_analysis)
    #: run_dir -> fer_engine.eval.inspector.InspectorModel-like object (class_names, methods,
    #: layers, cams, predict, decode)
    model_loader: Callable[[str], Any] = staticmethod(_load_inspector)

    def __init__(self, state: AppState, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        self.run_dir: str | None = None
        self.analysis: Any = None
        self.faces: FaceSet | None = None
        self.model: Any = None
        self.model_error = ""
        self.embedding: Any = None
        self.inspected_row: int | None = None  # the analysis row in the inspector (None: a dropped file)
        self._build()
        state.analysisRequested.connect(self.open_run)
        state.runSelected.connect(self._run_selected)
        state.runsChanged.connect(self._fill_runs)
        self._fill_runs()

    # -- layout -----------------------------------------------------------------------------
    def _build(self) -> None:
        self.run_combo = RunCombo("A finished run (or ensemble) from the runs folder")
        browse = QPushButton("Browse\u2026")
        browse.clicked.connect(self._browse_run)
        self.split_combo = QComboBox()
        self.split_combo.addItems(SPLITS)
        self.tta = QCheckBox("TTA")
        self.tta.setToolTip("Average predictions over the run's test-time augmentation views")
        self.data_button = DataChoiceButton()
        self.open_button = QPushButton("Open")
        self.open_button.setToolTip("Open (or re-open) the analysis with these choices")
        self.open_button.clicked.connect(lambda: self.open_run(self.run_combo.currentData()))
        self.export_button = ExportButton()
        self.export_button.exportChosen.connect(self._export_chosen)
        self.export_button.setEnabled(False)
        self.tasks = AnalysisTasks()
        self.summary = AnalysisSummary()

        top = QHBoxLayout()
        for w in (QLabel("Run"), self.run_combo, browse, QLabel("split"), self.split_combo,
                  self.tta, self.data_button, self.open_button, self.export_button):
            top.addWidget(w)
        top.addWidget(self.tasks, 1)

        self.matrix = ConfusionMatrixView()
        self.metrics = MetricsTable()
        self.pairs = ConfusedPairsList()
        side = QSplitter(Qt.Vertical)
        side.addWidget(self.metrics)
        pairs_box = QWidget()
        pl = QVBoxLayout(pairs_box)
        pl.setContentsMargins(0, 0, 0, 0)
        pl.addWidget(QLabel("Most confused (click to see the faces)"))
        pl.addWidget(self.pairs)
        side.addWidget(pairs_box)
        matrix_tab = QSplitter(Qt.Horizontal)
        matrix_tab.addWidget(self.matrix)
        matrix_tab.addWidget(side)
        matrix_tab.setSizes([450, 410])
        self.scatter = FeatureScatter()
        self.tabs = QTabWidget()
        self.tabs.addTab(matrix_tab, "Confusion matrix")
        self.tabs.addTab(self.scatter, "Feature scatter")
        self.suspects = SuspectLabels(self.state.runs_root)
        self.tabs.addTab(self.suspects, "Suspect labels")
        self.cross = CrossDatasetMatrix()
        self.tabs.addTab(self.cross, "Cross-dataset")

        self.gallery = FaceGallery()
        self.inspector = ImageInspector(overlay_fn=_overlay)
        right = QSplitter(Qt.Vertical)
        right.addWidget(self.gallery)
        right.addWidget(self.inspector)
        right.setSizes([300, 640])
        body = QSplitter(Qt.Horizontal)
        body.addWidget(self.tabs)
        body.addWidget(right)
        body.setSizes([860, 740])

        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.summary)
        lay.addWidget(body, 1)

        self.matrix.cellClicked.connect(self.show_cell)
        self.pairs.pairClicked.connect(self.show_cell)
        self.gallery.faceClicked.connect(self.inspect_row)
        self.scatter.pointClicked.connect(self._inspect_scatter_point)
        self.scatter.selectionMade.connect(self._show_selection)
        self.scatter.methodRequested.connect(self.compute_embedding)
        self.inspector.camsRequested.connect(self._compute_cams)
        self.inspector.fileDropped.connect(self.inspect_file)
        self.tasks.jobFinished.connect(self._job_finished)

    # -- choosing what to open ------------------------------------------------------------------
    def _fill_runs(self) -> None:
        """Re-read the finished runs for the run chooser, on a pool thread."""
        from fer_engine.training.runs_list import list_runs

        root = self.state.runs_root
        run_task(lambda progress, should_stop: [(f"{s.name} ({s.backbone})", str(s.path))
                                                for s in list_runs(root) if s.status == "finished"],
                 context=self, on_done=self._show_runs)

    def _show_runs(self, runs: list[tuple[str, str]]) -> None:
        self.run_combo.set_runs(runs, keep=self.run_combo.currentData() or self.run_dir)

    def _run_selected(self, run_dir: str) -> None:
        self.run_combo.select(run_dir)
        if self.isVisible():
            self.open_run(run_dir)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        """Coming to the page opens the run chosen elsewhere (runs list) if it is not open yet."""
        super().showEvent(event)
        chosen = self.run_combo.currentData()
        if chosen and chosen != self.run_dir and not self.tasks.is_running("open"):
            self.open_run(chosen)

    def _browse_run(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Open a run folder", str(self.state.runs_root))
        if d:
            self.open_run(d)

    # -- opening ----------------------------------------------------------------------------
    def open_run(self, run_dir: str | None, split: str | None = None, tta: bool | None = None,
                 data_path: str | None = _KEEP) -> None:
        """Open the analysis of `run_dir` in the background (predicting the split once if needed)."""
        if not run_dir:
            self.state.notify("Analysis: choose a run first")
            return
        run_dir = str(run_dir)
        self.run_combo.select(run_dir)
        if split is not None:
            self.split_combo.setCurrentText(split)
        if tta is not None:
            self.tta.setChecked(tta)
        if data_path is not _KEEP:
            self.data_button.set_path(data_path)
        split, tta, data = self.split_combo.currentText(), self.tta.isChecked(), self.data_button.path
        opener, loader = self.opener, self.model_loader

        def job(progress, should_stop):
            analysis = opener(run_dir, split, data, tta, progress, should_stop)
            progress(1.0, "PCA of the features")
            embedding = analysis.embedding("pca", should_stop=should_stop)
            try:
                model, error = loader(run_dir), ""
            except Exception as e:  # noqa: BLE001 - the views still work; the inspector says why
                model, error = None, f"Grad-CAM unavailable: {e}"
            return analysis, embedding, model, error

        self.tasks.cancel("cam")
        self.tasks.cancel("embed")
        self.summary.setText(f"Opening {Path(run_dir).name} ({split}{', TTA' if tta else ''})\u2026")
        self.tasks.start("open", f"Opening {split}", job,
                         on_done=lambda r: self._opened(run_dir, *r), on_error=self._failed)

    def _job_finished(self, key: str, outcome: str) -> None:
        if outcome != "cancelled" or self.tasks.is_running(key):
            return  # a newer job of this kind replaced the cancelled one
        if key == "open":
            if self.analysis is not None:
                self.summary.show_analysis(self.analysis)
            else:
                self.summary.setText("Opening cancelled: press Open to try again")
        elif key == "embed" and self.embedding is not None:
            self.scatter.show_method(self.embedding.method)  # back to what the plot shows
        elif key == "cam":
            self.inspector.set_unavailable("Grad-CAM cancelled: change the method or a class to compute again")

    def _failed(self, message: str, details: str = "") -> None:
        """A background step failed: the message in red, its traceback in the tooltip."""
        self.summary.show_error(message, details)
        self.state.notify(f"Analysis: {message}")

    def _opened(self, run_dir: str, analysis, embedding, model, model_error: str) -> None:
        """Show a newly opened analysis; every view is reset to it (nothing of the previous run stays)."""
        self.run_dir, self.analysis, self.model, self.model_error = run_dir, analysis, model, model_error
        self.tasks.cancel("drop")
        self.inspector.clear()
        self.inspected_row = None
        self.suspects.runs_root = self.state.runs_root
        self.suspects.set_run(run_dir)
        self.cross.add_run(run_dir)
        p = analysis.predictions
        self.faces = FaceSet(analysis.images, np.arange(len(p)), p.y_true, p.y_pred, p.probs,
                             p.class_names)
        names = p.class_names
        self.summary.show_analysis(analysis)
        self.matrix.set_matrix(analysis.confusion, names, analysis.present_rows)
        self.metrics.set_metrics([m for m in analysis.per_class() if m.support > 0])
        self.pairs.set_pairs([(names.index(t), names.index(q), n) for t, q, n in analysis.most_confused()[:15]],
                             names)
        self.gallery.set_faces(self.faces)
        self.scatter.set_faces(self.faces)
        self._show_embedding(embedding)
        if model is not None:
            self.inspector.set_choices(names, model.methods, model.layers)
            if model.unavailable:
                self.inspector.set_unavailable(model.unavailable)
        else:
            self.inspector.set_choices(names, [])
            self.inspector.set_unavailable(model_error)
        self.export_button.setEnabled(True)
        mistakes = analysis.mistakes()
        self.gallery.show_rows(mistakes[np.argsort(-p.confidence[mistakes], kind="stable")],
                               "All mistakes, most confident first")

    # -- gallery --------------------------------------------------------------------------------
    def show_cell(self, true_class: int, pred_class: int) -> None:
        """Open the gallery of one matrix cell (most confident first)."""
        if self.analysis is None:
            return
        names = self.analysis.class_names
        what = (f"{names[true_class]} predicted correctly" if true_class == pred_class
                else f"{names[true_class].capitalize()} predicted as {names[pred_class].capitalize()}")
        self.gallery.show_rows(self.analysis.cell(true_class, pred_class), f"{what}, most confident first")

    def _show_selection(self, rows: np.ndarray) -> None:
        conf = self.analysis.predictions.confidence
        rows = np.asarray(rows)
        self.gallery.show_rows(rows[np.argsort(-conf[rows], kind="stable")],
                               "Scatter selection, most confident first")

    # -- inspector ---------------------------------------------------------------------------
    def _inspect_scatter_point(self, row: int) -> None:
        """A scatter click: the gallery highlight follows, so exports take the inspected face."""
        self.gallery.select_row(row)
        self.inspect_row(row)

    def inspect_row(self, row: int) -> None:
        self.inspected_row = int(row)
        f = self.faces
        src = self.analysis.sources[row] if getattr(self.analysis, "sources", None) else f"#{row}"
        self.inspector.show_face(f.face(row), f.probs[row], int(f.y_true[row]), f"{Path(src).name}")

    def inspect_file(self, path: str) -> None:
        """Decode a dropped image like the training data, predict it and explain it."""
        model = self.model
        if model is None:
            self.state.notify(f"Analysis: cannot predict {path}: {self.model_error or 'no run open'}")
            return

        def job(progress, should_stop):
            face = model.decode(path)
            return face, model.predict(face)

        self.inspected_row = None
        self.tasks.start("drop", f"Predicting {Path(path).name}", job,
                         on_done=lambda r: self.inspector.show_face(r[0], r[1], -1, Path(path).name),
                         on_error=self._failed)

    def _compute_cams(self, request: CamRequest) -> None:
        model, face = self.model, self.inspector.face
        if model is None or not model.methods:
            return

        def job(progress, should_stop):
            progress(-1, request.method)
            return model.cams(np.stack([face, face]), request.method, list(request.targets), request.layer,
                              progress, should_stop)

        self.tasks.start("cam", "Grad-CAM", job,
                         on_done=lambda cams: self.inspector.set_cams(request, cams),
                         on_error=lambda msg, tb: self.inspector.set_unavailable(f"Grad-CAM failed: {msg}"))

    # -- embedding ------------------------------------------------------------------------------
    def compute_embedding(self, method: str) -> None:
        """Show the PCA or t-SNE scatter (t-SNE is computed once, in the background)."""
        analysis = self.analysis
        if analysis is None:
            return
        self.tasks.start("embed", method.upper() if method == "pca" else "t-SNE",
                         lambda progress, should_stop: analysis.embedding(method, progress, should_stop),
                         on_done=self._show_embedding, on_error=self._failed)

    def _show_embedding(self, embedding) -> None:
        self.embedding = embedding
        self.scatter.show_embedding(embedding)

    # -- export ---------------------------------------------------------------------------------
    def _export_chosen(self, kind: str, path: str) -> None:
        try:
            self.export(kind, path)
        except (OSError, ValueError) as e:
            QMessageBox.warning(self, "Export failed", str(e))

    def export(self, kind: str, path: str) -> None:
        """Write one of `ANALYSIS_EXPORTS` ("matrix", "scatter", "metrics") to `path`, or the Grad-CAM
        overlays of the gallery selection ("overlays") or of the inspected face ("inspected") to a folder."""
        a = self.analysis
        if a is None:
            raise ValueError("no analysis is open")
        if kind == "overlays":
            return self._export_overlays(path, self.gallery.selected_rows())
        if kind == "inspected":
            if self.inspected_row is None:
                raise ValueError("no face of this split is inspected: click one in the gallery or the scatter")
            return self._export_overlays(path, np.array([self.inspected_row]))
        if kind not in ANALYSIS_EXPORTS:
            raise ValueError(f"unknown export {kind!r}")
        title = f"{a.context().describe()} \u00b7 {a.split}"
        options = {"matrix": lambda: {"normalized": self.matrix.normalized.isChecked(), "title": title},
                   "scatter": lambda: {"embedding": self.embedding, "y_true": a.predictions.y_true,
                                       "y_pred": a.predictions.y_pred, "title": title},
                   "metrics": dict}[kind]()
        ANALYSIS_EXPORTS[kind].write({**a.summary(), **asdict(a.context())}, path, **options)
        self.state.notify(f"Exported {kind} to {path}")

    def _export_overlays(self, folder: str, rows: np.ndarray) -> None:
        """Grad-CAM of each row's predicted class beside its face, one PNG per row (in the background)."""
        model = self.model
        if model is None or not model.methods:
            raise ValueError(self.model_error or getattr(model, "unavailable", "") or "no model")
        a, method = self.analysis, self.inspector.method.currentData()
        layer = self.inspector.request.layer if self.inspector.request else None
        alpha = self.inspector.opacity.value() / 100.0

        def job(progress, should_stop):
            from fer_engine.eval.inspector import export_cam_overlays

            return export_cam_overlays(model, a, rows, folder, method, layer, alpha, progress, should_stop)

        self.tasks.start("export", "Exporting overlays", job,
                         on_done=lambda n: self.state.notify(f"Exported {n} overlays to {folder}"),
                         on_error=self._failed)
