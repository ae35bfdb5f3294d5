"""Progress of a run: epoch/step bar with ETA, device, throughput and the worker's phase."""
from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QVBoxLayout, QWidget

from ..run_curves import RunCurves


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class RunProgress(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(True)
        self.phase = QLabel()
        self.info = QLabel()
        self.info.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.phase, 1)
        row.addWidget(self.info)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.bar)
        lay.addLayout(row)
        self.show_curves(None)

    def show_curves(self, c: RunCurves | None) -> None:
        if c is None:
            self.bar.setValue(0)
            self.bar.setFormat("no run")
            self.phase.setText("Press Train to start a run with the current set-up.")
            self.info.setText("")
            return
        self.bar.setValue(int(1000 * c.fraction_done()))
        if c.epochs:
            self.bar.setFormat(f"epoch {c.epoch}/{c.epochs} · step {c.step}/{c.steps_per_epoch}"
                               f" · ETA {format_duration(c.eta_seconds())}")
        else:
            self.bar.setFormat(c.status)
        phase = c.phase.replace("_", " ")
        if c.phase_fraction >= 0:
            phase += f" {100 * c.phase_fraction:.0f}%"
        detail = f" — {c.phase_detail}" if c.phase_detail else ""
        status = c.status if c.status not in ("running", "starting") else phase + detail
        if c.fold:
            status = f"{c.fold} · {status}"
        self.phase.setText(f"<b>{c.name or c.run_id}</b>: {status}" + (f" · {c.best}" if c.best else ""))
        parts = [f"device {c.device}" if c.device else "", _devices(c),
                 f"{c.img_per_s:,.0f} img/s" if c.img_per_s else ""]
        self.info.setText("  ·  ".join(p for p in parts + c.notes if p))


def _devices(c: RunCurves) -> str:
    """The processes of a multi-device run and its global batch ("" for one process)."""
    if len(c.devices) < 2:
        return ""
    return f"{len(c.devices)} processes on {', '.join(c.devices)} · global batch {c.global_batch}"
