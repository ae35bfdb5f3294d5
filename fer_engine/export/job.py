"""An export in its own `spawn` process, for the GUI: progress and the outcome as messages.

`ExportJob.start(...)` runs `build.export_model` in a child process (a heavy, GIL-holding
torch exporter never freezes the window, and a crash in a native library is reported
instead of taking the app down). `poll()` returns the messages so far without blocking:
("progress", fraction, detail), then ("done", report lines) or ("failed", one-line reason).
"""
from __future__ import annotations

import multiprocessing as mp
import queue as queue_mod
from pathlib import Path
from typing import Any

from .formats import ExportOptions

_CTX = mp.get_context("spawn")


def _child(run_dir: str, out: str, fmt: str, options: ExportOptions, card: bool, q) -> None:
    from .build import export_model

    try:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        result = export_model(run_dir, out, fmt, options, card=card,
                              progress=lambda f, d: q.put(("progress", float(f), str(d))))
        q.put(("done", result.lines()))
    except Exception as e:  # noqa: BLE001 - every failure is reported to the parent as one line
        q.put(("failed", str(e) or type(e).__name__))
    finally:  # the outcome is the only record: exit only once the queue's thread has sent it
        q.close()
        q.join_thread()


def _terminal(messages) -> bool:
    return any(m[0] in ("done", "failed") for m in messages)


class ExportJob:
    _target = staticmethod(_child)  # what the process runs (a test may wrap it)

    def __init__(self, process, q, out: Path):
        self._process, self._queue, self.out = process, q, out
        self.finished = False

    @classmethod
    def start(cls, run_dir: str | Path, out: str | Path, fmt: str = "onnx",
              options: ExportOptions = ExportOptions(), card: bool = True) -> "ExportJob":
        q = _CTX.Queue()
        p = _CTX.Process(target=cls._target, args=(str(run_dir), str(out), fmt, options, card, q),
                         name="fer-export", daemon=True)
        p.start()
        return cls(p, q, Path(out))

    def _drain(self, wait: float = 0.0) -> list[tuple[Any, ...]]:
        out: list[tuple[Any, ...]] = []
        while True:
            try:
                out.append(self._queue.get(timeout=wait) if wait and not out else self._queue.get_nowait())
            except queue_mod.Empty:
                return out

    def poll(self) -> list[tuple[Any, ...]]:
        """Messages since the last call; a process gone without an outcome is reported failed."""
        if self.finished:
            return []
        out = self._drain()
        if not _terminal(out) and not self._process.is_alive():
            out += self._drain(wait=1.0)  # the last messages may arrive just after the process ended
            if not _terminal(out):
                out.append(("failed", "the export process ended without a result "
                                      f"(exit code {self._process.exitcode})"))
        if _terminal(out):
            self.finished = True
            self._process.join(timeout=5)
        return out

    def cancel(self) -> None:
        """Stop the export and remove its temporary files (the target is only written at the end)."""
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(timeout=5)
        for tmp in self.out.parent.glob(f".{self.out.stem}.*.tmp*"):
            tmp.unlink(missing_ok=True)
        self.finished = True
