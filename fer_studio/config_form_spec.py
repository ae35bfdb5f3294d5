"""What the generated config form shows, derived from `config.fields()` and the trick catalogue.

Every leaf of `RunConfig` becomes a `FieldSpec` (section, label, tooltip, editor kind,
choices); nothing here is written per option except section titles and the device
suggestions. Choices come from each field's Literal type or the registry it points at;
tooltips from the trick catalogue (title + description) and each field's `help`.
"""
from __future__ import annotations

import html
import importlib
import re
import typing
from dataclasses import dataclass
from typing import Any, Literal

from fer_engine.config import RunConfig, fields
from fer_engine.recipe.tricks import TRICKS, Trick, active_tricks

SECTION_TITLES = {
    "data": "Data", "model": "Model", "normalize": "Normalization", "augment": "Augmentation",
    "mix": "Mixup / CutMix", "loss": "Loss", "sampler": "Sampling", "optim": "Optimizer",
    "schedule": "Learning-rate schedule", "train": "Training", "eval": "Evaluation and TTA",
    "kfold": "K-fold cross-validation",
}

#: Keys edited by dedicated widgets (data chooser, backbone chooser, run name), not the form.
EDITED_ELSEWHERE = {"name", "data.path", "model.backbone", "train.devices"}  # devices: DevicePicker


#: Suggestions for keys whose rule allows more than a list (cuda:1 etc. can be typed).
SUGGESTIONS = {"train.device": ["auto", "cpu", "cuda", "mps"]}
EDITABLE_CHOICES = set(SUGGESTIONS)
#: Choices offered besides a registry's names ("" = none chosen, "auto" = detect).
_REGISTRY_EXTRA = {"data.format": ["auto"], "data.label_map": [""]}


@dataclass(frozen=True)
class FieldSpec:
    key: str  # dotted config key
    type: Any  # bool, int, float, str or list[...]
    default: Any
    section: str
    label: str
    tooltip: str
    kind: str  # "bool", "int", "float", "choice", "text", "list"
    choices: tuple[str, ...] = ()
    trick: str = ""  # name of the trick this key belongs to ("" = none)


def choices_for(key: str) -> list[str]:
    """The values a key may take, as the config declares them: its Literal's values or the names
    in the registry its field points at (`fld(registry="module:NAME")`); [] for free values."""
    info = fields()[key]
    if info.registry:
        module, name = info.registry.split(":")
        return [*_REGISTRY_EXTRA.get(key, []), *getattr(importlib.import_module(module), name)]
    return [str(c) for c in info.choices] or list(SUGGESTIONS.get(key, []))


def _tricks_of_key() -> dict[str, list[Trick]]:
    out: dict[str, list[Trick]] = {}
    for _, trick in TRICKS.items():
        for key in trick.keys:
            out.setdefault(key, []).append(trick)
    return out


def humanize(key: str) -> str:
    leaf = key.rsplit(".", 1)[-1].replace("_", " ")
    leaf = re.sub(r"\b(lr|tta|f1|amp|cnn)\b", lambda m: m.group(1).upper(), leaf)
    leaf = re.sub(r" (min)$", r" (\1)", leaf)  # a unit at the end of the name: "time budget (min)"
    return leaf[:1].upper() + leaf[1:]


def _base(tp: Any) -> Any:
    """The Python type of a Literal's values (Literal[1, 3] -> int); other types unchanged."""
    return type(typing.get_args(tp)[0]) if typing.get_origin(tp) is Literal else tp


def _kind(key: str, tp: Any) -> str:
    if typing.get_origin(tp) is list:
        return "list"
    if tp is bool:
        return "bool"
    if _base(tp) in (int, float):  # numbers keep a spin box; their rule reports a bad value
        return _base(tp).__name__
    return "choice" if choices_for(key) else "text"


def form_fields() -> list[FieldSpec]:
    """The form's fields in config order (keys edited elsewhere left out)."""
    tricks = _tricks_of_key()
    specs = []
    for info in fields().values():
        key, tp, default = info.key, info.type, info.default
        if key in EDITED_ELSEWHERE:
            continue
        owners = tricks.get(key, [])
        tip = [f"<b>{html.escape(t.title)}</b>: {html.escape(t.description)}" for t in owners]
        label = humanize(key)
        if len(owners) == 1 and owners[0].keys == (key,):
            label = owners[0].title  # the key is the whole trick
        if info.help:
            tip.append(html.escape(info.help))
        tip.append(f"<i>{key}</i> (default {default!r})")
        kind = _kind(key, tp)
        specs.append(FieldSpec(key=key, type=tp, default=default, section=key.split(".")[0],
                               label=label, tooltip="<br>".join(tip), kind=kind,
                               choices=tuple(choices_for(key)) if kind == "choice" else (),
                               trick=owners[0].name if owners else ""))
    return specs


def sections() -> dict[str, list[FieldSpec]]:
    out: dict[str, list[FieldSpec]] = {}
    for spec in form_fields():
        out.setdefault(spec.section, []).append(spec)
    return out


def parse_list(text: str, tp: Any) -> list:
    """'0.9, 0.999' -> [0.9, 0.999] for a list[float] key; ValueError names the bad item."""
    (item_tp,) = typing.get_args(tp) or (str,)
    item_tp = _base(item_tp)
    items = [t.strip() for t in text.split(",") if t.strip()]
    try:
        return [item_tp(t) for t in items]
    except ValueError:
        raise ValueError(f"expected comma-separated {item_tp.__name__} values, got {text!r}") from None


def format_list(values: list) -> str:
    return ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values)


def active_keys(cfg: RunConfig) -> set[str]:
    """Config keys of the tricks that are on for `cfg` (shown in bold by the form)."""
    return {key for name in active_tricks(cfg) for key in TRICKS.get(name).keys}
