"""A checkable list of runs (name, status, best val acc) to pick runs to overlay."""
from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QWidget


# item data roles, plain strings only (a Python tuple in item data corrupts PySide's heap)
_NAME, _ACC, _STATUS = Qt.UserRole + 1, Qt.UserRole + 2, Qt.UserRole + 3


def _set_status(item: QListWidgetItem, status: str) -> None:
    name, acc = item.data(_NAME), item.data(_ACC)
    item.setData(_STATUS, status)
    item.setText(f"{name}  ({status}{acc})")


class RunChecklist(QListWidget):
    checkedChanged = Signal(list)  # run directories (str) now checked, in list order

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._wanted: set[str] = set()  # checked runs, also those not listed yet
        self._live: dict[str, str] = {}  # run dir -> status of runs the page follows live
        self.itemChanged.connect(self._user_changed)

    def _user_changed(self, _item) -> None:
        self._wanted = set(self.checked())
        self.checkedChanged.emit(self.checked())

    def set_runs(self, summaries) -> None:
        """Fill from `runs_list.RunSummary` rows, keeping what was checked; runs followed live keep
        the status last given to `set_status` (the disk lags them)."""
        keep = set(self.checked()) | self._wanted
        live = self._live
        self.blockSignals(True)
        self.clear()
        for s in summaries:
            acc = "" if math.isnan(s.best_val_acc) else f" · {100 * s.best_val_acc:.1f}%"
            item = QListWidgetItem()
            item.setData(_NAME, s.name)
            item.setData(_ACC, acc)
            _set_status(item, live.get(str(s.path), s.status))
            item.setToolTip(str(s.path))
            item.setData(Qt.UserRole, str(s.path))
            item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
            item.setCheckState(Qt.Checked if str(s.path) in keep else Qt.Unchecked)
            self.addItem(item)
        self.blockSignals(False)

    def set_status(self, run_dir: str, status: str) -> None:
        """A followed run changed status (started, stopped, resumed): say so at once."""
        self._live[run_dir] = status
        for i in range(self.count()):
            if self.item(i).data(Qt.UserRole) == run_dir:
                self.blockSignals(True)
                _set_status(self.item(i), status)
                self.blockSignals(False)

    def status(self, run_dir: str) -> str:
        """The status shown (or to be shown) for a run; "" for a run neither listed nor followed."""
        if run_dir in self._live:
            return self._live[run_dir]
        return next((self.item(i).data(_STATUS) for i in range(self.count())
                     if self.item(i).data(Qt.UserRole) == run_dir), "")

    def checked(self) -> list[str]:
        return [self.item(i).data(Qt.UserRole) for i in range(self.count())
                if self.item(i).checkState() == Qt.Checked]

    def set_checked(self, run_dirs: list[str]) -> None:
        """Check exactly these runs (kept for runs the list does not show yet)."""
        self._wanted = set(run_dirs)
        self.blockSignals(True)
        for i in range(self.count()):
            item = self.item(i)
            item.setCheckState(Qt.Checked if item.data(Qt.UserRole) in self._wanted else Qt.Unchecked)
        self.blockSignals(False)
        self.checkedChanged.emit(list(run_dirs))
