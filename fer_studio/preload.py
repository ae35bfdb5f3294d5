"""Import the heavy libraries once, on a pool thread, right after the window appears.

The first import of timm, scikit-learn or pytorch-grad-cam holds the GIL inside C code for
100-250 ms at a time (measured: importing pytorch_grad_cam on a worker thread delays a 5 ms
GUI timer by up to 256 ms). Left to the moment a page first needs them, those imports freeze
the event loop while a run trains or an analysis opens; done at start-up they cost a few
hitches while the window is still being looked at.
"""
from __future__ import annotations

import importlib

from .tasks import Task, run_task

# The engine modules that import them lazily: models (timm), embeddings (scikit-learn), CAMs.
HEAVY_MODULES = ("timm", "sklearn.decomposition", "sklearn.manifold", "pytorch_grad_cam")


def _import_all(progress, should_stop) -> None:
    for name in HEAVY_MODULES:
        if should_stop():
            return
        importlib.import_module(name)


def preload_heavy_modules() -> Task:
    """Start the imports in the background; the Task reports when they are done."""
    return run_task(_import_all)
