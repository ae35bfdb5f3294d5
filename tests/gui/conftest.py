"""GUI tests: each test gets its own settings folder and runs folder."""
import pytest


@pytest.fixture(autouse=True)
def _own_settings_and_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("FER_STUDIO_CONFIG_DIR", str(tmp_path / "settings"))
    monkeypatch.setenv("FER_STUDIO_RUNS", str(tmp_path / "runs"))
