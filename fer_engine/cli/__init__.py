"""The headless `fer-studio` subcommands (`python -m fer_engine.cli` works without Qt).

Each subcommand is a module in `fer_engine.cli.commands` defining `NAME`, `HELP`,
`add_arguments(parser)` and `run(args) -> int`. User errors raise `CliError`
(or ConfigError/ValueError/FileNotFoundError) and are printed as one clear line.
SIGTERM (`kill`, `timeout`, a cluster scheduler's preemption) stops a command as Ctrl-C does:
a training worker stops cleanly and stays resumable instead of training on without its driver.
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import signal
import sys
import threading

from ..config import ConfigError


class CliError(Exception):
    """A user-facing error: printed as one line, exit code 2."""


def _commands():
    from . import commands

    mods = []
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda i: i.name):
        if not info.name.startswith("_"):
            mods.append(importlib.import_module(f"{commands.__name__}.{info.name}"))
    return mods


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fer-studio",
        description="Facial-expression-recognition workbench. Run without arguments to open the GUI.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for mod in _commands():
        p = sub.add_parser(mod.NAME, help=mod.HELP.replace("%", "%%"), description=mod.HELP)
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    if not getattr(args, "_run", None):
        build_parser().print_help()
        return 2
    on_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _interrupt) if on_main_thread else None
    try:
        return int(args._run(args) or 0)
    except (CliError, ConfigError, ValueError, FileNotFoundError, KeyError) as e:
        msg = e.args[0] if isinstance(e, KeyError) and e.args else str(e)
        # a non-UTF-8 file name in the message (surrogate escapes) is shown as \xNN
        msg = msg.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        print(f"fer-studio: error: {msg}", file=sys.stderr)
        return 2
    except OSError as e:  # a full or read-only disk (missing files are caught above)
        from ..utils.disk import disk_error_message

        print(f"fer-studio: error: {disk_error_message(e)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("fer-studio: interrupted", file=sys.stderr)
        return 130
    finally:
        if on_main_thread:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
