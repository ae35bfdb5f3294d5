"""What the main window knows of a page (Orange3's and napari's declared widgets, in small).

A page subclasses `Page`: it declares its sidebar `title`, is constructed as
`Page(state, parent=None)`, and overrides the hooks the main window calls on every page when it
closes. The defaults suit a page that starts no runs and no background work.
"""
from __future__ import annotations

from PySide6.QtWidgets import QWidget


class Page(QWidget):
    title = ""

    def active_runs(self) -> list[str]:
        """Run (or study) directories this page started and that are still training."""
        return []

    def stop_all_runs(self) -> None:
        """Closing, the user chose to stop the active runs."""

    def detach_all_runs(self) -> None:
        """Closing, the user chose to leave the active runs going without this window."""

    def shutdown(self) -> None:
        """The window closes: stop timers, threads and devices (runs are handled above)."""
