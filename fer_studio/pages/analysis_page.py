"""Analysis page: why a finished run scores what it scores.

Top: run, split (test/val), TTA, another dataset, export, background-job strip, and the
headline numbers. Left: confusion matrix with the per-class table and most-confused pairs,
or the feature scatter. Right: the gallery of the faces picked there and the image
inspector with Grad-CAM overlays. Everything heavy (predicting a split, t-SNE, CAMs,
overlay export) runs off the GUI thread through `AnalysisTasks`; the engine
(`fer_engine.eval`) computes, the widgets display.
"""
from __future__ import annotations

import html
import threading
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QHBoxLayout, QLabel, QMenu,
                               QMessageBox, QPushButton, QSplitter, QTabWidget, QToolButton,
                               QVBoxLayout, QWidget)

from ..state import AppState
from ..tasks import run_task
from ..widgets.analysis_confused_pairs import ConfusedPairsList
from ..widgets.analysis_confusion import ConfusionMatrixView
from ..widgets.analysis_gallery import FaceGallery
from ..widgets.analysis_images import FaceSet
from ..widgets.analysis_inspector import CamRequest, ImageInspector
from ..widgets.analysis_metrics_table import MetricsTable
from ..widgets.analysis_scatter import FeatureScatter
from ..widgets.analysis_tasks import AnalysisTasks
from ..widgets.cross_dataset_matrix import CrossDatasetMatrix
from ..widgets.suspect_labels import SuspectLabels
from ..widgets.run_combo import RunCombo

SPLITS = ("test", "val")
_KEEP: Any = object()  # open_run argument default: keep the page's current choice
_CAM_BATCH = 16  # faces per Grad-CAM batch when exporting overlays


def _open_analysis(run_dir: str, split: str, data_path: str | None, tta: bool, progress, should_stop):
    from fer_engine.eval.analysis import open_analysis

    return open_analysis(run_dir, split=split, data_path=data_path, tta=tta,
                         progress=progress, should_stop=should_stop)


class InspectorModel:
    """The run's model as the inspector needs it: Grad-CAM maps, and predictions of dropped files.

    Wraps the engine's predictor (the run's exact preprocessing) and `fer_engine.eval.cam`.
    A lock serialises model use: a cancelled CAM job may still be finishing on another
    pool thread when the next one starts. Ensembles predict but have no single model to
    explain, so `methods` is empty for them and `unavailable` says why.
    """

    def __init__(self, run_dir: str):
        from fer_engine.eval.predictor import RunPredictor, load_predictor

        self.predictor = load_predictor(run_dir)
        self.class_names = list(self.predictor.class_names)
        self._lock = threading.Lock()
        self.unavailable = ""
        self.methods: list[tuple[str, str]] = []  # (key, title), e.g. ("gradcam", "Grad-CAM")
        self.layers: list[str] = []
        if not isinstance(self.predictor, RunPredictor):
            self.unavailable = "Grad-CAM explains one model: open a member run of this ensemble"
            return
        from fer_engine.eval.cam import CAM_METHODS

        self.methods = [(name, m.title) for name, m in CAM_METHODS.items()]
        self.layers = list(self.predictor.model.named_cam_layers())

    def cams(self, faces: np.ndarray, method: str, targets: list[int], layer: str | None,
             progress=None, should_stop=None) -> np.ndarray:
        """(B, h, w) maps in [0, 1]: why the model would say `targets[i]` for `faces[i]`."""
        from fer_engine.eval.cam import compute_cams

        with self._lock:
            return compute_cams(self.predictor.model, self.predictor.inputs(faces), method, list(targets), layer,
                                progress=progress, should_stop=should_stop)

    def predict(self, face: np.ndarray) -> np.ndarray:
        with self._lock:
            return self.predictor.predict_faces(face[None])[0]

    def decode(self, path: str) -> np.ndarray:
        """A dropped file as a face, converted exactly like the run's training data."""
        from fer_engine.data.images import decode_image

        size, channels = self._face_format()
        return decode_image(path, size, channels)

    def _face_format(self) -> tuple[int, int]:
        predictor = getattr(self.predictor, "members", [self.predictor])[0]
        return predictor.preprocess.image_size, predictor.preprocess.channels


def _overlay(face: np.ndarray, cam: np.ndarray, alpha: float, colormap: str) -> np.ndarray:
    from fer_engine.eval.cam import overlay

    return overlay(face, cam, alpha, colormap)


