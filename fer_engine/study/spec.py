"""The study spec: a base config plus variations plus repeats, saved as JSON with a schema version.

    {"schema_version": 1, "name": "quick-cpu ablation",
     "base": {"preset": "quick-cpu", "set": {"data.path": "/data/fer2013", "train.epochs": 5,
                                             "train.time_budget_min": 0}},
     "ablate": {"tricks": ["hflip", "label_smoothing"], "mode": "leave-one-out"},
     "grid": {"optim.lr": [0.001, 0.003]},
     "random": {"samples": 8, "seed": 0, "asha": true,
                "ranges": {"optim.lr": {"low": 1e-4, "high": 1e-2, "log": true}}},
     "seeds": [0, 1], "select_on": "val", "report_on": "test", "tta": true,
     "cpus_per_run": 1, "gpus_per_run": 0}

`base` is a preset name or a config file (`"config": "run.json"`), with dotted-key
overrides in `set`. Every variation kind is optional; the baseline is always run.
Parsing checks shapes and types here; `plan.expand` checks the configs it produces.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..config import ConfigError

SCHEMA_VERSION = 1
ABLATE_MODES = ("leave-one-out", "add-one")
SELECT_ON = ("val",)  # never select on test
REPORT_ON = ("test", "val")


class StudyError(ConfigError):
    """A study spec or directory that cannot be used; one line naming what is wrong."""


@dataclass
class BaseSpec:
    preset: str = ""
    config: str = ""  # a RunConfig JSON file (relative paths: to the spec file)
    set: dict[str, Any] = field(default_factory=dict)


@dataclass
class AblateSpec:
    tricks: list[str] = field(default_factory=list)
    mode: str = "leave-one-out"


@dataclass
class RangeSpec:
    low: float
    high: float
    log: bool = False
    integer: bool = False


@dataclass
class RandomSpec:
    samples: int = 0
    seed: int = 0
    ranges: dict[str, RangeSpec] = field(default_factory=dict)
    asha: bool = False  # early stopping of bad trials (Ray backend only)
    grace_epochs: int = 1


@dataclass
class StudySpec:
    schema_version: int = SCHEMA_VERSION
    name: str = ""
    base: BaseSpec = field(default_factory=BaseSpec)
    ablate: AblateSpec = field(default_factory=AblateSpec)
    grid: dict[str, list[Any]] = field(default_factory=dict)
    random: RandomSpec = field(default_factory=RandomSpec)
    seeds: list[int] = field(default_factory=lambda: [0, 1])
    select_on: str = "val"
    report_on: str = "test"
    tta: bool = False
    cpus_per_run: float = 1.0
    gpus_per_run: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def save(self, path: str | Path) -> None:
        from ..utils.atomic import atomic_write_text

        atomic_write_text(Path(path), json.dumps(self.to_dict(), indent=1) + "\n")

    @classmethod
    def from_dict(cls, d: Any, where: Path | None = None) -> "StudySpec":
        return _parse(d, where)

    @classmethod
    def load(cls, path: str | Path) -> "StudySpec":
        p = Path(path)
        try:
            d = json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise StudyError(f"study spec not found: {p}") from None
        except (OSError, UnicodeDecodeError) as e:
            raise StudyError(f"cannot read study spec {p}: {e}") from None
        except json.JSONDecodeError as e:
            raise StudyError(f"{p}: not valid JSON: {e}") from None
        try:
            return _parse(d, p.parent)
        except StudyError as e:
            raise StudyError(f"{p}: {e}") from None


# -- parsing ------------------------------------------------------------------------------------
def _obj(d: Any, key: str, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(d, dict):
        raise StudyError(f"{key} must be an object, got {type(d).__name__}")
    unknown = sorted(set(d) - allowed)
    if unknown:
        raise StudyError(f"unknown key(s) in {key}: {', '.join(unknown)}")
    return d


def _typed(value: Any, tp: type, key: str) -> Any:
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp is int and isinstance(value, float) and value.is_integer():
        return int(value)
    if not isinstance(value, tp) or (tp in (int, float) and isinstance(value, bool)):
        raise StudyError(f"{key} must be {tp.__name__}, got {value!r}")
    return value


def _parse(d: Any, where: Path | None) -> StudySpec:
    top = {f for f in StudySpec.__dataclass_fields__}
    d = _obj(d, "the study spec", top)
    version = d.get("schema_version", SCHEMA_VERSION)
    if not isinstance(version, int) or isinstance(version, bool) or version > SCHEMA_VERSION:
        raise StudyError(f"study schema_version {version!r} is not one this fer-studio reads (<= {SCHEMA_VERSION})")
    spec = StudySpec(name=_typed(d.get("name", ""), str, "name"))
    base = _obj(d.get("base", {}), "base", {"preset", "config", "set"})
    spec.base = BaseSpec(preset=_typed(base.get("preset", ""), str, "base.preset"),
                         config=_typed(base.get("config", ""), str, "base.config"),
                         set=_obj(base.get("set", {}), "base.set", set(base.get("set", {}) or {})))
    if spec.base.preset and spec.base.config:
        raise StudyError("base: give a preset or a config file, not both")
    if spec.base.config and where is not None and not Path(spec.base.config).is_absolute():
        spec.base.config = str((where / spec.base.config).resolve())
    ablate = _obj(d.get("ablate", {}), "ablate", {"tricks", "mode"})
    spec.ablate = AblateSpec(tricks=[_typed(t, str, "ablate.tricks[]") for t in
                                     _typed(ablate.get("tricks", []), list, "ablate.tricks")],
                             mode=_typed(ablate.get("mode", "leave-one-out"), str, "ablate.mode"))
    if spec.ablate.mode not in ABLATE_MODES:
        raise StudyError(f"ablate.mode must be one of {', '.join(ABLATE_MODES)}, got {spec.ablate.mode!r}")
    if len(set(spec.ablate.tricks)) != len(spec.ablate.tricks):
        raise StudyError("ablate.tricks names a trick twice")
    grid = _obj(d.get("grid", {}), "grid", set(d.get("grid", {}) or {}))
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            raise StudyError(f"grid.{key} must be a non-empty list of values, got {values!r}")
    spec.grid = dict(grid)
    spec.random = _parse_random(d.get("random", {}))
    seeds = d.get("seeds", [0, 1])
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        seeds = list(range(seeds))
    seeds = [_typed(s, int, "seeds[]") for s in _typed(seeds, list, "seeds")]
    if not seeds or len(set(seeds)) != len(seeds):
        raise StudyError(f"seeds must be a non-empty list of distinct integers (or a count), got {seeds!r}")
    spec.seeds = seeds
    spec.select_on = _typed(d.get("select_on", "val"), str, "select_on")
    if spec.select_on not in SELECT_ON:
        raise StudyError(f"select_on must be 'val' (selecting on {spec.select_on!r} would leak the "
                         "report split into the choice), got " + repr(spec.select_on))
    spec.report_on = _typed(d.get("report_on", "test"), str, "report_on")
    if spec.report_on not in REPORT_ON:
        raise StudyError(f"report_on must be one of {', '.join(REPORT_ON)}, got {spec.report_on!r}")
    spec.tta = _typed(d.get("tta", False), bool, "tta")
    spec.cpus_per_run = _typed(d.get("cpus_per_run", 1.0), float, "cpus_per_run")
    spec.gpus_per_run = _typed(d.get("gpus_per_run", 0.0), float, "gpus_per_run")
    if spec.cpus_per_run <= 0 or spec.gpus_per_run < 0:
        raise StudyError("cpus_per_run must be > 0 and gpus_per_run >= 0 (fractions allowed)")
    return spec


def _parse_random(d: Any) -> RandomSpec:
    d = _obj(d, "random", {"samples", "seed", "ranges", "asha", "grace_epochs"})
    out = RandomSpec(samples=_typed(d.get("samples", 0), int, "random.samples"),
                     seed=_typed(d.get("seed", 0), int, "random.seed"),
                     asha=_typed(d.get("asha", False), bool, "random.asha"),
                     grace_epochs=_typed(d.get("grace_epochs", 1), int, "random.grace_epochs"))
    ranges = _obj(d.get("ranges", {}), "random.ranges", set(d.get("ranges", {}) or {}))
    for key, r in ranges.items():
        r = _obj(r, f"random.ranges.{key}", {"low", "high", "log", "integer"})
        if "low" not in r or "high" not in r:
            raise StudyError(f"random.ranges.{key} needs low and high")
        rs = RangeSpec(low=_typed(r["low"], float, f"random.ranges.{key}.low"),
                       high=_typed(r["high"], float, f"random.ranges.{key}.high"),
                       log=_typed(r.get("log", False), bool, f"random.ranges.{key}.log"),
                       integer=_typed(r.get("integer", False), bool, f"random.ranges.{key}.integer"))
        if not rs.low < rs.high or (rs.log and rs.low <= 0):
            raise StudyError(f"random.ranges.{key} needs low < high (and low > 0 when log), got {rs.low}..{rs.high}")
        out.ranges[key] = rs
    if out.samples < 0 or (out.samples and not out.ranges):
        raise StudyError("random.samples must be >= 0, and random samples need random.ranges")
    if out.grace_epochs < 1:
        raise StudyError("random.grace_epochs must be >= 1")
    return out


def grid_from_text(text: str) -> dict[str, list[Any]]:
    """`key = v1, v2` per line (values parsed as JSON, else kept as text) -> a spec's grid."""
    grid: dict[str, list[Any]] = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        if "=" not in line:
            raise StudyError(f"grid line {n}: expected key = value, value, ..., got {line.strip()!r}")
        key, raw = (part.strip() for part in line.split("=", 1))
        values = []
        for v in (v.strip() for v in raw.split(",")):
            try:
                values.append(json.loads(v))
            except json.JSONDecodeError:
                values.append(v)
        if not key or not raw:
            raise StudyError(f"grid line {n}: needs a key and at least one value")
        grid[key] = values
    return grid
