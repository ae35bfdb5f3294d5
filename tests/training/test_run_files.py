"""status.json and meta.json as `RunStatus` and `RunMeta`: fields checked, other keys kept."""
from __future__ import annotations

import json

import pytest

from fer_engine.config import RunConfig
from fer_engine.training.rundir import RunDir, RunDirError, RunMeta, RunStatus


@pytest.fixture
def run(tmp_path) -> RunDir:
    return RunDir.create(tmp_path, RunConfig(), name="first")


def test_status_keys_beyond_the_fields_are_kept_in_extra_and_written_back(run):
    run.write_status("stopped", reason="stopped early by ASHA", epoch=3, summary={"wall_time_s": 2.5})
    status = run.status()
    assert (status.state, status.summary, status.extra) == (
        "stopped", {"wall_time_s": 2.5}, {"reason": "stopped early by ASHA", "epoch": 3})
    on_disk = json.loads(run.status_path.read_text())
    assert on_disk == status.to_dict() and on_disk["reason"] == "stopped early by ASHA"
    assert "pid" not in on_disk and "error" not in on_disk  # unset fields are not written


def test_a_status_field_of_the_wrong_type_reads_as_damaged_naming_it(run):
    run.status_path.write_text(json.dumps({"status": "finished", "summary": [0.5]}))
    status = run.status()
    assert status.state == "damaged" and status.message == "status.json: 'summary' is [0.5], not a dict"
    with pytest.raises(RunDirError, match="'error' is 3"):
        run.write_status("failed", error=3)
    with pytest.raises(RunDirError, match="not a run status"):
        RunStatus.from_dict({"updated": 1.0})


def test_meta_reads_an_older_file_and_keeps_unknown_keys_on_write(run):
    run.meta_path.write_text(json.dumps({"display_name": "old", "kind": "ensemble", "tool_note": [1, 2]}))
    assert run.meta() == RunMeta(display_name="old", kind="ensemble", extra={"tool_note": [1, 2]})
    run.write_meta({"study_pruned": True})
    run.rename("renamed")
    assert json.loads(run.meta_path.read_text()) == {"display_name": "renamed", "kind": "ensemble",
                                                     "study_pruned": True, "tool_note": [1, 2]}
    assert run.display_name == "renamed" and run.meta().study_pruned


def test_a_damaged_meta_file_raises_naming_it_and_the_name_falls_back_to_the_id(run):
    run.meta_path.write_text(json.dumps({"display_name": 7}))
    with pytest.raises(RunDirError, match=r"meta\.json: 'display_name' is 7, not a str"):
        run.meta()
    assert run.display_name == run.run_id
