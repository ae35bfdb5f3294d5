"""Expand a study spec into its variants and runs, every config checked before anything trains.

A variant is a name plus the dotted-key changes it makes to the base; a run is one variant
with one training seed. The baseline is always variant 0. Errors (an unknown trick, key or
value, a variant equal to the base, a trick that is already off/on) raise a one-line
`StudyError`.
"""
from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..config import ConfigError, RunConfig
from .spec import StudyError, StudySpec
from .switches import SWITCHES

BASELINE = "baseline"


@dataclass(frozen=True)
class Variant:
    name: str
    changes: dict[str, Any]  # dotted key -> value, over the base


@dataclass(frozen=True)
class PlannedRun:
    key: str  # the run directory's name under <study>/runs/
    variant: str
    seed: int
    config: RunConfig


@dataclass
class Plan:
    base: RunConfig
    variants: list[Variant]
    runs: list[PlannedRun]
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"variants": [{"name": v.name, "changes": v.changes} for v in self.variants],
                "runs": [{"key": r.key, "variant": r.variant, "seed": r.seed, "config": r.config.to_dict()}
                         for r in self.runs],
                "notes": list(self.notes)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Plan":
        variants = [Variant(v["name"], dict(v["changes"])) for v in d["variants"]]
        runs = [PlannedRun(r["key"], r["variant"], int(r["seed"]), RunConfig.from_dict(r["config"]))
                for r in d["runs"]]
        base = next((r.config for r in runs if r.variant == BASELINE), RunConfig())
        return cls(base, variants, runs, list(d.get("notes", [])))


def base_config(spec: StudySpec) -> RunConfig:
    """The spec's base: its preset or config file, with `base.set` applied."""
    if spec.base.preset:  # the spec allows a preset or a config file, not both
        from ..presets import PresetError, load_preset

        try:  # base.set may change the device or the precision, so the preset applies it
            return load_preset(spec.base.preset, spec.base.set)
        except PresetError:
            raise
        except ConfigError as e:
            raise StudyError(f"base.set: {e}") from None
    cfg = RunConfig.load(spec.base.config) if spec.base.config else RunConfig()
    try:
        return cfg.replace(**spec.base.set)
    except ConfigError as e:
        raise StudyError(f"base.set: {e}") from None


def _honest(cfg: RunConfig, spec: StudySpec) -> dict[str, Any]:
    """Changes every run gets: select on val, save the report split, TTA as the spec says."""
    splits = list(dict.fromkeys([*cfg.eval.splits, "val", spec.report_on]))
    changes: dict[str, Any] = {"eval.splits": splits}
    if not cfg.train.monitor.startswith("val_"):
        changes["train.monitor"] = "val_acc"
    if spec.tta and cfg.eval.tta == "none":
        changes["eval.tta"] = "flip"
    return changes


def _slug(text: str) -> str:
    """A folder-safe form of a variant name ("-hflip" -> "no-hflip", "+mixup" -> "with-mixup")."""
    text = re.sub(r"^\+", "with-", re.sub(r"^-", "no-", text))
    return re.sub(r"[^A-Za-z0-9_.=+-]+", "_", text).strip("_")[:60] or "variant"


