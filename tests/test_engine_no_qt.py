"""fer_engine (every module, the CLI parser included) imports with Qt and pyqtgraph unimportable."""
from __future__ import annotations

import subprocess
import sys
import textwrap

BLOCKER = textwrap.dedent("""
    import importlib.abc, sys

    class BlockGui(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("PySide6", "pyqtgraph", "fer_studio", "shiboken6"):
                raise ImportError(f"blocked in this test: {name}")
            return None

    sys.meta_path.insert(0, BlockGui())
""")

IMPORT_ALL = textwrap.dedent("""
    import importlib, pkgutil, sys
    import fer_engine

    for info in pkgutil.walk_packages(fer_engine.__path__, "fer_engine."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)
    from fer_engine.cli import build_parser
    build_parser()
    gui = sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "pyqtgraph", "fer_studio"))
    assert not gui, gui
    print("ok")
""")


def test_fer_engine_imports_without_qt():
    code = BLOCKER + IMPORT_ALL
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("ok")


def test_the_blocker_really_blocks():
    done = subprocess.run([sys.executable, "-c", BLOCKER + "import PySide6"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode != 0 and "blocked in this test" in done.stderr
