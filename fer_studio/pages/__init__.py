"""The main window's pages, in sidebar order: (key, module, class name), imported lazily.

A page is a QWidget constructed as `Page(state: AppState, parent=None)` with a `title`.
Optional hooks the main window calls when they exist: `active_runs() -> list[str]`,
`stop_all_runs()`, `detach_all_runs()` (closing while training) and `shutdown()`.
A page whose module is not there is skipped.
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
