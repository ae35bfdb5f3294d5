"""The main window: a sidebar over the pages in `pages.PAGES`, menus, status bar.

Pages (`pages.base.Page`) are imported by name; one that is missing or fails to import shows
its error in its place instead of taking the window down.
Closing while runs train asks whether to stop them or leave them running.
"""
from __future__ import annotations

import importlib
import logging
import traceback

from PySide6.QtCore import QByteArray, QSize, Qt, QTimer, QUrl
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (QApplication, QFileDialog, QHBoxLayout, QLabel, QListWidget,
                               QListWidgetItem, QMainWindow, QMessageBox, QPlainTextEdit,
                               QStackedWidget, QVBoxLayout, QWidget)

from . import __doc__ as package_doc
from . import config_io, theme
from .pages import PAGES
from .pages.base import Page
from .state import AppState

log = logging.getLogger(__name__)

#: Answers of the close-while-training question.
STOP_RUNS, LEAVE_RUNNING, CANCEL = "stop", "leave", "cancel"
RUNS_ENDED_POLL_MS = 200  # the close question looks this often whether its runs have ended


def _load_page(module: str, cls: str, state: AppState) -> Page:
    """The page instance, or an error page saying why it could not be loaded."""
    try:
        return getattr(importlib.import_module(module), cls)(state)
    except Exception:  # noqa: BLE001 - one broken page must not stop the app
        log.exception("page %s.%s failed to load", module, cls)
        page = Page()
        page.title = cls
        text = QPlainTextEdit(readOnly=True)
        text.setPlainText(f"This page could not be loaded:\n\n{traceback.format_exc()}")
        QVBoxLayout(page).addWidget(text)
        return page


