"""What the generated config form shows, derived from `field_paths()` and the registries.

Every leaf of `RunConfig` becomes a `FieldSpec` (section, label, tooltip, editor kind,
choices); nothing here is written per option except the small tables of choices and
section titles. Tooltips come from the tricks registry (title + description) and the
inline comments of `fer_engine/config.py`, so the form explains what the code does.
"""
from __future__ import annotations

import dataclasses
import functools
import html
import inspect
import re
import typing
from dataclasses import dataclass
from typing import Any, Callable

from fer_engine.config import RunConfig, field_paths

SECTION_TITLES = {
    "data": "Data", "model": "Model", "normalize": "Normalization", "augment": "Augmentation",
    "mix": "Mixup / CutMix", "loss": "Loss", "sampler": "Sampling", "optim": "Optimizer",
    "schedule": "Learning-rate schedule", "train": "Training", "eval": "Evaluation and TTA",
    "kfold": "K-fold cross-validation",
}

#: Keys edited by dedicated widgets (data chooser, backbone chooser, run name), not the form.
EDITED_ELSEWHERE = {"name", "data.path", "model.backbone", "train.devices"}  # devices: DevicePicker


def _backbone_names() -> list[str]:
    try:
        from fer_engine.models import BACKBONES
    except ImportError:
        return []
    return list(BACKBONES.names())


def _registry_choices(name: str) -> Callable[[], list[str]]:
    def get() -> list[str]:
        from fer_engine.recipe import tricks

        return list(getattr(tricks, name))
    return get


#: String keys with a fixed set of values, taken from the registries when asked.
CHOICES: dict[str, list[str] | Callable[[], list[str]]] = {
    "model.backbone": _backbone_names,
    "normalize.mode": _registry_choices("NORMALIZE_MODES"),
    "loss.name": _registry_choices("LOSSES"),
    "loss.class_weights": _registry_choices("CLASS_WEIGHTS"),
    "optim.name": _registry_choices("OPTIMIZERS"),
    "schedule.name": _registry_choices("SCHEDULES"),
    "train.monitor": _registry_choices("MONITORS"),
    "train.device": ["auto", "cpu", "cuda", "mps"],  # editable: cuda:1 etc. can be typed
    "eval.tta": _registry_choices("TTA_MODES"),
    "eval.tta_vote": _registry_choices("TTA_VOTES"),
    "eval.prior_correction": _registry_choices("PRIOR_CORRECTIONS"),
}


def _dataset_choices(what: str) -> Callable[[], list[str]]:
    def get() -> list[str]:
        from fer_engine.data.formats import FORMATS
        from fer_engine.data.label_maps import LABEL_MAPS

        return {"format": ["auto", *FORMATS], "label_map": ["", *LABEL_MAPS]}[what]
    return get


CHOICES.update({
    "data.format": _dataset_choices("format"),
    "data.label_map": _dataset_choices("label_map"),
    "data.label_mode": ["majority", "plurality", "probability"],
    "data.split_by": ["auto", "subject", "image"],
})
EDITABLE_CHOICES = {"train.device"}


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
    c = CHOICES.get(key, [])
    return list(c() if callable(c) else c)


@functools.lru_cache(maxsize=1)
def field_comments() -> dict[str, str]:
    """Inline `# comment` of every leaf in fer_engine/config.py, by dotted key."""
    out: dict[str, str] = {}
    hints = typing.get_type_hints(RunConfig)
    for section, tp in hints.items():
        if not dataclasses.is_dataclass(tp):
            continue
        try:
            source = inspect.getsource(tp)
        except (OSError, TypeError):
            continue
        for m in re.finditer(r"^\s+(\w+):[^#\n]*#\s*(.+)$", source, re.M):
            out[f"{section}.{m.group(1)}"] = m.group(2).strip()
    return out


def _tricks() -> list[tuple[str, Any]]:
    try:
        from fer_engine.recipe.tricks import TRICKS
    except ImportError:
        return []
    return list(TRICKS.items())


def trick_keys(entry: Any) -> tuple[str, ...]:
    for attr in ("keys", "config_keys"):
        keys = getattr(entry, attr, None)
        if keys:
            return tuple(keys)
    return ()


def _tricks_of_key() -> dict[str, list[tuple[str, Any]]]:
    out: dict[str, list[tuple[str, Any]]] = {}
    for name, entry in _tricks():
        for key in trick_keys(entry):
            out.setdefault(key, []).append((name, entry))
    return out


def humanize(key: str) -> str:
    leaf = key.rsplit(".", 1)[-1].replace("_", " ")
    leaf = re.sub(r"\b(lr|tta|f1|amp|cnn)\b", lambda m: m.group(1).upper(), leaf)
    return leaf[:1].upper() + leaf[1:]


def _kind(key: str, tp: Any) -> str:
    if typing.get_origin(tp) is list:
        return "list"
    if tp is bool:
        return "bool"
    if tp in (int, float):
        return tp.__name__
    return "choice" if key in CHOICES else "text"


def form_fields() -> list[FieldSpec]:
    """The form's fields in config order (keys edited elsewhere left out)."""
    comments, tricks = field_comments(), _tricks_of_key()
    specs = []
    for key, tp, default in field_paths():
        if key in EDITED_ELSEWHERE:
            continue
        owners = tricks.get(key, [])
        tip = [f"<b>{html.escape(getattr(e, 'title', n))}</b>: {html.escape(getattr(e, 'description', ''))}"
               for n, e in owners]
        label = humanize(key)
        if len(owners) == 1 and trick_keys(owners[0][1]) == (key,):
            label = getattr(owners[0][1], "title", label)  # the key is the whole trick
        if key in comments:
            tip.append(html.escape(comments[key]))
        tip.append(f"<i>{key}</i> (default {default!r})")
        specs.append(FieldSpec(key=key, type=tp, default=default, section=key.split(".")[0],
                               label=label, tooltip="<br>".join(tip), kind=_kind(key, tp),
                               choices=tuple(choices_for(key)), trick=owners[0][0] if owners else ""))
    return specs


def sections() -> dict[str, list[FieldSpec]]:
    out: dict[str, list[FieldSpec]] = {}
    for spec in form_fields():
        out.setdefault(spec.section, []).append(spec)
    return out


def parse_list(text: str, tp: Any) -> list:
    """'0.9, 0.999' -> [0.9, 0.999] for a list[float] key; ValueError names the bad item."""
    (item_tp,) = typing.get_args(tp) or (str,)
    items = [t.strip() for t in text.split(",") if t.strip()]
    try:
        return [item_tp(t) for t in items]
    except ValueError:
        raise ValueError(f"expected comma-separated {item_tp.__name__} values, got {text!r}") from None


def format_list(values: list) -> str:
    return ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values)


def _entries_on(cfg: RunConfig) -> list[tuple[str, Any]]:
    out = []
    for name, entry in _tricks():
        is_on = getattr(entry, "is_on", None)
        try:
            if is_on is not None and is_on(cfg):
                out.append((name, entry))
        except Exception:  # noqa: BLE001 - a broken predicate must not break the GUI
            continue
    return out


def active_keys(cfg: RunConfig) -> set[str]:
    """Config keys of the tricks that are on for `cfg` (shown in bold by the form)."""
    return {key for _, entry in _entries_on(cfg) for key in trick_keys(entry)}
