"""One editor per config value kind (bool, int, float, choice, text, list), chosen by table.

An editor wraps a Qt input and offers `value()`, `set_value(v)` and a `changed` callback,
so the generated config form never branches on types itself.
"""
from __future__ import annotations

import math
from typing import Any, Callable

from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QSpinBox,
                               QWidget)

from ..config_form_spec import FieldSpec, format_list, parse_list

INT_MAX = 2_000_000_000


class SciSpinBox(QDoubleSpinBox):
    """A float spin box that shows 1e-05 as such (no fixed decimals), steps by magnitude."""

    def __init__(self, default: float = 0.0, parent: QWidget | None = None):
        super().__init__(parent)
        self.setDecimals(12)
        self.setRange(0.0, 1e9)
        self.setKeyboardTracking(False)
        self.setSingleStep(10 ** math.floor(math.log10(abs(default))) if default else 0.1)

    def textFromValue(self, value: float) -> str:  # noqa: N802 - Qt override
        return f"{value:.6g}"

    def valueFromText(self, text: str) -> float:  # noqa: N802 - Qt override
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):
        from PySide6.QtGui import QValidator

        t = text.strip().lower()
        try:
            float(t)
            return QValidator.Acceptable, text, pos
        except ValueError:
            ok = t in ("", "-", ".") or t.endswith(("e", "e-", "e+"))
            return (QValidator.Intermediate if ok else QValidator.Invalid), text, pos


class Editor:
    """A config value editor: `widget`, `value()`, `set_value(v)`; calls `on_change(v)`."""

    def __init__(self, spec: FieldSpec, widget: QWidget, on_change: Callable[[Any], None]):
        self.spec, self.widget, self._on_change = spec, widget, on_change

    def emit(self, *_: Any) -> None:
        try:
            value = self.value()
        except ValueError as e:
            self.widget.setToolTip(str(e))
            self.widget.setStyleSheet("border: 1px solid #c0392b;")
            return
        self.widget.setStyleSheet("")
        self._on_change(value)


class BoolEditor(Editor):
    def __init__(self, spec, on_change):
        super().__init__(spec, QCheckBox(), on_change)
        self.widget.toggled.connect(self.emit)

    def value(self) -> bool:
        return self.widget.isChecked()

    def set_value(self, v: bool) -> None:
        self.widget.setChecked(bool(v))


class IntEditor(Editor):
    def __init__(self, spec, on_change):
        super().__init__(spec, QSpinBox(), on_change)
        self.widget.setRange(0, INT_MAX)
        self.widget.setKeyboardTracking(False)
        self.widget.valueChanged.connect(self.emit)

    def value(self) -> int:
        return self.widget.value()

    def set_value(self, v: int) -> None:
        self.widget.setValue(int(v))


class FloatEditor(Editor):
    def __init__(self, spec, on_change):
        super().__init__(spec, SciSpinBox(spec.default), on_change)
        self.widget.valueChanged.connect(self.emit)

    def value(self) -> float:
        return float(self.widget.value())

    def set_value(self, v: float) -> None:
        self.widget.setValue(float(v))


class ChoiceEditor(Editor):
    def __init__(self, spec, on_change, editable: bool = False):
        box = QComboBox()
        box.addItems(list(spec.choices))
        box.setEditable(editable)
        super().__init__(spec, box, on_change)
        box.currentTextChanged.connect(self.emit)

    def value(self) -> str:
        return self.widget.currentText()

    def set_value(self, v: str) -> None:
        if self.widget.findText(v) < 0:
            self.widget.addItem(v)  # a value from a file that the table does not know
        self.widget.setCurrentText(v)


class TextEditor(Editor):
    def __init__(self, spec, on_change):
        super().__init__(spec, QLineEdit(), on_change)
        self.widget.editingFinished.connect(self.emit)

    def value(self) -> str:
        return self.widget.text()

    def set_value(self, v: str) -> None:
        self.widget.setText(str(v))


class ListEditor(TextEditor):
    def __init__(self, spec, on_change):
        super().__init__(spec, on_change)
        self.widget.setPlaceholderText("comma-separated, empty = none")

    def value(self) -> list:
        return parse_list(self.widget.text(), self.spec.type)

    def set_value(self, v: list) -> None:
        self.widget.setText(format_list(v))


EDITORS: dict[str, Callable[[FieldSpec, Callable[[Any], None]], Editor]] = {
    "bool": BoolEditor, "int": IntEditor, "float": FloatEditor, "choice": ChoiceEditor,
    "text": TextEditor, "list": ListEditor,
}


def make_editor(spec: FieldSpec, on_change: Callable[[Any], None], editable_choice: bool = False) -> Editor:
    if spec.kind == "choice" and editable_choice:
        return ChoiceEditor(spec, on_change, editable=True)
    return EDITORS[spec.kind](spec, on_change)
