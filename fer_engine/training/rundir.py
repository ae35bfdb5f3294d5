"""The run directory: everything a run writes, and the source of truth for reopening it.

    <runs>/<run_id>/config.json        the RunConfig (reproduces the run)
                    events.jsonl       every event, one JSON object per line (flushed; fsync'd
                                       except progress events)
                    metrics.csv        one row per epoch
                    status.json        running (with pid) | finished | stopped | failed | crashed
                    meta.json          display name given in the runs list, study/ensemble marks
                    preprocess.json    what rebuilds the model input exactly (analysis, live)
                    dataset.json       class names, split sizes, data source
                    checkpoints/last.pt, best.pt
                    predictions/<split>[-tta].npz
                    kfold.json, folds/<fold>/...   (k-fold parent runs only)

Small files are replaced atomically; the event log is append-only and read tolerantly,
so a worker killed at any instant leaves a directory that still opens.
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
import secrets
import shutil
import socket
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..config import RunConfig
from ..utils.atomic import atomic_write_text
from ..utils.disk import FULL
from . import events as ev
from .run_files import DAMAGED, STATUSES, DatasetInfo, Preprocess, RunDirError, RunMeta, RunStatus

#: Columns of metrics.csv, in order (one row per epoch).
METRIC_COLUMNS = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "val_f1", "lr",
                  "epoch_time", "img_per_s")


def new_run_id(backbone: str, when: float | None = None) -> str:
    """Sortable unique id: `20261123-051500-fer_cnn-3fa2`."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(when or time.time()))
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", backbone)[:40] or "run"
    return f"{stamp}-{safe}-{secrets.token_hex(2)}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (dead, not yet reaped) still answers kill(pid, 0)
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