class AnalysisPage(QWidget):
    """Confusion matrix, metrics, scatter, gallery and inspector for one run on one split."""

    title = "Analysis"
    #: (run_dir, split, data_path, tta, progress, should_stop) -> fer_engine Analysis
    opener: Callable[..., Any] = staticmethod(_open_analysis)
    #: run_dir -> InspectorModel-like object (class_names, methods, layers, cams, predict, decode)
    model_loader: Callable[[str], Any] = InspectorModel

    def __init__(self, state: AppState, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        self.run_dir: str | None = None
        self.data_path: str | None = None  # None = the run's own dataset
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
        self.data_button = QToolButton()
        self.data_button.setText("Run's dataset")
        self.data_button.setPopupMode(QToolButton.InstantPopup)
        data_menu = QMenu(self.data_button)
        data_menu.addAction("Run's own dataset", lambda: self._set_data_path(None))
        data_menu.addAction("Other dataset folder\u2026", self._choose_data_folder)
        data_menu.addAction("FER2013 CSV\u2026", self._choose_data_csv)
        self.data_button.setMenu(data_menu)
        self.open_button = QPushButton("Open")
        self.open_button.setToolTip("Open (or re-open) the analysis with these choices")
        self.open_button.clicked.connect(lambda: self.open_run(self.run_combo.currentData()))
        self.export_button = QToolButton()
        self.export_button.setText("Export")
        self.export_button.setPopupMode(QToolButton.InstantPopup)
        export_menu = QMenu(self.export_button)
        export_menu.addAction("Confusion matrix (PNG/SVG)\u2026", lambda: self._ask_export("matrix"))
        export_menu.addAction("Feature scatter (PNG/SVG)\u2026", lambda: self._ask_export("scatter"))
        export_menu.addAction("Metrics (CSV/JSON)\u2026", lambda: self._ask_export("metrics"))
        export_menu.addAction("Grad-CAM overlays of the gallery selection\u2026",
                              lambda: self._ask_export("overlays"))
        export_menu.addAction("Grad-CAM overlays of the inspected face\u2026",
                              lambda: self._ask_export("inspected"))
        self.export_button.setMenu(export_menu)
        self.export_button.setEnabled(False)
        self.tasks = AnalysisTasks()
        self.summary = QLabel("Choose a run and press Open")
        self.summary.setTextInteractionFlags(Qt.TextSelectableByMouse)

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

    def _set_data_path(self, path: str | None) -> None:
        self.data_path = path
        self.data_button.setText(Path(path).name if path else "Run's dataset")
        self.data_button.setToolTip(path or "the dataset the run was trained on")

    def _choose_data_folder(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Evaluate on another dataset folder")
        if d:
            self._set_data_path(d)

    def _choose_data_csv(self) -> None:
        f, _ = QFileDialog.getOpenFileName(self, "Evaluate on a FER2013 CSV", "", "CSV (*.csv)")
        if f:
            self._set_data_path(f)

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
            self._set_data_path(data_path)
        split, tta, data = self.split_combo.currentText(), self.tta.isChecked(), self.data_path
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
            self.summary.setText(self._summary_text(self.analysis) if self.analysis is not None
                                 else "Opening cancelled: press Open to try again")
        elif key == "embed" and self.embedding is not None:
            self.scatter.show_method(self.embedding.method)  # back to what the plot shows
        elif key == "cam":
            self.inspector.set_unavailable("Grad-CAM cancelled: change the method or a class to compute again")

    def _failed(self, message: str, details: str = "") -> None:
        """A background step failed: the message in red, its traceback in the tooltip."""
        hint = " <span style='color:gray'>(hover for the traceback)</span>" if details else ""
        self.summary.setText(f"<span style='color:#c0392b'>{html.escape(message)}</span>{hint}")
        self.summary.setToolTip(details)
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
        self.summary.setText(self._summary_text(analysis))
        self.summary.setToolTip("")
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

    def _summary_text(self, analysis) -> str:
        s = analysis.summary()
        parts = [html.escape(analysis.headline()), f"macro-F1 <b>{s['macro_f1']:.3f}</b>",
                 f"balanced acc <b>{s['balanced_accuracy']:.1%}</b>"]
        if "prior_corrected" in s:
            parts.append(f"prior-corrected acc <b>{s['prior_corrected']['accuracy']:.1%}</b>")
        if s.get("num_excluded"):
            parts.append(f"{s['num_excluded']} faces of classes the model lacks left out")
        return " \u00b7 ".join(parts)

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
        self.scatter.show_method(embedding.method)  # the picker names what the plot shows
        if embedding.explained_variance_ratio is not None:
            note = (f"PCA shows {float(np.sum(embedding.explained_variance_ratio)):.1%} of the "
                    "feature variance; \u00d7 = mistake")
        else:
            note = "t-SNE keeps neighbourhoods, not distances; \u00d7 = mistake"
        self.scatter.set_embedding(embedding.points, embedding.axis_labels, note)

    # -- export ---------------------------------------------------------------------------------
    def _ask_export(self, kind: str) -> None:
        if kind in ("overlays", "inspected"):
            path = QFileDialog.getExistingDirectory(self, "Folder for the Grad-CAM overlays")
        else:
            filters = {"matrix": "PNG (*.png);;SVG (*.svg)", "scatter": "PNG (*.png);;SVG (*.svg)",
                       "metrics": "CSV (*.csv);;JSON (*.json)"}[kind]
            path, chosen = QFileDialog.getSaveFileName(self, f"Export {kind}", "", filters)
            if path and not Path(path).suffix:
                path += "." + chosen.split("*.")[1].rstrip(")")
        if path:
            try:
                self.export(kind, path)
            except (OSError, ValueError) as e:
                QMessageBox.warning(self, "Export failed", str(e))

    def export(self, kind: str, path: str) -> None:
        """Write "matrix" / "scatter" (.png/.svg), "metrics" (.csv/.json) or "overlays" (folder)."""
        from fer_engine.eval import export as ex

        a = self.analysis
        if a is None:
            raise ValueError("no analysis is open")
        title = f"{a.context().describe()} \u00b7 {a.split}"
        if kind == "matrix":
            ex.confusion_matrix_figure(a.confusion, a.class_names, path,
                                       normalized=self.matrix.normalized.isChecked(), title=title)
        elif kind == "scatter":
            ex.scatter_figure(self.embedding.points, a.predictions.y_true, a.predictions.y_pred,
                              a.class_names, path, axis_labels=self.embedding.axis_labels, title=title)
        elif kind == "metrics":
            writer = ex.metrics_to_json if path.lower().endswith(".json") else ex.metrics_to_csv
            writer({**a.summary(), **asdict(a.context())}, path)
        elif kind == "overlays":
            self._export_overlays(path, self.gallery.selected_rows())
        elif kind == "inspected":
            if self.inspected_row is None:
                raise ValueError("no face of this split is inspected: click one in the gallery or the scatter")
            self._export_overlays(path, np.array([self.inspected_row]))
        else:
            raise ValueError(f"unknown export {kind!r}")
        if kind not in ("overlays", "inspected"):
            self.state.notify(f"Exported {kind} to {path}")

    def _export_overlays(self, folder: str, rows: np.ndarray) -> None:
        """Grad-CAM of each row's predicted class beside its face, one PNG per row."""
        model = self.model
        if model is None or not model.methods:
            raise ValueError(self.model_error or getattr(model, "unavailable", "") or "no model")
        a, method = self.analysis, self.inspector.method.currentData()
        layer, alpha = self.inspector.request.layer if self.inspector.request else None, \
            self.inspector.opacity.value() / 100.0

        def job(progress, should_stop):
            from fer_engine.eval.export import export_overlays

            p = a.predictions
            for start in range(0, len(rows), _CAM_BATCH):
                if should_stop():
                    return 0
                chunk = rows[start:start + _CAM_BATCH]
                cams = model.cams(a.images[chunk], method, p.y_pred[chunk].tolist(), layer)
                export_overlays(a.images[chunk], cams, p.y_true[chunk], p.y_pred[chunk], a.class_names,
                                folder, ids=p.index[chunk], alpha=alpha)
                progress((start + len(chunk)) / len(rows), f"{start + len(chunk)}/{len(rows)} overlays")
            return len(rows)

        self.tasks.start("export", "Exporting overlays", job,
                         on_done=lambda n: self.state.notify(f"Exported {n} overlays to {folder}"),
                         on_error=self._failed)
