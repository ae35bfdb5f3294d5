"""User settings that persist between launches, kept as JSON in the user's config folder.

The folder is `$FER_STUDIO_CONFIG_DIR` when set (tests set it), else `~/.config/fer-studio`.
A missing or unreadable file gives the defaults; unknown keys are ignored, so older and
newer app versions can share the file.
"""
from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from fer_engine.presets import user_config_dir
from fer_engine.utils.atomic import atomic_write_text

log = logging.getLogger(__name__)
MAX_RECENT = 10
THEMES = ("light", "dark")


@dataclass
class Settings:
    runs_root: str = ""  # "" = fer_engine.paths.default_runs_dir()
    recent_datasets: list[str] = field(default_factory=list)  # most recent first
    last_data: str = "demo"
    window_geometry: str = ""  # QWidget.saveGeometry(), base64
    window_state: str = ""  # QMainWindow.saveState(), base64
    last_page: str = "setup"
    theme: str = "light"
    low_priority_training: bool = False  # renice GUI-started workers (smoother window, slower runs)
    path: Path | None = field(default=None, repr=False, compare=False)

    @staticmethod
    def default_path() -> Path:
        return user_config_dir() / "settings.json"

    @classmethod
    def load(cls, path: Path | None = None) -> "Settings":
        path = Path(path) if path else cls.default_path()
        out = cls(path=path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return out
        except (OSError, ValueError) as e:
            log.warning("ignoring unreadable settings file %s: %s", path, e)
            return out
        if not isinstance(data, dict):
            log.warning("ignoring settings file %s: not a JSON object", path)
            return out
        for f in dataclasses.fields(cls):
            value = data.get(f.name)
            if f.name != "path" and value is not None and isinstance(value, type(getattr(out, f.name))):
                setattr(out, f.name, value)
        if out.theme not in THEMES:
            out.theme = "light"
        out.recent_datasets = [p for p in out.recent_datasets if isinstance(p, str)][:MAX_RECENT]
        return out

    def save(self) -> None:
        """Write the settings (atomically); an unwritable folder is logged, never fatal."""
        path = self.path or self.default_path()
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "path"}
        try:
            atomic_write_text(path, json.dumps(data, indent=2) + "\n")
        except OSError as e:
            log.warning("cannot save settings to %s: %s", path, e)

    def remember_dataset(self, data_path: str) -> None:
        self.last_data = data_path
        recent = [p for p in self.recent_datasets if p != data_path]
        self.recent_datasets = [data_path, *recent][:MAX_RECENT]