class RunDir:
    """One run's folder. `create` a new one under a runs root or `open` an existing one."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    # -- creation -----------------------------------------------------------------
    @classmethod
    def create(cls, runs_root: str | Path, config: RunConfig, name: str | None = None,
               run_id: str | None = None) -> "RunDir":
        """Make `<runs_root>/<run_id>/` with config.json and a "created" status.

        Raises OSError with the folder named when the runs folder cannot be written.
        """
        root = Path(runs_root)
        for _ in range(20):
            rid = run_id or new_run_id(config.model.backbone)
            path = root / rid
            try:
                root.mkdir(parents=True, exist_ok=True)
                path.mkdir()
                break
            except FileExistsError:
                if run_id:
                    raise RunDirError(f"run directory already exists: {path}") from None
            except OSError as e:
                raise OSError(e.errno, f"cannot create a run in {root}: {e.strerror}") from None
        else:
            raise RunDirError(f"could not find a free run id under {root}")
        run = cls(path)
        try:
            config.save(run.config_path)
            if name or config.name:
                run.write_meta({"display_name": name or config.name})
            run.write_status("created")
        except OSError:
            shutil.rmtree(path, ignore_errors=True)
            raise
        return run

    @classmethod
    def open(cls, path: str | Path) -> "RunDir":
        run = cls(path)
        if not run.path.is_dir():
            raise RunDirError(f"run directory not found: {run.path}")
        if not run.config_path.is_file():
            raise RunDirError(f"not a run directory (no config.json): {run.path}")
        return run

    # -- paths ----------------------------------------------------------------------
    @property
    def run_id(self) -> str:
        return self.path.name

    config_path = property(lambda self: self.path / "config.json")
    events_path = property(lambda self: self.path / "events.jsonl")
    metrics_path = property(lambda self: self.path / "metrics.csv")
    status_path = property(lambda self: self.path / "status.json")
    meta_path = property(lambda self: self.path / "meta.json")
    preprocess_path = property(lambda self: self.path / "preprocess.json")
    dataset_path = property(lambda self: self.path / "dataset.json")
    kfold_path = property(lambda self: self.path / "kfold.json")
    budget_path = property(lambda self: self.path / "budget.json")
    warnings_path = property(lambda self: self.path / "warnings.json")
    checkpoints_dir = property(lambda self: self.path / "checkpoints")
    predictions_dir = property(lambda self: self.path / "predictions")
    folds_dir = property(lambda self: self.path / "folds")

    def checkpoint_path(self, which: str = "last") -> Path:
        return self.checkpoints_dir / f"{which}.pt"

    def predictions_path(self, split: str, tta: bool = False) -> Path:
        return self.predictions_dir / f"{split}{'-tta' if tta else ''}.npz"

    def config(self) -> RunConfig:
        return RunConfig.load(self.config_path)

    # -- event log ------------------------------------------------------------------
    def append_event(self, event: ev.Event | dict[str, Any]) -> None:
        """Append one JSON line in a single write, flushed (whole even if the process is killed).

        Every event but progress is also fsync'd (kept through a power cut). Progress events
        come up to ten a second from the training loop, which an fsync blocks for 0.1 ms on
        an SSD and ~10 ms on a spinning disk, and each one is superseded by the next.
        """
        d = ev.to_dict(event) if isinstance(event, ev.Event) else event
        line = memoryview((json.dumps(d, default=_json_default, allow_nan=True) + "\n").encode("utf-8"))
        # Unbuffered: a buffered file's truncate flushes first, which fails again on a full disk and
        # left the partial line in place (seen under load, when TensorBoard's thread took the last blocks).
        fd = os.open(self.events_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
        try:
            start = os.lseek(fd, 0, os.SEEK_END)
            try:
                while line:
                    line = line[os.write(fd, line):]
            except OSError:  # a full disk took part of the line: cut it, so the log stays whole-lined
                os.ftruncate(fd, start)
                raise
            if not isinstance(event, ev.PROGRESS):
                os.fsync(fd)
        finally:
            os.close(fd)

    def read_events(self) -> list[ev.Event]:
        """Every whole event line; a truncated or garbled line (a kill mid-write) is skipped."""
        out = []
        for d in self._event_dicts():
            try:
                out.append(ev.from_dict(d))
            except (KeyError, TypeError):
                continue
        return out

    def _event_dicts(self) -> list[dict[str, Any]]:
        try:
            text = self.events_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return []
        out = []
        for line in text.splitlines():
            try:
                d = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(d, dict):
                out.append(d)
        return out

    def repair(self) -> None:
        """Undo what a kill mid-write leaves: a partial last event line, stray temp files."""
        for tmp in self.path.rglob(".*.tmp"):
            tmp.unlink(missing_ok=True)
        self.repair_event_log()

    def repair_event_log(self) -> None:
        """Cut a partial last line so new lines start whole."""
        try:
            with open(self.events_path, "rb+") as f:
                data = f.read()
                if data and not data.endswith(b"\n"):
                    f.truncate(data.rfind(b"\n") + 1)
        except FileNotFoundError:
            pass

    # -- status -----------------------------------------------------------------------
    def write_status(self, status: str, **fields: Any) -> None:
        """status.json: `status` now, pid/host while running, plus `fields` (others go in `extra`)."""
        if status not in STATUSES:
            raise ValueError(f"unknown run status {status!r}")
        d: dict[str, Any] = {"status": status, "updated": time.time()}
        if status == "running":
            d.update(pid=fields.pop("pid", os.getpid()), host=socket.gethostname())
        d.update(fields)
        text = json.dumps(RunStatus.from_dict(d).to_dict(), default=_json_default, indent=1) + "\n"
        try:
            atomic_write_text(self.status_path, text)
        except OSError as e:
            if e.errno not in FULL or not self.status_path.is_file():
                raise
            self._overwrite_in_place(self.status_path, text.encode("utf-8"))

    @staticmethod
    def _overwrite_in_place(path: Path, data: bytes) -> None:
        """On a full disk a new file cannot be made, but the blocks of the old one can be
        rewritten: a run's final status still reaches status.json (not atomically)."""
        with open(path, "r+b") as f:
            f.write(data)
            f.truncate()
            f.flush()
            os.fsync(f.fileno())

    def status(self) -> RunStatus:
        """The recorded status: "running" with its process gone reads "crashed", an invalid file DAMAGED."""
        try:
            d = json.loads(self.status_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError, UnicodeDecodeError):
            return RunStatus("crashed" if self.events_path.exists() else "created")
        try:
            status = RunStatus.from_dict(d)
        except RunDirError as e:
            return RunStatus(DAMAGED, message=str(e))
        if status.state == "running" and status.host == socket.gethostname() and status.pid \
                and not _pid_alive(status.pid):
            status = replace(status, state="crashed", message=f"worker process {status.pid} is gone")
        return status

    def is_running(self) -> bool:
        return self.status().state == "running"

    # -- metrics ------------------------------------------------------------------------
    def write_metrics_row(self, epoch: int, metrics: dict[str, float]) -> None:
        """Record one epoch, replacing rows of this epoch and later (a resumed run redoes them)."""
        rows = [r for r in self.read_metrics() if r["epoch"] < epoch]
        rows.append({"epoch": epoch, **metrics})
        self._write_metrics(rows)

    def truncate_metrics(self, last_epoch: int) -> None:
        """Drop rows after `last_epoch` (epochs a resumed run will train again)."""
        self._write_metrics([r for r in self.read_metrics() if r["epoch"] <= last_epoch])

    def _write_metrics(self, rows: list[dict[str, float]]) -> None:
        extra = sorted({k for r in rows for k in r} - set(METRIC_COLUMNS))
        cols = list(METRIC_COLUMNS) + extra
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore", lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in cols})
        atomic_write_text(self.metrics_path, buf.getvalue())

    def read_metrics(self) -> list[dict[str, float]]:
        """Rows of metrics.csv as {column: float}, epoch as int; empty cells left out."""
        try:
            text = self.metrics_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        rows = []
        for r in csv.DictReader(io.StringIO(text)):
            try:
                row: dict[str, Any] = {k: float(v) for k, v in r.items() if k and v not in ("", None)}
                row["epoch"] = int(row["epoch"])
            except (KeyError, ValueError):
                continue
            rows.append(row)
        return rows

    # -- small JSON files -----------------------------------------------------------------
    def _read_json(self, path: Path) -> dict[str, Any]:
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, json.JSONDecodeError, UnicodeDecodeError) as e:
            raise RunDirError(f"cannot read {path}: {e}") from None
        if not isinstance(d, dict):
            raise RunDirError(f"{path} holds a JSON {type(d).__name__}, not an object")
        return d

    def _write_json(self, path: Path, data: dict[str, Any]) -> None:
        atomic_write_text(path, json.dumps(data, indent=1, default=_json_default) + "\n")

    def write_preprocess(self, pre: Preprocess) -> None:
        self._write_json(self.preprocess_path, pre.to_dict())

    def preprocess(self) -> Preprocess:
        d = self._read_json(self.preprocess_path)
        if not d:
            raise RunDirError(f"{self.path} has no preprocess.json (the run never got past loading data)")
        return Preprocess.from_dict(d, str(self.preprocess_path))

    def write_dataset(self, info: DatasetInfo) -> None:
        self._write_json(self.dataset_path, info.to_dict())

    def dataset_info(self) -> DatasetInfo:
        return DatasetInfo.from_dict(self._read_json(self.dataset_path), str(self.dataset_path))

    def write_warnings(self, warnings: list[str]) -> None:
        """warnings.json: the config and dataset warnings the run started with."""
        self._write_json(self.warnings_path, {"warnings": list(warnings)})

    def warnings(self) -> list[str]:
        return list(self._read_json(self.warnings_path).get("warnings", []))

    def write_meta(self, data: dict[str, Any]) -> None:
        """Set keys of meta.json (RunMeta's fields or others, kept in its `extra`); the rest stay."""
        self._write_json(self.meta_path, RunMeta.from_dict({**self.meta().to_dict(), **data}).to_dict())

    def meta(self) -> RunMeta:
        """meta.json (empty when absent); RunDirError naming the file when it is damaged."""
        return RunMeta.from_dict(self._read_json(self.meta_path), str(self.meta_path))

    def write_budget(self, data: dict[str, Any]) -> None:
        """budget.json: a time-budgeted run's plan now, every plan and re-plan, the time used."""
        self._write_json(self.budget_path, data)

    def budget(self) -> dict[str, Any] | None:
        """budget.json, or None for a run without a time budget."""
        return self._read_json(self.budget_path) if self.budget_path.is_file() else None

    def write_kfold(self, data: dict[str, Any]) -> None:
        self._write_json(self.kfold_path, data)

    def write_kfold_table(self, text: str) -> None:
        atomic_write_text(self.path / "kfold.csv", text)

    def child_dir(self, path: Path, create) -> "RunDir":
        """A run directory inside this one (a k-fold fold): opened when it exists, else `create()`d."""
        return RunDir.open(path) if (Path(path) / "config.json").is_file() else create()

    def kfold(self) -> dict[str, Any]:
        return self._read_json(self.kfold_path)

    @property
    def display_name(self) -> str:
        try:
            return self.meta().display_name or self.run_id
        except RunDirError:
            return self.run_id

    def rename(self, display_name: str) -> None:
        """Set the name shown in the runs list (the folder keeps its id)."""
        self.write_meta({"display_name": display_name.strip()})

    def delete(self) -> None:
        """Remove the run directory; refused while its worker is running."""
        if self.is_running():
            raise RunDirError(f"run {self.run_id} is still running; stop it before deleting")
        shutil.rmtree(self.path)