class MainWindow(QMainWindow):
    def __init__(self, state: AppState, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        self.setWindowTitle("fer-studio")
        self.pages: dict[str, Page] = {}
        self.sidebar = QListWidget()
        self.sidebar.setFixedWidth(150)
        self.sidebar.setIconSize(QSize(0, 0))
        self.sidebar.setStyleSheet("QListWidget { font-size: 14px; } QListWidget::item { padding: 9px 10px; }")
        self.stack = QStackedWidget()
        for key, module, cls in PAGES:
            page = _load_page(module, cls, state)
            self.pages[key] = page
            self.stack.addWidget(page)
            item = QListWidgetItem(page.title or key)
            item.setData(Qt.UserRole, key)
            self.sidebar.addItem(item)
        self.sidebar.currentRowChanged.connect(self.stack.setCurrentIndex)
        central = QWidget()
        row = QHBoxLayout(central)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self.sidebar)
        row.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self.runs_label = QLabel()
        self.statusBar().addPermanentWidget(self.runs_label)
        self._build_menus()
        state.pageRequested.connect(self.show_page)
        state.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        state.runsChanged.connect(self._show_runs_root)
        self._show_runs_root()
        self._restore()

    # -- navigation ------------------------------------------------------------------
    def show_page(self, key: str) -> None:
        for row in range(self.sidebar.count()):
            if self.sidebar.item(row).data(Qt.UserRole) == key:
                self.sidebar.setCurrentRow(row)
                return

    def current_page_key(self) -> str:
        item = self.sidebar.currentItem()
        return item.data(Qt.UserRole) if item else ""

    def _show_runs_root(self) -> None:
        self.runs_label.setText(f"Runs: {self.state.runs_root}")

    # -- menus -------------------------------------------------------------------------
    def _build_menus(self) -> None:
        def action(menu, text, slot, shortcut=None):
            a = QAction(text, self)
            if shortcut:
                a.setShortcut(QKeySequence(shortcut))
            a.triggered.connect(slot)
            menu.addAction(a)
            return a

        file_menu = self.menuBar().addMenu("&File")
        action(file_menu, "Open dataset &folder…", self._open_folder, "Ctrl+O")
        action(file_menu, "Open FER2013 &CSV…", self._open_csv)
        action(file_menu, "Use the &demo dataset", lambda: self.state.set_data_path("demo"))
        file_menu.addSeparator()
        action(file_menu, "&Import config…", lambda: config_io.import_config(self, self.state))
        action(file_menu, "&Export config…", lambda: config_io.export_config(self, self.state))
        file_menu.addSeparator()
        action(file_menu, "&Quit", self.close, QKeySequence.Quit)

        runs_menu = self.menuBar().addMenu("&Runs")
        action(runs_menu, "Show &runs list", lambda: self.show_page("runs"))
        action(runs_menu, "Choose runs &folder…", self._choose_runs_root)
        action(runs_menu, "Open runs folder in file manager",
               lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.state.runs_root))))
        runs_menu.addSeparator()
        low = action(runs_menu, "Train at &lower priority",
                     lambda on: setattr(self.state.settings, "low_priority_training", bool(on)))
        low.setCheckable(True)
        low.setChecked(self.state.settings.low_priority_training)
        low.setToolTip("Runs started here yield the CPU to other programs (nice +5): the window stays "
                       "smooth on a busy machine, training is slower")

        view_menu = self.menuBar().addMenu("&View")
        group = QActionGroup(self)
        for name in theme.THEMES:
            a = action(view_menu, f"{name.title()} theme", lambda _=False, n=name: self.set_theme(n))
            a.setCheckable(True)
            a.setChecked(name == self.state.settings.theme)
            group.addAction(a)

        help_menu = self.menuBar().addMenu("&Help")
        action(help_menu, "&About fer-studio", self._about)

    def _open_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open dataset folder")
        if path:
            self.state.set_data_path(path)
            self.show_page("setup")

    def _open_csv(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open FER2013 CSV", "", "CSV files (*.csv);;All files (*)")
        if path:
            self.state.set_data_path(path)
            self.show_page("setup")

    def _choose_runs_root(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Runs folder", str(self.state.runs_root))
        if path:
            self.state.set_runs_root(path)

    def set_theme(self, name: str) -> None:
        self.state.settings.theme = name
        theme.apply_theme(QApplication.instance(), name)

    def _about(self) -> None:
        QMessageBox.about(self, "About fer-studio",
                          f"<b>fer-studio</b><br>{package_doc}<br><br>A workbench for facial-expression "
                          "recognition: inspect data, train with live curves, analyse runs, "
                          "try models live.")

    # -- persistence ---------------------------------------------------------------------
    def _restore(self) -> None:
        s = self.state.settings
        if s.window_geometry:
            self.restoreGeometry(QByteArray.fromBase64(s.window_geometry.encode()))
        else:
            self.resize(1400, 900)
        if s.window_state:
            self.restoreState(QByteArray.fromBase64(s.window_state.encode()))
        self.show_page(s.last_page if s.last_page in self.pages else next(iter(self.pages), ""))

    def save_settings(self) -> None:
        s = self.state.settings
        s.window_geometry = bytes(self.saveGeometry().toBase64()).decode()
        s.window_state = bytes(self.saveState().toBase64()).decode()
        s.last_page = self.current_page_key()
        s.runs_root = str(self.state.runs_root)
        s.save()

    # -- closing ----------------------------------------------------------------------------
    def active_runs(self) -> list[str]:
        """Run directories this window started and that are still training."""
        out: list[str] = []
        for page in self.pages.values():
            out.extend(page.active_runs())
        return out

    def ask_close_with_runs(self, runs: list[str]) -> str:
        """Ask what to do with training runs: STOP_RUNS, LEAVE_RUNNING or CANCEL."""
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Question)
        box.setWindowTitle("Runs are training")
        names = "\n".join(f"  • {r}" for r in runs)
        box.setText(f"{len(runs)} run(s) are still training:\n{names}")
        box.setInformativeText("Stop them now, or leave them running? A run left running keeps "
                               "writing its run folder and shows up live when fer-studio is opened again.")
        stop = box.addButton("Stop runs", QMessageBox.DestructiveRole)
        leave = box.addButton("Leave running", QMessageBox.AcceptRole)
        box.addButton(QMessageBox.Cancel)
        box.setDefaultButton(leave)
        # the runs keep training while the question is open: once none of them is left, the
        # question is moot and the window closes (a close nobody answers cannot hang for ever)
        moot = []

        def check() -> None:
            if set(runs).isdisjoint(self.active_runs()):
                moot.append(True)
                box.done(0)

        watch = QTimer(box, interval=RUNS_ENDED_POLL_MS, timeout=check)
        watch.start()
        box.exec()
        watch.stop()
        if moot:
            return LEAVE_RUNNING  # every run ended meanwhile: nothing left to stop
        clicked = box.clickedButton()
        return STOP_RUNS if clicked is stop else LEAVE_RUNNING if clicked is leave else CANCEL

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        runs = self.active_runs()
        if runs:
            answer = self.ask_close_with_runs(runs)
            if answer == CANCEL:
                event.ignore()
                return
            for page in self.pages.values():
                if answer == STOP_RUNS:
                    page.stop_all_runs()
                else:
                    page.detach_all_runs()
        for page in self.pages.values():
            page.shutdown()
        self.save_settings()
        event.accept()
