"""Shared test set-up: offscreen Qt, quiet threads, real-data locator, tiny synthetic data."""
from __future__ import annotations

import os
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_NUM_THREADS", "2")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory, monkeypatch):
    """Caches and runs of a test never touch the user's real folders."""
    base = tmp_path_factory.getbasetemp()
    monkeypatch.setenv("FER_STUDIO_CACHE", str(base / "cache"))
    monkeypatch.setenv("FER_STUDIO_RUNS", str(base / "runs"))
    monkeypatch.setenv("FER_STUDIO_CONFIG_DIR", str(base / "settings"))


@pytest.fixture(autouse=True)
def _hard_bound(request):
    """A bound that holds even when the GIL does not come back: pytest-timeout's thread needs
    the GIL, so a deadlock in native code that holds it (a Qt mutex waited for with the GIL
    held) would outlive it. faulthandler's watchdog is a C thread: a minute past the test's
    timeout it writes every thread's stack to $FER_TEST_HANG_FILE (scripts/test.sh prints
    it) and ends the session."""
    import faulthandler

    marker = request.node.get_closest_marker("timeout")
    limit = float(marker.args[0] if marker and marker.args else request.config.getini("timeout") or 300)
    global _hang_file
    if _hang_file is None:
        path = os.environ.get("FER_TEST_HANG_FILE") or os.path.join(
            tempfile.gettempdir(), f"fer-studio-test-hang-{os.getpid()}.txt")
        _hang_file = open(path, "w")  # noqa: SIM115 - open for the whole session
    _hang_file.seek(0)
    _hang_file.truncate()
    _hang_file.write(f"hung: {request.node.nodeid} (bound {limit + 60:.0f} s)\n")
    _hang_file.flush()
    faulthandler.dump_traceback_later(limit + 60, exit=True, file=_hang_file)
    yield
    faulthandler.cancel_dump_traceback_later()


_hang_file = None


@pytest.fixture(autouse=True)
def _gc_on_the_gui_thread(request):
    """Qt tests run as the app does: Python's garbage collector only on the GUI thread
    (fer_studio.gc_thread: a collection in a worker thread can deadlock with Qt); other
    tests keep automatic collection."""
    import gc

    if "qtbot" in request.fixturenames or "qapp" in request.fixturenames:
        from fer_studio.gc_thread import collect_on_gui_thread

        collect_on_gui_thread(request.getfixturevalue("qapp"))
        gc.disable()
    elif not gc.isenabled():
        gc.enable()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data (or $FER_SHARED_DATA); tests that need it skip with a reason when absent."""
    from fer_engine.paths import shared_data_dir

    p = shared_data_dir()
    if p is None:
        pytest.skip("real data not found: set FER_SHARED_DATA or put shared/data beside the repo")
    return p


@pytest.fixture(scope="session")
def fer2013_dir(shared_data) -> Path:
    p = shared_data / "fer2013"
    if not (p / "train").is_dir():
        pytest.skip(f"FER2013 image folders not found under {p}")
    return p
