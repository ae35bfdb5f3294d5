"""Set-up page: choose and inspect the data, pick a backbone and tricks, preview the LR.

The dataset report (and sample thumbnails) are computed by `fer_engine.data.report` on a
pool thread with progress and cancel; the config form is generated from the config
schema and the tricks registry; every edit goes to `state.config`.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (QGroupBox, QInputDialog, QLabel, QMessageBox, QSplitter,
                               QTabWidget, QVBoxLayout, QWidget)

from fer_engine import presets
from fer_engine import devices
from fer_engine.models import DEFAULT_REASONS, default_backbone
from fer_engine.training import distributed

from .. import config_io
from ..report_view import ReportView, build_report_view
from ..state import AppState
from ..tasks import Task, run_task
from ..widgets.backbone_chooser import BackboneChooser
from ..widgets.class_counts_chart import ClassCountsChart
from ..widgets.config_form import ConfigForm
from ..widgets.data_source_picker import DataSourcePicker
from ..widgets.dataset_summary import DatasetSummary
from ..widgets.dataset_warnings import DatasetWarnings, count_text
from ..widgets.device_picker import DevicePicker
from ..widgets.lr_preview import LrPreview
from ..widgets.preset_bar import PresetBar
from ..widgets.sample_faces import SampleFaces
from ..widgets.task_progress import TaskProgress
from .base import Page

DEFAULT_STEPS_PER_EPOCH = 100  # LR preview before the data is known


def backbone_entries() -> list[tuple[str, str, str]]:
    """(name, combo text, description HTML) of every registered backbone (no counting)."""
    from fer_engine.models import BACKBONES

    out = []
    for name, spec in BACKBONES.items():
        size = spec.default_input_size
        pretrained = " · ImageNet weights available" if spec.supports_pretrained else ""
        out.append((name, f"{spec.title}  ({size}px)",
                    f"<b>{spec.title}</b> · input {size}×{size} · {spec.channels}-channel{pretrained}"
                    + (f"<br>{spec.notes}" if spec.notes else "")))
    return out


def backbone_params(name: str) -> int:
    """Parameter count (built on the meta device: up to a second for big timm models)."""
    from fer_engine.models import BACKBONES

    return BACKBONES.get(name).param_count()


#: DataConfig fields that change what a dataset report reads (format, label map, votes, subjects).
DATA_OPTIONS = ("format", "label_map", "label_mode", "sequence_frames", "sequence_first_neutral",
                "subject_regex", "split_by", "label_overrides")


def _amp_note(device: str) -> str:
    from fer_engine.training.components import resolve_device
    from fer_engine.training.precision import amp_note

    try:
        return amp_note(resolve_device(device))
    except Exception:  # noqa: BLE001 - an unknown device is check_config's to report
        return ""


class SetupPage(Page):
    title = "Set-up"

    def __init__(self, state: AppState, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        self.report: ReportView | None = None
        self._task: Task | None = None

        # data side
        self.picker = DataSourcePicker()
        self.task_progress = TaskProgress()
        self.report_error = QLabel(wordWrap=True)
        self.report_error.setStyleSheet("color: #c0392b;")
        self.report_error.hide()
        self.summary = DatasetSummary()
        self.chart = ClassCountsChart()
        self.samples = SampleFaces()
        self.warnings = DatasetWarnings()
        overview = QSplitter(Qt.Vertical)
        overview.addWidget(self.summary)
        overview.addWidget(self.chart)
        overview.setStretchFactor(1, 1)
        self.tabs = QTabWidget()
        self.tabs.addTab(overview, "Overview")
        self.tabs.addTab(self.samples, "Sample faces")
        self.tabs.addTab(self.warnings, "Warnings")
        data_box = QGroupBox("Data")
        data_lay = QVBoxLayout(data_box)
        for w in (self.picker, self.task_progress, self.report_error):
            data_lay.addWidget(w)
        data_lay.addWidget(self.tabs, 1)

        # recipe side
        self.preset_bar = PresetBar()
        self.backbone = BackboneChooser()
        self.devices = DevicePicker(state)
        self.form = ConfigForm(state)
        self.lr_preview = LrPreview()
        self.lr_preview.setMinimumHeight(170)
        self.lr_note = QLabel(wordWrap=True)
        recipe_box = QGroupBox("Recipe")
        recipe_lay = QVBoxLayout(recipe_box)
        recipe_lay.addWidget(self.preset_bar)
        recipe_lay.addWidget(QLabel("<b>Backbone</b>"))
        recipe_lay.addWidget(self.backbone)
        recipe_lay.addWidget(QLabel("<b>Devices</b>"))
        recipe_lay.addWidget(self.devices)
        recipe_lay.addWidget(QLabel("<b>Tricks and settings</b> (bold = switched on; hover for help)"))
        recipe_split = QSplitter(Qt.Vertical)
        recipe_split.addWidget(self.form)
        lr_box = QWidget()
        lr_lay = QVBoxLayout(lr_box)
        lr_lay.setContentsMargins(0, 0, 0, 0)
        lr_lay.addWidget(self.lr_preview, 1)
        lr_lay.addWidget(self.lr_note)
        recipe_split.addWidget(lr_box)
        recipe_split.setStretchFactor(0, 3)
        recipe_split.setStretchFactor(1, 1)
        recipe_lay.addWidget(recipe_split, 1)

        split = QSplitter(Qt.Horizontal)
        split.addWidget(data_box)
        split.addWidget(recipe_box)
        split.setSizes([620, 620])
        lay = QVBoxLayout(self)
        lay.addWidget(split)

        self._lr_timer = QTimer(self, singleShot=True, interval=120, timeout=self.update_lr_preview)
        self.picker.chosen.connect(state.set_data_path)
        self.task_progress.cancelRequested.connect(self._cancel_clicked)
        self.backbone.chosen.connect(lambda name: state.set_config(state.config.replace(**{"model.backbone": name})))
        self.preset_bar.loadRequested.connect(self.load_preset)
        self.preset_bar.saveRequested.connect(self.save_preset)
        self.preset_bar.importRequested.connect(lambda: config_io.import_config(self, state))
        self.preset_bar.exportRequested.connect(lambda: config_io.export_config(self, state))
        self._report_options: tuple | None = None  # the DATA_OPTIONS the shown report was read with
        state.configChanged.connect(self._config_changed)
        state.dataChanged.connect(self.start_report)

        self.backbone.set_backbones(backbone_entries())
        self._params_task: Task | None = None
        self.preset_bar.set_presets(presets.list_presets())
        self._config_changed()
        QTimer.singleShot(0, self, lambda: self.start_report(state.config.data.path))

    # -- dataset report ----------------------------------------------------------------------------
    def start_report(self, path: str) -> None:
        """Report on `path` in the background; a report already running is cancelled."""
        self.cancel_report()
        self.picker.set_current(path)
        self.picker.set_recent(self.state.settings.recent_datasets)
        self.report_error.hide()
        data = self.state.config.data
        size, channels = data.image_size, data.channels
        self._report_options = self._data_options()

        def job(progress, should_stop):
            from fer_engine.data.report import dataset_report

            report = dataset_report(path, progress=progress, should_stop=should_stop, image_size=size,
                                    channels=channels, val_fraction=data.val_fraction,
                                    test_fraction=data.test_fraction, split_seed=data.split_seed,
                                    cache_dir=data.cache_dir, **{k: getattr(data, k) for k in DATA_OPTIONS})
            return build_report_view(path, report, image_size=size, channels=channels,
                                     should_stop=should_stop)

        self.task_progress.start(f"Reading {'the demo dataset' if path == 'demo' else path} …")
        self._task = run_task(job, context=self, on_done=self.show_report, on_error=self._report_failed,
                              on_progress=self.task_progress.set_progress)
        self._task.cancelled.connect(self.task_progress.finish)

    def cancel_report(self) -> None:
        if self._task is not None and not self._task.done:
            self._task.cancel()
        self.task_progress.finish()

    def _cancel_clicked(self) -> None:
        self.cancel_report()
        self.state.notify("Dataset report cancelled")

    def report_running(self) -> bool:
        return self._task is not None and not self._task.done

    def show_report(self, view: ReportView) -> None:
        self.task_progress.finish()
        self.report = view
        self.chart.set_counts(view.class_names, view.counts)
        self.summary.set_rows(view.summary)
        self.samples.set_samples(view.samples)
        self.warnings.set_warnings(view.warnings)
        self._mark_inactive()
        title, tip = count_text(view.warnings)
        self.tabs.setTabText(2, title)
        self.tabs.setTabToolTip(2, tip)
        self.update_lr_preview()

    def _mark_inactive(self) -> None:
        """Grey out the split fractions the chosen layout ignores; note AMP's effect on this machine."""
        from fer_engine.data.splits import unused_fraction_keys

        unused = unused_fraction_keys(self.report.split_rule) if self.report else {}
        reasons = dict(unused)
        note = _amp_note(self.state.config.train.device)
        if note:
            reasons["train.amp"] = note
        self.form.set_inactive(reasons, disable=set(unused))

    def _report_failed(self, error: str, _traceback: str) -> None:
        self.task_progress.finish()
        self.report = None
        self.report_error.setText(f"Cannot read this dataset: {error}")
        self.report_error.show()

    def _count_params(self, name: str) -> None:
        """Show the backbone's parameter count once counted in the background."""
        if name in self.backbone.param_counts:
            return
        self._params_task = run_task(lambda progress, should_stop: backbone_params(name), context=self,
                                     on_done=lambda n: self.backbone.set_param_count(name, n))

    # -- config -----------------------------------------------------------------------------------------
    def _data_options(self) -> tuple:
        return tuple(getattr(self.state.config.data, k) for k in DATA_OPTIONS)

    def _config_changed(self) -> None:
        if self._report_options is not None and self._report_options != self._data_options():
            self.start_report(self.state.config.data.path)  # a new format / label map reads other faces
        cfg = self.state.config
        default = default_backbone(cfg.train.device, cfg.train.amp)
        self.backbone.set_machine_default(default, DEFAULT_REASONS[default])
        self.backbone.set_current(cfg.model.backbone)
        self._count_params(cfg.model.backbone)
        self._lr_timer.start()
        self._mark_inactive()

    def steps_per_epoch(self) -> int:
        """What the run will take per epoch: the training images its data settings keep
        (`train_fraction`, `max_per_class`), full batches, the step cap (the loop's own rule)."""
        from fer_engine.training.plan import kept_train_count, steps_per_epoch

        cfg = self.state.config
        train_counts = self.report.counts.get("train") if self.report else None
        if not train_counts:
            cap = cfg.train.max_steps_per_epoch
            return min(DEFAULT_STEPS_PER_EPOCH, cap) if cap else DEFAULT_STEPS_PER_EPOCH
        n = kept_train_count(train_counts, cfg.data)
        try:  # each of several processes visits its shard of the epoch
            n = distributed.shard_size(n, devices.plan_for(cfg).world)
        except ValueError:
            pass
        return steps_per_epoch(n, cfg.train)

    def update_lr_preview(self) -> None:
        from fer_engine.recipe.schedule import preview_lr, preview_note

        steps = self.steps_per_epoch()
        try:
            lr = preview_lr(self.state.config, steps)
        except Exception as e:  # noqa: BLE001 - an invalid schedule is shown, not raised
            self.lr_note.setText(f"<span style='color:#c0392b'>No preview: {e}</span>")
            self.lr_preview.set_schedule([], steps)
            return
        self.lr_preview.set_schedule(lr, steps)
        note = preview_note(self.state.config)
        basis = f"{steps} steps/epoch" + ("" if self.report else " (assumed until the data is read)")
        self.lr_note.setText(f"{note} · {basis}" if note else basis)

    # -- presets -------------------------------------------------------------------------------------------
    def load_preset(self, name: str) -> None:
        """Use a preset's recipe, keeping the chosen data."""
        try:
            cfg = presets.load_preset(name)
        except presets.PresetError as e:
            QMessageBox.warning(self, "Cannot load preset", str(e))
            return
        self.state.set_config(cfg.replace(**{"data.path": self.state.config.data.path, "name": ""}))
        self.state.notify(f"Preset {name} applied: the recipe was replaced (the data is kept)")

    def save_preset(self, name: str | None = None) -> bool:
        if name is None:
            name, ok = QInputDialog.getText(self, "Save preset", "Preset name (letters, digits, - _ .):")
            if not ok or not name.strip():
                return False
        try:
            path = presets.save_preset(name.strip(), self.state.config)
        except presets.PresetError as e:
            QMessageBox.warning(self, "Cannot save preset", str(e))
            return False
        self.preset_bar.set_presets(presets.list_presets(), name.strip())
        self.state.notify(f"Preset saved to {path}")
        return True
