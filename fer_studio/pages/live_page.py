"""Live page: point a camera (or a video, or a folder of images) at faces and see the expressions.

Capture and inference run in a `LiveWorker` thread; this page only displays the latest
annotated frame, the per-face probability bars, fps and latencies. Faults (no camera, a
camera unplugged mid-stream, the end of a video, an unreadable file, a run without a
checkpoint) end the session with a message in the banner; Start works again afterwards.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QLabel,
                               QLineEdit, QPushButton, QSplitter, QVBoxLayout, QWidget)

from ..state import AppState
from ..tasks import run_task
from ..widgets.live_prob_bars import LiveProbBars
from ..widgets.live_settings import LiveSettingsPanel
from ..widgets.live_source_picker import LiveSourcePicker
from ..widgets.live_view import LiveView
from ..widgets.live_worker import ENDED, FAILED, LiveSettings, LiveWorker
from ..widgets.run_combo import RunCombo
from .base import Page

_BANNER = {"info": "background:#2d4f73;color:white;", "error": "background:#8a2c2c;color:white;",
           "ok": "background:#2f6b3a;color:white;"}


def _runs_for_live(root: Path) -> list[tuple[str, str]]:
    """(title, path) of the runs and ensembles under the runs folder that can classify."""
    from fer_engine.eval.source import is_ensemble_dir
    from fer_engine.training.runs_list import list_runs

    out = []
    for s in list_runs(root):
        if s.status in ("finished", "stopped", "running") or is_ensemble_dir(s.path):
            out.append((f"{s.name}  ·  {s.backbone}  ·  {s.status}", str(s.path)))
    return out


class LivePage(Page):
    title = "Live"

    def __init__(self, state: AppState, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        self.worker: LiveWorker | None = None
        self.latest = None  # the LiveFrame shown
        self._cameras_task = None

        self.run_combo = RunCombo("The run, ensemble or exported model (.onnx, .pt) that classifies the faces")
        pick_run = QPushButton("Folder…")
        pick_run.setToolTip("Use a run or ensemble folder from elsewhere")
        pick_run.clicked.connect(self._pick_run_folder)
        pick_model = QPushButton("Model file…")
        pick_model.setToolTip("Use an exported model (ONNX runs on onnxruntime, TorchScript on PyTorch)")
        pick_model.clicked.connect(self._pick_model_file)
        self.source = LiveSourcePicker()
        self.source.camerasRequested.connect(self.find_cameras)

        self.start_btn = QPushButton("Start")
        self.stop_btn = QPushButton("Stop")
        self.snapshot_btn = QPushButton("Snapshot")
        self.snapshot_btn.setToolTip("Save the frame with its overlay, each face crop and the predictions (JSON)")
        self.record_btn = QPushButton("Record")
        self.record_btn.setCheckable(True)
        self.record_btn.setToolTip("Record the annotated stream to an .mp4 file")
        self.start_btn.clicked.connect(self.start)
        self.stop_btn.clicked.connect(self.stop)
        self.snapshot_btn.clicked.connect(self.snapshot)
        self.record_btn.toggled.connect(self._record_toggled)
        self.fps_label = QLabel("– fps")
        self.fps_label.setStyleSheet("font-size: 15px; font-weight: 600;")
        self.latency_label = QLabel("")
        self.cam_note = QLabel("")
        self.cam_note.setStyleSheet("color: #b9770e")
        self.cam_note.setWordWrap(True)
        self.caveat = QLabel("")
        self.caveat.setWordWrap(True)
        self.caveat.setStyleSheet("color: #b9770e; font-weight: 600")
        self.caveat.hide()
        self.session: LiveSettings | None = None  # the settings of the session the view shows
        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.banner.hide()

        self.view = LiveView()
        self.bars = LiveProbBars()
        self.faces_label = QLabel("")
        self.faces_label.setWordWrap(True)
        self.settings_panel = LiveSettingsPanel()
        self.settings_panel.changed.connect(self._settings_changed)
        self.out_dir = QLineEdit(str(Path(state.runs_root).parent / "fer-studio-live"))
        self.out_dir.setToolTip("Snapshots and recordings are saved here")
        out_btn = QPushButton("…")
        out_btn.clicked.connect(self._pick_out_dir)

        top = QFormLayout()
        run_row = QHBoxLayout()
        run_row.addWidget(self.run_combo, 1)
        run_row.addWidget(pick_run)
        run_row.addWidget(pick_model)
        top.addRow("Model", run_row)  # a run, an ensemble or an exported file
        top.addRow("", self.caveat)
        top.addRow("Source", self.source)
        buttons = QHBoxLayout()
        for b in (self.start_btn, self.stop_btn, self.snapshot_btn, self.record_btn):
            buttons.addWidget(b)
        buttons.addSpacing(16)
        buttons.addWidget(self.fps_label)
        buttons.addSpacing(12)
        buttons.addWidget(self.latency_label, 1)

        side = QWidget()
        sl = QVBoxLayout(side)
        sl.setContentsMargins(0, 0, 0, 0)
        sl.addWidget(QLabel("<b>Probabilities per face</b> (smoothed)"))
        sl.addWidget(self.bars, 1)
        sl.addWidget(self.faces_label)
        sl.addWidget(self.cam_note)
        box = QGroupBox("Settings")
        QVBoxLayout(box).addWidget(self.settings_panel)
        sl.addWidget(box)
        out_row = QHBoxLayout()
        out_row.addWidget(QLabel("Save to"))
        out_row.addWidget(self.out_dir, 1)
        out_row.addWidget(out_btn)
        sl.addLayout(out_row)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.view)
        split.addWidget(side)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        split.setSizes([900, 380])

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(buttons)
        layout.addWidget(self.banner)
        layout.addWidget(split, 1)

        self.run_combo.currentIndexChanged.connect(lambda _: self._show_caveat())
        state.liveRequested.connect(self.use_run)
        state.runSelected.connect(self._run_selected)
        state.runsChanged.connect(self.refresh_runs)
        if state.selected_run:  # usable at once; the list of the others follows
            self.run_combo.select(state.selected_run)
        self.refresh_runs()
        self._set_running(False)

    # -- runs ------------------------------------------------------------------------------
    def refresh_runs(self) -> None:
        """Re-read the runs that can classify, on a pool thread."""
        root = Path(self.state.runs_root)
        run_task(lambda progress, should_stop: _runs_for_live(root), context=self,
                 on_done=self._show_runs)

    def _show_runs(self, runs: list[tuple[str, str]]) -> None:
        self.run_combo.set_runs(runs, keep=self.run_dir() or self.state.selected_run)
        self._show_caveat()

    def run_dir(self) -> str:
        return self.run_combo.currentData() or ""

    def _show_caveat(self) -> None:
        """Warn before a demo-trained or near-chance run is used on real faces."""
        run_dir = self.run_dir()
        if not run_dir:
            self.caveat.hide()
            return
        from fer_engine.eval.analysis import run_caveat

        def done(text: str, d=run_dir) -> None:
            if d != self.run_dir():
                return  # the choice moved on while this was read
            self.caveat.setText(f"\u26a0 This run was {text}." if text else "")
            self.caveat.setVisible(bool(text))

        run_task(lambda progress, should_stop: run_caveat(run_dir), context=self, on_done=done)

    def use_run(self, run_dir: str) -> None:
        """Choose this run (the runs list's "Live" action) and show the page."""
        self.run_combo.select(run_dir)
        self.state.pageRequested.emit("live")

    def _run_selected(self, run_dir: str) -> None:
        if self.worker is None:
            self.run_combo.select(run_dir)

    def _pick_run_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Run or ensemble folder", str(self.state.runs_root))
        if path:
            self.run_combo.select(path)

    def _pick_model_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Exported model", str(self.state.runs_root),
                                              "Exported models (*.onnx *.pt);;All files (*)")
        if path:
            self.run_combo.select(path)

    # -- cameras -----------------------------------------------------------------------------
    def find_cameras(self) -> None:
        from fer_engine.live import list_cameras

        self.source.camera_combo.clear()
        self.source.camera_combo.addItem("looking for cameras…", None)
        self._cameras_task = run_task(lambda progress, should_stop: list_cameras(),
                                      on_done=self.source.set_cameras,
                                      on_error=lambda msg, _tb: self.source.set_cameras([]))

    # -- session ---------------------------------------------------------------------------------
    def current_settings(self) -> LiveSettings:
        base = LiveSettings(run_dir=self.run_dir(), source_kind=self.source.kind(), source=self.source.spec())
        return self.settings_panel.apply_to(base)

    def start(self) -> None:
        if self.worker is not None:
            return
        s = self.current_settings()
        problem = self._check(s)
        if problem:
            self.show_message(problem, "error")
            return
        self._clear_session()
        self.session = s
        self.show_message(f"Starting {s.source_kind} {s.source}…", "info")
        self.view.clear("Starting…")
        self.worker = LiveWorker(s)
        self.worker.status.connect(lambda text: self.show_message(text, "info"))
        self.worker.frameReady.connect(self._show_latest)
        self.worker.ended.connect(self._ended)
        self.worker.recordingSaved.connect(self._recording_saved)
        self.worker.notice.connect(lambda text: self.show_message(text, "error"))
        self.worker.finished.connect(self._worker_finished)
        self._set_running(True)
        self.worker.start()

    @staticmethod
    def _check(s: LiveSettings) -> str:
        if not s.run_dir:
            return ("Choose a run (or an ensemble) first: train one, pick its folder with “Folder…”, "
                    "or an exported model with “Model file…”.")
        if not s.source:
            return ("No camera was found: connect one and press “Find cameras”, or choose a video file "
                    "or an image folder." if s.source_kind == "camera" else "Choose a video file or an image folder.")
        return ""

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.stop()

    def shutdown(self) -> None:
        """Called by the main window on close: stop the worker and wait for it."""
        if self.worker is not None:
            self.worker.stop()
            self.worker.wait(5000)

    def _clear_session(self) -> None:
        """Forget everything the previous session showed (frame, fps, probabilities, snapshot)."""
        self.latest = None
        self.fps_label.setText("– fps")
        self.latency_label.setText("")
        self.faces_label.setText("")
        self.cam_note.setText("")
        self.bars.show_faces([], np.zeros((0, len(self.bars.class_names))))
        self.snapshot_btn.setEnabled(False)

    def _show_latest(self) -> None:
        if self.worker is None:
            return
        item = self.worker.take_latest()
        if item is None:
            return
        self.latest = item
        r = item.result
        self.view.show_frame(item.annotated)
        self.snapshot_btn.setEnabled(True)
        self.fps_label.setText(f"{r.fps:.1f} fps")
        lat = r.mean_latency_ms or r.latency_ms
        self.latency_label.setText("mean capture {:.1f} · detect {:.1f} · classify {:.1f}{} ms  ({} face{})".format(
            lat["capture"], lat["detect"], lat["classify"],
            f" · Grad-CAM {lat['cam']:.1f}" if lat.get("cam", 0) >= 0.05 else "",
            len(r.boxes), "" if len(r.boxes) == 1 else "s"))
        self.bars.set_classes(r.class_names)
        self.bars.show_faces(r.track_ids, r.smoothed)
        self.faces_label.setText("   ".join(f"#{t}: <b>{lab}</b> {c:.0%}" for t, lab, c in
                                            zip(r.track_ids[:3], r.labels, r.confidences)))
        self.cam_note.setText(self._cam_text(r))
        if self.banner.property("kind") == "info":
            self.banner.hide()

    def _cam_text(self, r) -> str:
        """Which face the heat map explains, or why it shows nothing."""
        from fer_engine.eval.cam import FLAT_HINT, is_flat

        if r.cam is None or self.session is None or not self.session.cam:
            return ""
        i = [int(t) for t in r.track_ids].index(r.cam_track) if r.cam_track in list(r.track_ids) else -1
        target = r.labels[i] if i >= 0 else "?"
        method = self.settings_panel.cam_method.currentText()
        if is_flat(r.cam):
            return f"{method} of face #{r.cam_track} ({target}): flat map, {FLAT_HINT}"
        return f"{method} of face #{r.cam_track}: red = what raises the {target} score most"

    def _ended(self, how: str, message: str) -> None:
        if how == FAILED:
            self.show_message(message, "error")
            self.view.clear(f"Stopped: {message}")
        elif how == ENDED:
            self.show_message(f"{message}. Press Start to play it again.", "ok")
        else:
            self.show_message("Stopped.", "ok")

    def _worker_finished(self) -> None:
        self.worker = None
        self.record_btn.setChecked(False)
        self._set_running(False)

    def _set_running(self, running: bool) -> None:
        self.start_btn.setEnabled(not running)
        self.stop_btn.setEnabled(running)
        self.record_btn.setEnabled(running)
        self.run_combo.setEnabled(not running)
        self.source.setEnabled(not running)
        self.snapshot_btn.setEnabled(self.latest is not None)

    def _settings_changed(self) -> None:
        if self.worker is not None:
            self.worker.update_settings(self.current_settings())

    # -- saving ---------------------------------------------------------------------------------
    def _out_dir(self) -> Path:
        return Path(self.out_dir.text().strip() or Path(self.state.runs_root).parent / "fer-studio-live")

    def snapshot(self) -> list[Path]:
        from fer_engine.live import RecordingError, save_snapshot

        if self.latest is None:
            return []
        item = self.latest
        try:
            paths = save_snapshot(self._out_dir(), item.frame.image, item.annotated, item.result, item.margin,
                                  context=self._snapshot_context(item))
        except (RecordingError, OSError) as e:
            self.show_message(str(e), "error")
            return []
        self.show_message(f"Snapshot saved: {paths[0]} (+ {len(paths) - 1} files)", "ok")
        self.state.notify(f"Snapshot saved to {paths[0].parent}")
        return paths

    def _snapshot_context(self, item) -> dict:
        """Which run, checkpoint and source made the frame's predictions (for the JSON)."""
        from fer_engine.eval.analysis import run_context

        s = self.session
        c = run_context(s.run_dir)
        return {"run": c.run_name, "run_id": c.run_id, "run_dir": str(Path(s.run_dir).resolve()),
                "checkpoint": c.checkpoint, "trained_on": c.data, "source_kind": s.source_kind,
                "source": s.source if s.source_kind == "camera" else str(Path(s.source).resolve()),
                "image": item.result.name}

    def _record_toggled(self, on: bool) -> None:
        if self.worker is None:
            return
        if on:
            path = self._out_dir() / time.strftime("recording-%Y%m%d-%H%M%S.mp4")
            self.worker.start_recording(path)
            self.show_message(f"Recording to {path}…", "info")
        else:
            self.worker.stop_recording()

    def _recording_saved(self, path: str, frames: int) -> None:
        self.show_message(f"Recording saved: {path} ({frames} frames)", "ok")

    def show_message(self, text: str, kind: str = "info") -> None:
        self.banner.setText(text)
        self.banner.setProperty("kind", kind)
        self.banner.setStyleSheet(_BANNER[kind] + "padding:6px;border-radius:4px;")
        self.banner.show()

    def _pick_out_dir(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Save snapshots and recordings to", self.out_dir.text())
        if path:
            self.out_dir.setText(path)
