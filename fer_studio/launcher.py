"""The `fer-studio` console script: no arguments opens the GUI, a subcommand runs headless."""
from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv:
        from fer_engine.cli import main as cli_main

        return cli_main(argv)
    try:
        from fer_studio.app import main as gui_main
    except ImportError as e:
        print(f"fer-studio: the GUI needs PySide6 and pyqtgraph ({e}); "
              "headless commands still work: fer-studio --help", file=sys.stderr)
        return 2
    return gui_main()


if __name__ == "__main__":
    sys.exit(main())
