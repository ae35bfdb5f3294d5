"""The main window's pages, in sidebar order: (key, module, class name), imported lazily.

A page is a QWidget constructed as `Page(state: AppState, parent=None)` with a `title`.
"""
from __future__ import annotations

PAGES: list[tuple[str, str, str]] = [
    # ("setup", "fer_studio.pages.setup_page", "SetupPage"),
]
