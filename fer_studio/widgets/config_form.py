"""The run-config form, generated from `config_form_spec` (no widget per option).

One page per config section in a tool box; every edit replaces `state.config` through
`RunConfig.replace`, and the form follows `state.configChanged` (presets, imports).
Problems from `check_config` appear in place under the key they concern; keys whose
trick is on are shown in bold.
"""
from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QFormLayout, QLabel, QScrollArea, QToolBox, QVBoxLayout,
                               QWidget)

from fer_engine.config import ConfigError

from ..config_form_spec import EDITABLE_CHOICES, SECTION_TITLES, active_keys, sections
from ..state import AppState
from .field_editors import Editor, make_editor

SEVERITY_COLOURS = {"error": "#c0392b", "warning": "#b9770e", "info": "#2874a6"}


def check(cfg) -> list:
    """`check_config(cfg)` from the tricks registry (no problems when it is not there)."""
    try:
        from fer_engine.recipe.checks import check_config
    except ImportError:
        return []
    return list(check_config(cfg))


class ConfigForm(QWidget):
    problemsChanged = Signal(list)  # the current Problem list

    def __init__(self, state: AppState, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        self.editors: dict[str, Editor] = {}
        self.labels: dict[str, QLabel] = {}
        self.problem_labels: dict[str, QLabel] = {}
        self._section_index: dict[str, int] = {}
        self.inactive: dict[str, str] = {}  # key -> why it has no effect (data layout, machine)
        self.disabled: set[str] = set()  # inactive keys whose editor is disabled
        self._updating = False
        self.toolbox = QToolBox()
        self.general_problems = QLabel(wordWrap=True)
        self.general_problems.hide()
        for section, specs in sections().items():
            page = QWidget()
            form = QFormLayout(page)
            form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
            for spec in specs:
                editor = make_editor(spec, lambda v, k=spec.key: self._edited(k, v),
                                     editable_choice=spec.key in EDITABLE_CHOICES)
                label = QLabel(spec.label)
                label.setToolTip(spec.tooltip)
                editor.widget.setToolTip(spec.tooltip)
                problem = QLabel(wordWrap=True)
                problem.hide()
                box = QVBoxLayout()
                box.setSpacing(1)
                box.addWidget(editor.widget)
                box.addWidget(problem)
                form.addRow(label, box)
                self.editors[spec.key], self.labels[spec.key] = editor, label
                self.problem_labels[spec.key] = problem
            scroll = QScrollArea(widgetResizable=True)
            scroll.setWidget(page)
            self._section_index[section] = self.toolbox.addItem(scroll, SECTION_TITLES.get(section, section))
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.general_problems)
        lay.addWidget(self.toolbox)
        state.configChanged.connect(self.load_config)
        self.load_config()

    def load_config(self) -> None:
        """Show `state.config` in the editors (without echoing edits back)."""
        self._updating = True
        try:
            for key, editor in self.editors.items():
                editor.set_value(self.state.config.get(key))
        finally:
            self._updating = False
        self.show_problems()

    def _edited(self, key: str, value: Any) -> None:
        if self._updating or self.state.config.get(key) == value:
            return
        try:
            cfg = self.state.config.replace(**{key: value})
        except ConfigError as e:
            self._show_problem(key, "error", str(e))
            return
        self.state.set_config(cfg)

    def _show_problem(self, key: str, severity: str, message: str) -> None:
        label = self.problem_labels[key]
        colour = SEVERITY_COLOURS.get(severity, SEVERITY_COLOURS["warning"])
        mark = "\u2139" if severity == "info" else "\u26a0"
        label.setText(f"<span style='color:{colour}'>{mark} {html.escape(message)}</span>")
        label.show()

    def set_inactive(self, reasons: dict[str, str], disable: set[str] = frozenset()) -> None:
        """Say under each key why it has no effect here; `disable` those that cannot have one."""
        self.inactive, self.disabled = dict(reasons), set(disable) & set(reasons)
        for key, editor in self.editors.items():
            editor.widget.setEnabled(key not in self.disabled)
        self.show_problems()

    def show_problems(self) -> None:
        problems = check(self.state.config)
        for label in self.problem_labels.values():
            label.hide()
        for key, reason in self.inactive.items():
            if key in self.problem_labels:
                self._show_problem(key, "info", reason)
        per_section: dict[str, int] = {}
        general = []
        for p in problems:
            key, severity = getattr(p, "key", ""), getattr(p, "severity", "warning")
            if key in self.problem_labels:
                self._show_problem(key, severity, p.message)
                section = key.split(".")[0]
                per_section[section] = per_section.get(section, 0) + 1
            else:
                general.append(f"{key}: {p.message}" if key else p.message)
        for section, index in self._section_index.items():
            title = SECTION_TITLES.get(section, section)
            n = per_section.get(section, 0)
            self.toolbox.setItemText(index, f"{title}   ⚠ {n}" if n else title)
        self.general_problems.setText("<br>".join(f"⚠ {html.escape(g)}" for g in general))
        self.general_problems.setVisible(bool(general))
        self._mark_active_tricks()
        self.problemsChanged.emit(problems)

    def _mark_active_tricks(self) -> None:
        on_keys = active_keys(self.state.config)
        for key, label in self.labels.items():
            font = label.font()
            font.setBold(key in on_keys)
            label.setFont(font)
