"""Progress of a run: epoch/step bar with ETA, device, throughput, the worker's phase and,
for a time-budgeted run, the budget used and left with its plan."""
from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QVBoxLayout, QWidget

from fer_engine.training.budget import format_duration as budget_duration

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
        self.budget = QLabel(textFormat=Qt.PlainText, wordWrap=True)
        row = QHBoxLayout()
        row.addWidget(self.phase, 1)
        row.addWidget(self.info)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.bar)
        lay.addLayout(row)
        lay.addWidget(self.budget)
        self.show_curves(None)

    def show_curves(self, c: RunCurves | None) -> None:
        if c is None:
            self.bar.setValue(0)
            self.bar.setFormat("no run")
            self.phase.setText("Press Train to start a run with the current set-up.")
            self.info.setText("")
            self._show_budget(None)
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
        self._show_budget(c)

    def _show_budget(self, c: RunCurves | None) -> None:
        line = budget_line(c) if c is not None else ""
        self.budget.setText(line)
        self.budget.setToolTip(plan_history(c) if line and c is not None else "")
        self.budget.setVisible(bool(line))


def budget_line(c: RunCurves, now: float | None = None) -> str:
    """"Budget 15 min · used 3.2 min · left 11.8 min · 14 epochs planned (re-planned after epoch 4:
    slower ...)"; "" for a run without a time budget (or before its first plan)."""
    used, budget = c.budget_used(now), c.budget_s
    if used is None or budget is None:
        return ""
    plan = c.plans[-1]
    left = f"left {budget_duration(budget - used)}" if used <= budget else f"over by {budget_duration(used - budget)}"
    line = f"Budget {budget_duration(budget)} · used {budget_duration(used)} · {left} · {plan.epochs} epochs planned"
    if plan.epochs_before is not None:
        line += f" (re-planned after epoch {plan.at_step // max(1, plan.steps_per_epoch)}: {plan.reason})"
    return line


def plan_history(c: RunCurves) -> str:
    """Every plan of the run, one a line (the budget line's tooltip)."""
    lines = []
    for p in c.plans:
        when = f"after epoch {p.at_step // max(1, p.steps_per_epoch)}" if p.epochs_before is not None \
            else f"at step {p.at_step}"
        change = f"{p.epochs_before} → {p.epochs}" if p.epochs_before is not None else f"{p.epochs}"
        lines.append(f"{budget_duration(p.used_s)} used, {when}: {change} epochs — {html.escape(p.reason)}")
    return "<br>".join(lines)


def _devices(c: RunCurves) -> str:
    """The processes of a multi-device run and its global batch ("" for one process)."""
    if len(c.devices) < 2:
        return ""
    return f"{len(c.devices)} processes on {', '.join(c.devices)} · global batch {c.global_batch}"
