"""The runs list: one `RunSummary` row per run directory under a runs folder, read tolerantly
(a run whose files cannot be read is listed as "damaged" with the reason)."""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..config import RunConfig
from .rundir import DAMAGED, RunDir, RunDirError


@dataclass
class RunSummary:
    """One row of the runs list."""
    path: Path
    run_id: str
    name: str
    date: datetime
    backbone: str
    tricks: list[str] = field(default_factory=list)
    best_val_acc: float = math.nan
    status: str = "created"
    epochs_done: int = 0
    kind: str = "run"  # "run" or "kfold"
    problem: str = ""  # why a "damaged" run cannot be read
    dataset: str = ""  # the training data (folder or file name, or "demo")
    epochs_planned: int = 0
    test_acc: float = math.nan  # on the run's own test split, without TTA (finished runs)
    precision: str = ""  # what it trained in ("float32", "bfloat16", ...); "" before it started
    best_val_acc_ci: tuple[float, float] = (math.nan, math.nan)  # 95% Wilson interval over the val faces


def summarize_run(run: RunDir) -> RunSummary:
    """The runs-list row of one run directory (tolerant of half-written runs); a run whose
    files cannot be read is "damaged", with the reason in `problem`."""
    problems = []
    try:
        cfg = run.config()
        backbone = cfg.model.backbone
        tricks = _active_tricks(cfg)
        kind = "kfold" if cfg.kfold.k >= 2 else "run"
        dataset, planned = _data_name(cfg.data.path), cfg.train.epochs
    except Exception as e:  # noqa: BLE001 - a config this version cannot read still lists
        backbone, tricks, kind, dataset, planned = "?", [], "run", "?", 0
        problems.append(str(e))
    if planned and cfg.train.time_budget_min > 0:  # the epochs its budget's plan fits, once planned
        try:
            plan = (run.budget() or {}).get("plan") or {}
            planned = int(plan.get("epochs", planned))
        except (RunDirError, TypeError, ValueError, AttributeError) as e:
            problems.append(str(e))
    precision = run_precision(run)
    if "amp" in tricks and precision == "float32":
        tricks.remove("amp")  # asked for, but this device computed in float32: not a trick of the run
    status = run.status()
    if status.state == DAMAGED:
        problems.append(status.message)
    try:
        name = run.meta().display_name or run.run_id
    except RunDirError as e:
        name = run.run_id
        problems.append(str(e))
    rows = run.read_metrics()
    accs = [r["val_acc"] for r in rows if "val_acc" in r]
    best = max(accs) if accs else math.nan
    if kind == "kfold":
        mean = run.kfold().get("mean", {})
        best = mean.get("val_acc", math.nan) if isinstance(mean, dict) else math.nan
    return RunSummary(
        best_val_acc_ci=_val_interval(run, best) if kind == "run" else (math.nan, math.nan),
        path=run.path, run_id=run.run_id, name=str(name),
        date=_run_date(run), backbone=backbone, tricks=tricks, best_val_acc=best,
        status=DAMAGED if problems else status.state,
        epochs_done=int(max((r["epoch"] for r in rows), default=0)), kind=kind, problem="; ".join(problems),
        dataset=dataset, epochs_planned=planned, test_acc=_test_acc(status.summary), precision=precision,
    )


def _damaged(run: RunDir, e: Exception) -> RunSummary:
    try:
        date = _run_date(run)
    except (OSError, ValueError):
        date = datetime.fromtimestamp(0)
    return RunSummary(path=run.path, run_id=run.run_id, name=run.run_id, date=date, backbone="?",
                      status=DAMAGED, problem=f"{type(e).__name__}: {e}")


def run_precision(run: RunDir) -> str:
    """The precision a run trained in, from its first RunStarted event ("" when not started)."""
    try:
        with open(run.events_path, encoding="utf-8") as f:
            for line in f:
                if '"RunStarted"' in line:
                    event = json.loads(line)
                    return precision_of(str(event.get("device", ""))) if isinstance(event, dict) else ""
    except (OSError, ValueError):
        pass
    return ""


def precision_of(device_line: str) -> str:
    """What a run computed in, read back from its device line (`precision.describe`, which
    this module does not import: it pulls in torch): "bfloat16", "float16" or "float32"."""
    for dtype in ("bfloat16", "float16"):
        if f"{dtype} autocast" in device_line:
            return dtype
    return "float32"


def _data_name(path: str) -> str:
    return path if path == "demo" else Path(path).name or path


def _test_acc(summary: dict[str, Any]) -> float:
    value = summary.get("test_acc", math.nan)
    return float(value) if isinstance(value, (int, float)) else math.nan


def _val_interval(run: RunDir, acc: float) -> tuple[float, float]:
    """95% interval of a validation accuracy over the run's val faces (NaN when unknown)."""
    from ..scoring.stats import accuracy_interval

    try:
        n = int(run.dataset_info().splits.get("val", 0))
    except (RunDirError, TypeError, ValueError):
        n = 0
    if not n or not math.isfinite(acc):
        return (math.nan, math.nan)
    iv = accuracy_interval(round(acc * n), n)
    return (iv.low, iv.high)


def _run_date(run: RunDir) -> datetime:
    m = re.match(r"(\d{8}-\d{6})-", run.run_id)
    if m:
        return datetime.strptime(m.group(1), "%Y%m%d-%H%M%S")
    return datetime.fromtimestamp(run.config_path.stat().st_mtime)


def _active_tricks(cfg: RunConfig) -> list[str]:
    from ..recipe.tricks import active_tricks

    return list(active_tricks(cfg))


def list_runs(root: str | Path) -> list[RunSummary]:
    """Runs under a runs folder, newest first (k-fold children are inside their parent)."""
    root = Path(root)
    if not root.is_dir():
        return []
    out = []
    for p in root.iterdir():
        if p.is_dir() and (p / "config.json").is_file():
            try:
                out.append(summarize_run(RunDir(p)))
            except Exception as e:  # noqa: BLE001 - one unreadable run never hides the others
                out.append(_damaged(RunDir(p), e))
    return sorted(out, key=lambda s: (s.date, s.run_id), reverse=True)
