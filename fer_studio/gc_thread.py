"""Python's cyclic garbage collector runs on the GUI thread only.

Left automatic, a collection starts in whichever thread happens to allocate, e.g. a
background task (`tasks.run_task`) or the live worker. If the cycle it frees holds a Qt
object of the GUI thread, that object's destructor runs in the worker: it takes Qt's
connection mutex there and then waits for the GIL, while the GUI thread, holding the GIL,
waits for that mutex to delete its own widgets. Both wait forever (seen in the test suite:
the window idle in its event loop, a report task stuck in `gc_collect_main`). pyqtgraph's
GarbageCollector turns automatic collection off and collects on a GUI-thread timer.
"""
from __future__ import annotations

from PySide6.QtWidgets import QApplication
from pyqtgraph.util.garbage_collector import GarbageCollector


def collect_on_gui_thread(app: QApplication) -> GarbageCollector:
    """Install (once per application) the GUI-thread collector; returns it."""
    collector = getattr(app, "_fer_gc", None)
    if collector is None:
        collector = GarbageCollector(interval=1.0)
        app._fer_gc = collector  # lives as long as the application
    return collector
