"""Live tests: a finished run directory with an untrained tiny model, and the real video."""
from __future__ import annotations

from pathlib import Path

import pytest

from live_runs import make_run


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    return make_run(tmp_path_factory.mktemp("live-runs"))


@pytest.fixture(scope="session")
def video(shared_data) -> Path:
    p = shared_data / "video" / "woman2.mp4"
    if not p.is_file():
        pytest.skip(f"video not found: {p}")
    return p


@pytest.fixture
def page(qtbot, tiny_run, tmp_path):
    """A shown Live page over the tiny run (selected), saving snapshots under tmp_path."""
    from fer_studio.pages.live_page import LivePage
    from fer_studio.state import AppState

    state = AppState(runs_root=tiny_run.parent)
    state.selected_run = str(tiny_run)  # the page starts on the selected run
    p = LivePage(state)
    qtbot.addWidget(p)
    p.out_dir.setText(str(tmp_path / "saved"))
    p.resize(1200, 700)
    p.show()
    yield p
    p.shutdown()
