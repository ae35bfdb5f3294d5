"""Named run-config presets: built-in recipes shipped with fer_engine plus the user's own.

A preset file is a (possibly partial) RunConfig JSON: keys it leaves out take the
config defaults, so a recipe states only what it changes; its "description" says what it
does (`preset_description`), for the GUI and the CLI. Built-in presets live in
`fer_engine/presets/*.json`; user presets in `<config dir>/presets/*.json`
(`$FER_STUDIO_CONFIG_DIR`, else `~/.config/fer-studio`). Files are parsed as data,
never executed. A user preset may not shadow a built-in one.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import ConfigError, RunConfig

BUILTIN_DIR = Path(__file__).with_name("presets")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")


class PresetError(ConfigError):
    """A preset that cannot be listed, loaded or saved; the message names it."""


def user_config_dir() -> Path:
    """The user's fer-studio settings folder ($FER_STUDIO_CONFIG_DIR when set)."""
    env = os.environ.get("FER_STUDIO_CONFIG_DIR")
    return Path(env) if env else Path.home() / ".config" / "fer-studio"


def user_presets_dir() -> Path:
    return user_config_dir() / "presets"


def _files(folder: Path) -> dict[str, Path]:
    if not folder.is_dir():
        return {}
    return {p.stem: p for p in sorted(folder.glob("*.json")) if _NAME.match(p.stem)}


def builtin_presets() -> list[str]:
    return list(_files(BUILTIN_DIR))


def list_presets() -> list[str]:
    """Built-in presets first (alphabetical), then the user's own."""
    builtin = _files(BUILTIN_DIR)
    user = [n for n in _files(user_presets_dir()) if n not in builtin]
    return list(builtin) + user


def preset_path(name: str) -> Path:
    """The file behind a preset name (built-in wins); PresetError listing names if unknown."""
    for folder in (BUILTIN_DIR, user_presets_dir()):
        path = _files(folder).get(name)
        if path is not None:
            return path
    raise PresetError(f"unknown preset {name!r}; available: {', '.join(list_presets()) or '(none)'}")


def _preset_json(name: str) -> dict[str, Any]:
    path = preset_path(name)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise PresetError(f"preset {name!r} is invalid: cannot read {path}: {e}") from None
    if not isinstance(data, dict):
        raise PresetError(f"preset {name!r} is invalid: {path} holds a JSON {type(data).__name__}, not an object")
    return data


def load_preset(name: str, changes: dict[str, Any] | None = None) -> RunConfig:
    """The RunConfig of a preset (missing keys take the defaults) with `changes` (dotted keys)
    applied. A preset that names no backbone gets the one sized for this machine
    (`models.default_backbone`), for the device and precision after the changes, unless they
    name one. PresetError for the preset itself, ConfigError for a bad change."""
    data = _preset_json(name)
    data.pop("description", None)
    try:
        cfg = RunConfig.from_dict(data)
    except ConfigError as e:
        raise PresetError(f"preset {name!r} is invalid: {preset_path(name)}: {e}") from None
    changes = changes or {}
    cfg = cfg.replace(**changes)
    return sized_for_machine(cfg) if machine_picks(name, changes) else cfg


def sizes_backbone(name: str) -> bool:
    """Whether preset `name` leaves the backbone to the machine (its "model" names none)."""
    model = _preset_json(name).get("model")
    return not (isinstance(model, dict) and "backbone" in model)


def machine_picks(name: str, changes: dict[str, Any]) -> bool:
    """Whether the machine picks the backbone of preset `name` with `changes`: neither names one."""
    return sizes_backbone(name) and "model.backbone" not in changes


def sized_for_machine(cfg: RunConfig) -> RunConfig:
    """`cfg` with the backbone `models.default_backbone` picks for its device and precision;
    callers that change train.device or train.amp after loading a preset apply it again."""
    from .models import default_backbone

    return cfg.replace(**{"model.backbone": default_backbone(cfg.train.device, cfg.train.amp)})


def preset_description(name: str) -> str:
    """What a preset does, as its file says ("description"; "" when it says nothing)."""
    return str(_preset_json(name).get("description", ""))


def save_preset(name: str, cfg: RunConfig) -> Path:
    """Save `cfg` as the user preset `name` (overwriting an older user preset of that name)."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise PresetError(
            f"invalid preset name {name!r}: use letters, digits, '-', '_' or '.', "
            "starting with a letter or digit (at most 64 characters)")
    if name in _files(BUILTIN_DIR):
        raise PresetError(f"{name!r} is a built-in preset; save under another name")
    path = user_presets_dir() / f"{name}.json"
    try:
        cfg.save(path)
    except OSError as e:
        raise PresetError(f"cannot save preset {name!r} to {path}: {e}") from None
    return path


def delete_preset(name: str) -> None:
    """Remove a user preset; built-in presets cannot be deleted."""
    if name in _files(BUILTIN_DIR):
        raise PresetError(f"{name!r} is a built-in preset and cannot be deleted")
    path = _files(user_presets_dir()).get(name)
    if path is None:
        raise PresetError(f"no user preset named {name!r}")
    path.unlink()


# -- ensemble recipes ----------------------------------------------------------------------
ENSEMBLE_DIR = BUILTIN_DIR / "ensembles"
VOTES = ("soft", "hard")


@dataclass(frozen=True)
class EnsembleRecipe:
    """A built-in ensemble: member presets (each with config overrides) and the vote."""

    name: str
    description: str
    vote: str
    members: tuple[tuple[str, dict[str, Any]], ...]  # (preset name, dotted-key overrides)

    def member_configs(self) -> list[RunConfig]:
        """One RunConfig per member: its preset with the overrides applied."""
        return [load_preset(p, changes) for p, changes in self.members]

    def members_sized(self) -> list[bool]:
        """Per member: whether the machine picks its backbone (neither its preset nor its
        overrides name one), so flags that change the device or precision re-size it."""
        return [machine_picks(p, changes) for p, changes in self.members]


def builtin_ensembles() -> list[str]:
    return list(_files(ENSEMBLE_DIR))


def load_ensemble_recipe(name: str) -> EnsembleRecipe:
    """The ensemble recipe `name` (parsed as data); PresetError naming what is wrong."""
    path = _files(ENSEMBLE_DIR).get(name)
    if path is None:
        raise PresetError(f"unknown ensemble recipe {name!r}; available: "
                          f"{', '.join(builtin_ensembles()) or '(none)'}")
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
        members = tuple((str(m["preset"]), dict(m.get("set", {}))) for m in d["members"])
        recipe = EnsembleRecipe(name=str(d.get("name", name)), description=str(d.get("description", "")),
                                vote=str(d.get("vote", "soft")), members=members)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise PresetError(f"ensemble recipe {name!r} is invalid ({path}): {e!r}") from None
    if recipe.vote not in VOTES or len(recipe.members) < 2:
        raise PresetError(f"ensemble recipe {name!r} needs a vote in {VOTES} and two or more members")
    try:
        recipe.member_configs()
    except ConfigError as e:
        raise PresetError(f"ensemble recipe {name!r} has an invalid member: {e}") from None
    return recipe