def _value_text(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def _ablate_variants(spec: StudySpec, base: RunConfig) -> list[Variant]:
    from ..recipe.tricks import TRICKS

    out = []
    leave = spec.ablate.mode == "leave-one-out"
    for name in spec.ablate.tricks:
        if name not in TRICKS:
            raise StudyError(f"ablate: unknown trick {name!r}; switchable tricks: {', '.join(SWITCHES.names())}")
        if name not in SWITCHES:
            raise StudyError(f"ablate: trick {name!r} has no automatic on/off values; vary its keys "
                             f"({', '.join(TRICKS.get(name).keys)}) in grid instead")
        trick, switch = TRICKS.get(name), SWITCHES.get(name)
        if trick.is_on(base) != leave:
            state = "off" if leave else "on"
            raise StudyError(f"ablate: trick {name!r} is already {state} in the base, so "
                             f"{'leaving it out' if leave else 'adding it'} would repeat the baseline")
        changes = dict(switch.off if leave else switch.on)
        cfg = _apply(base, changes, name)
        if trick.is_on(cfg) == leave:
            raise StudyError(f"ablate: switching {name!r} {'off' if leave else 'on'} with {changes} "
                             "did not change it; vary its keys in grid instead")
        out.append(Variant(f"{'-' if leave else '+'}{name}", changes))
    return out


def _grid_variants(spec: StudySpec) -> list[Variant]:
    keys = list(spec.grid)
    if not keys:
        return []
    out = []
    for values in itertools.product(*(spec.grid[k] for k in keys)):
        changes = dict(zip(keys, values))
        out.append(Variant(",".join(f"{k}={_value_text(v)}" for k, v in changes.items()), changes))
    return out


def _random_variants(spec: StudySpec) -> list[Variant]:
    r = spec.random
    rng = np.random.default_rng(r.seed)
    out = []
    for i in range(r.samples):
        changes: dict[str, Any] = {}
        for key, rs in r.ranges.items():
            if rs.log:
                v = float(math.exp(rng.uniform(math.log(rs.low), math.log(rs.high))))
            else:
                v = float(rng.uniform(rs.low, rs.high))
            changes[key] = int(round(v)) if rs.integer else float(f"{v:.4g}")
        out.append(Variant(f"random-{i:02d}", changes))
    return out


def _apply(base: RunConfig, changes: dict[str, Any], variant: str) -> RunConfig:
    from ..recipe.checks import check_config

    try:
        cfg = base.replace(**changes)
    except ConfigError as e:
        raise StudyError(f"variant {variant!r}: {e}") from None
    errors = [p for p in check_config(cfg) if p.severity == "error"]
    if errors:
        raise StudyError(f"variant {variant!r}: " + "; ".join(f"{p.key}: {p.message}" for p in errors))
    return cfg


def expand(spec: StudySpec, base: RunConfig | None = None) -> Plan:
    """The variants and runs of a spec, each config checked; StudyError on the first problem."""
    base = base_config(spec) if base is None else base
    base = _apply(base, _honest(base, spec), BASELINE)
    variants = [Variant(BASELINE, {}), *_ablate_variants(spec, base), *_grid_variants(spec),
                *_random_variants(spec)]
    seen: dict[str, str] = {}
    configs = {}
    for v in variants:
        cfg = _apply(base, v.changes, v.name)
        ident = cfg.replace(name="").to_json()
        if v.name != BASELINE and ident == base.replace(name="").to_json():
            raise StudyError(f"variant {v.name!r} is equal to the base; drop it (the baseline is always run)")
        if ident in seen:
            raise StudyError(f"variants {seen[ident]!r} and {v.name!r} give the same config")
        seen[ident] = v.name
        configs[v.name] = cfg
    runs = []
    for i, v in enumerate(variants):
        for seed in spec.seeds:
            cfg = configs[v.name].replace(**{"train.seed": seed,
                                             "name": f"{spec.name or 'study'}: {v.name} seed {seed}"})
            runs.append(PlannedRun(f"{i:02d}-{_slug(v.name)}-s{seed}", v.name, seed, cfg))
    return Plan(base, variants, runs, plan_notes(spec, base))


def plan_notes(spec: StudySpec, base: RunConfig) -> list[str]:
    """What a reader of the results must know about this design."""
    notes = [f"select on {spec.select_on}, report on {spec.report_on}"
             + (" with TTA" if spec.tta else "") + "; nothing trains on the test split"]
    if len(spec.seeds) == 1:
        notes.append("one seed per variant: seed-to-seed spread is not measured, so no effect can be "
                     "told from training noise (add seeds with `study resume DIR --add-seeds`)")
    notes.append(f"every run reuses the same data split (data.split_seed={base.data.split_seed}): "
                 "effects are paired on the same test faces; seeds vary training only")
    if base.train.time_budget_min > 0:
        notes.append(f"every run fits as many epochs as its time budget holds ({base.train.time_budget_min:g} min, "
                     f"at most train.epochs={base.train.epochs}): where the budget binds, variants are compared "
                     "at equal time, not equal epochs (set train.time_budget_min=0 in base.set for equal epochs)")
    if spec.random.asha and spec.random.samples:
        notes.append("ASHA early stopping of bad random samples acts on the Ray backend only")
    return notes


def add_seeds(plan: Plan, spec: StudySpec, seeds: list[int]) -> list[PlannedRun]:
    """New runs for extra seeds of every variant (already planned seeds are refused)."""
    dup = sorted(set(seeds) & set(spec.seeds))
    if dup or not seeds:
        raise StudyError(f"seed(s) {dup} are already in the study" if dup else "no seeds to add")
    new = []
    for i, v in enumerate(plan.variants):
        template = next(r.config for r in plan.runs if r.variant == v.name)
        for seed in seeds:
            cfg = template.replace(**{"train.seed": seed,
                                      "name": f"{spec.name or 'study'}: {v.name} seed {seed}"})
            new.append(PlannedRun(f"{i:02d}-{_slug(v.name)}-s{seed}", v.name, seed, cfg))
    plan.runs.extend(new)
    spec.seeds = [*spec.seeds, *seeds]
    plan.notes = plan_notes(spec, plan.base)
    return new
