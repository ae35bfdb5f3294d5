"""How a config field is declared (`fld`: help text, range, rule, registry) and read back
(`leaves`: each leaf's `FieldInfo` with the rule validation applies and the form shows)."""
from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from typing import Any, Callable, Literal


class ConfigError(ValueError):
    """A config that cannot be used; the message names the offending key."""


# upper bounds: beyond them a run cannot fit in memory or finish, or a seed overflows numpy
MAX_IMAGE_SIZE = 1024
MAX_EPOCHS = 100_000
MAX_BUDGET_MIN = 7 * 24 * 60  # a week
MAX_BATCH = 65_536
MAX_COUNT = 100_000_000
MAX_SEED = 2 ** 32 - 1

Rule = tuple[Callable[[Any], bool], str]  # (is the value allowed?, what is allowed)


def fld(default: Any, help: str = "", *, min: float | None = None, max: float | None = None,
        lo_open: bool = False, hi_open: bool = False, rule: Rule | None = None,
        registry: str = "") -> Any:
    """A config field with its help text and allowed values, read by validation and the form.

    `min`/`max` bound a number (`lo_open`/`hi_open` exclude the bound); `rule` is any other
    check; a `Literal[...]` type lists the choices; `registry` ("module:NAME") names the registry
    that holds the choices when they are open-ended (backbones, dataset formats).
    """
    meta = {"help": help, "min": min, "max": max, "lo_open": lo_open, "hi_open": hi_open,
            "rule": rule, "registry": registry}
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class FieldInfo:
    """One config leaf as `fld` declared it, with the rule its value must follow."""
    key: str
    type: Any
    default: Any
    help: str = ""
    choices: tuple = ()  # the Literal's values (of the value, or of a list's items)
    registry: str = ""  # "module:NAME" of the registry that holds the choices
    rule: Rule | None = None


def leaves(cls, prefix: str = "") -> list[FieldInfo]:
    out = []
    hints = typing.get_type_hints(cls)
    inst = cls()
    for f in dataclasses.fields(cls):
        if f.name == "schema_version":
            continue
        tp, key = hints[f.name], f"{prefix}{f.name}"
        if dataclasses.is_dataclass(tp):
            out.extend(leaves(tp, key + "."))
            continue
        meta = f.metadata
        choices = literal_choices(tp)
        out.append(FieldInfo(key, tp, getattr(inst, f.name), meta.get("help", ""), choices,
                             meta.get("registry", ""), _rule(tp, meta, choices)))
    return out


def literal_choices(tp: Any) -> tuple:
    """The values of a Literal type, or of a list of Literals; () for any other type."""
    if typing.get_origin(tp) is list:
        (tp,) = typing.get_args(tp)
    return typing.get_args(tp) if typing.get_origin(tp) is Literal else ()


def _rule(tp: Any, meta: Any, choices: tuple) -> Rule | None:
    if meta.get("rule"):
        return meta["rule"]
    names = ", ".join(map(str, choices))
    if choices and typing.get_origin(tp) is list:
        return (lambda v: set(v) <= set(choices)), f"must only name {names}"
    if choices:
        return (lambda v: v in choices), f"must be one of {names}"
    lo, hi, lo_open, hi_open = (meta.get(k) for k in ("min", "max", "lo_open", "hi_open"))
    if lo is None:
        return None
    above = (lambda v: v > lo) if lo_open else (lambda v: v >= lo)
    if hi is None:
        return above, f"must be {'>' if lo_open else '>='} {lo}"
    below = (lambda v: v < hi) if hi_open else (lambda v: v <= hi)
    return ((lambda v: above(v) and below(v)),
            f"must be in {'(' if lo_open else '['}{lo}, {hi}{')' if hi_open else ']'}")
