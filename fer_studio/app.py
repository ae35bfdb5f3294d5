"""`fer-studio` with no arguments: the Qt application around the main window."""
from __future__ import annotations

import sys

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from . import theme
from .gc_thread import collect_on_gui_thread
from .assets import APP_ICON
from .main_window import MainWindow
from .preload import preload_heavy_modules
from .settings import Settings
from .state import AppState


def create_window(settings: Settings | None = None) -> MainWindow:
    """A MainWindow over the saved settings (the app must exist); used by main() and tests."""
    settings = settings or Settings.load()
    app = QApplication.instance()
    collect_on_gui_thread(app)
    app.setWindowIcon(QIcon(str(APP_ICON)))
    theme.apply_theme(app, settings.theme)
    state = AppState(settings=settings)
    if settings.last_data and settings.last_data != state.config.data.path:
        state.config = state.config.replace(**{"data.path": settings.last_data})
    return MainWindow(state)


def main(argv: list[str] | None = None) -> int:
    app = QApplication.instance() or QApplication(sys.argv if argv is None else argv)
    app.setApplicationName("fer-studio")
    app.setOrganizationName("fer-studio")
    app.setDesktopFileName("fer-studio")  # Wayland and task bars match the window to its launcher
    window = create_window()
    window.show()
    preload_heavy_modules()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
