"""The main window's pages, in sidebar order: (key, module, class name), imported lazily.

Each class is a `pages.base.Page`: constructed as `Page(state: AppState, parent=None)`, with
a `title` and the hooks the main window calls when it closes. A page whose module is not
there is skipped.
"""
from __future__ import annotations

PAGES: list[tuple[str, str, str]] = [
    ("setup", "fer_studio.pages.setup_page", "SetupPage"),
    ("training", "fer_studio.pages.training_page", "TrainingPage"),
    ("runs", "fer_studio.pages.runs_page", "RunsPage"),
    ("analysis", "fer_studio.pages.analysis_page", "AnalysisPage"),
    ("studies", "fer_studio.pages.studies_page", "StudiesPage"),
    ("live", "fer_studio.pages.live_page", "LivePage"),
]
