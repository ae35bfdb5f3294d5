"""The study directory, the source of truth of a study (the GUI and `study report` read it):

    <study>/study.json     the spec (schema-versioned)
            plan.json      variants, runs (key, variant, seed, full config), notes, estimate
            runs/<key>/    one ordinary run directory per run (opens in Runs and Analysis)

A run's state is its run directory's status, "pending" before it exists, or "pruned"
when ASHA stopped it early (recorded in its meta.json).
"""
from __future__ import annotations

import json
import math
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..training.rundir import RunDir, RunDirError
from ..utils.atomic import atomic_write_text
from .plan import Plan, PlannedRun
from .spec import StudyError, StudySpec

PENDING, PRUNED = "pending", "pruned"


@dataclass
class RunProgress:
    """One row of a study's live grid, read from its run directory."""
    key: str
    variant: str
    seed: int
    state: str
    epochs: int  # planned
    epoch: int = 0  # finished epochs
    val_acc: list[float] = field(default_factory=list)  # per finished epoch

    @property
    def last_val_acc(self) -> float:
        return self.val_acc[-1] if self.val_acc else math.nan


def is_study_dir(path: str | Path) -> bool:
    return (Path(path) / "study.json").is_file() and (Path(path) / "plan.json").is_file()


class StudyDir:
    def __init__(self, path: str | Path):
        self.path = Path(path)

    spec_path = property(lambda self: self.path / "study.json")
    plan_path = property(lambda self: self.path / "plan.json")
    runs_dir = property(lambda self: self.path / "runs")

    @classmethod
    def create(cls, path: str | Path, spec: StudySpec, plan: Plan, estimate: dict[str, Any] | None = None
               ) -> "StudyDir":
        """A new study directory; refused where one already is (use resume)."""
        study = cls(path)
        if study.spec_path.exists():
            raise StudyError(f"{study.path} already holds a study; continue it with "
                             f"`fer-studio study resume {study.path}`")
        try:
            study.runs_dir.mkdir(parents=True, exist_ok=True)
            spec.save(study.spec_path)
            study.save_plan(plan, estimate)
        except OSError as e:
            raise StudyError(f"cannot create a study in {study.path}: {e.strerror or e}") from None
        return study

    @classmethod
    def open(cls, path: str | Path) -> "StudyDir":
        study = cls(path)
        if not is_study_dir(study.path):
            raise StudyError(f"not a study directory (no study.json/plan.json): {study.path}")
        return study

    def spec(self) -> StudySpec:
        return StudySpec.load(self.spec_path)

    def _plan_json(self) -> dict[str, Any]:
        try:
            return json.loads(self.plan_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as e:
            raise StudyError(f"cannot read {self.plan_path}: {e}") from None

    def plan(self) -> Plan:
        try:
            return Plan.from_dict(self._plan_json())
        except (KeyError, TypeError, ValueError) as e:
            raise StudyError(f"{self.plan_path} is not a valid plan: {e}") from None

    def estimate(self) -> dict[str, Any]:
        return dict(self._plan_json().get("estimate") or {})

    def save_plan(self, plan: Plan, estimate: dict[str, Any] | None = None) -> None:
        d = plan.to_dict()
        if estimate is None and self.plan_path.is_file():
            estimate = self.estimate()
        d["estimate"] = estimate or {}
        atomic_write_text(self.plan_path, json.dumps(d, indent=1) + "\n")

    # -- runs -----------------------------------------------------------------------------
    def run_dir(self, key: str) -> RunDir:
        return RunDir(self.runs_dir / key)

    def state(self, key: str) -> str:
        run = self.run_dir(key)
        if not run.config_path.is_file():
            return PENDING
        with suppress(RunDirError):  # a damaged meta.json is not marked pruned
            if run.meta().study_pruned:
                return PRUNED
        return run.status().state

    def states(self) -> dict[str, str]:
        return {r.key: self.state(r.key) for r in self.plan().runs}

    def progress(self) -> list[RunProgress]:
        """Every planned run's state, epoch and validation-accuracy curve (the live grid)."""
        out = []
        for r in self.plan().runs:
            row = RunProgress(r.key, r.variant, r.seed, self.state(r.key), r.config.train.epochs)
            if row.state != PENDING:
                metrics = self.run_dir(r.key).read_metrics()
                row.epoch = int(max((m["epoch"] for m in metrics), default=0))
                row.val_acc = [m["val_acc"] for m in metrics if "val_acc" in m]
            out.append(row)
        return out

    def todo(self) -> list[PlannedRun]:
        """Runs still to train: pending, created, stopped, failed or crashed (not running)."""
        states = self.states()
        return [r for r in self.plan().runs if states[r.key] not in ("finished", "running", PRUNED)]

    def ensure_run_dir(self, run: PlannedRun, changes: dict[str, Any] | None = None) -> tuple[RunDir, bool]:
        """The run's directory and whether it resumes; a new one gets the planned config
        (with `changes`, e.g. the device a backend pins it to)."""
        existing = self.run_dir(run.key)
        if existing.config_path.is_file():
            return existing, True
        config = run.config.replace(**changes) if changes else run.config
        return RunDir.create(self.runs_dir, config, run_id=run.key), False
