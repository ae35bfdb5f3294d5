"""One damaged run file never hides the other runs (issue 19, item 5)."""
from __future__ import annotations

import pytest

from fer_engine.config import RunConfig
from fer_engine.training.rundir import RunDir
from fer_engine.training.runs_list import list_runs


@pytest.mark.parametrize("name, text, reason", [
    ("status.json", "[]", "status.json holds a JSON list, not a run status"),
    ("status.json", '{"status": 7}', "status.json holds status 7, not a run status"),
    ("meta.json", "[]", "meta.json holds a JSON list, not an object"),
    ("meta.json", "\"x\"", "meta.json holds a JSON str, not an object"),
    ("config.json", "[]", "a config must be a JSON object, got list"),
    ("kfold.json", "[1]", "kfold.json holds a JSON list, not an object"),
])
def test_a_damaged_run_is_listed_as_damaged_with_the_reason(tmp_path, name, text, reason):
    good = RunDir.create(tmp_path, RunConfig(), name="good")
    good.write_status("finished")
    bad = RunDir.create(tmp_path, RunConfig().replace(**{"kfold.k": 3}) if name == "kfold.json" else RunConfig(),
                        name="bad")
    bad.write_status("finished")
    (bad.path / name).write_text(text)
    rows = {r.path: r for r in list_runs(tmp_path)}
    assert rows[good.path].status == "finished" and rows[good.path].problem == ""
    assert rows[bad.path].status == "damaged" and reason in rows[bad.path].problem
    assert not bad.is_running()


def test_status_of_a_damaged_status_file_says_why(tmp_path):
    run = RunDir.create(tmp_path, RunConfig())
    run.status_path.write_text("[]")
    assert run.status().to_dict() == {"status": "damaged", "message": "status.json holds a JSON list, not a run status"}
    with pytest.raises(ValueError, match="unknown run status"):
        run.write_status("damaged")  # a reading, never written