def _json_default(o: Any) -> Any:
    if hasattr(o, "item"):  # numpy / torch scalars
        return o.item()
    if hasattr(o, "tolist"):
        return o.tolist()
    if isinstance(o, (set, tuple)):
        return list(o)
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def load_run_model(run_dir: str | Path | RunDir, which: str = "best", device: str = "cpu"):
    """(FerModel in eval mode, its `Preprocess`) from a run's checkpoint (best, else last), in
    the run's memory format (channels_last when it trained so)."""
    import torch

    from ..models import create_model
    from .checkpoint import load_checkpoint

    run = run_dir if isinstance(run_dir, RunDir) else RunDir.open(run_dir)
    pre = run.preprocess()
    path = run.checkpoint_path(which)
    if not path.is_file() and which == "best":
        path = run.checkpoint_path("last")
    if not path.is_file():
        raise RunDirError(f"{run.path} has no checkpoint yet ({which}.pt)")
    cfg = run.config()
    model_cfg = cfg.replace(**{"model.pretrained": False, "model.weights_path": "",
                               "model.input_size": pre.input_size}).model
    model = create_model(model_cfg, num_classes=len(pre.class_names), in_chans=pre.channels)
    try:
        state = load_checkpoint(path)
    except ValueError as e:  # truncated, corrupt or tampered
        last = run.checkpoint_path("last")
        if path.name == "last.pt" or not last.is_file():
            raise
        raise RunDirError(f"{e}; its last.pt can be used instead (fer-studio evaluate --checkpoint last)") from None
    model.load_state_dict(state["model"])
    memory_format = torch.channels_last if cfg.train.channels_last else torch.contiguous_format
    return model.to(memory_format=memory_format).to(device).eval(), pre
