"""The runs page's Export… dialog: options per format, the self-check shown, a refusal explained."""
from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from export_runs import make_run  # noqa: E402
from fer_studio.widgets.export_dialog import ExportDialog  # noqa: E402

WAIT_MS = 240000  # the shared CPU


def test_dialog_exports_and_shows_the_self_check(qtbot, tiny_run, tmp_path):
    dialog = ExportDialog(str(tiny_run))
    qtbot.addWidget(dialog)
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData("torchscript"))
    assert dialog.precision_combo.count() == 1 and not dialog.opset.isEnabled()
    assert dialog.out_edit.text().endswith(".pt")
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData("onnx"))
    assert dialog.precision_combo.count() == 4 and dialog.out_edit.text().endswith(".onnx")
    dialog.out_edit.setText(str(tmp_path / "out" / "tiny.onnx"))
    dialog.start()
    qtbot.waitUntil(lambda: dialog.export_btn.isEnabled(), timeout=WAIT_MS)
    text = dialog.report.toPlainText()
    assert "self-check (float32 vs PyTorch float32, 256 test faces)" in text and "label agreement 100.00%" in text
    assert (tmp_path / "out" / "tiny.onnx").is_file() and (tmp_path / "out" / "MODEL_CARD.md").is_file()


def test_dialog_explains_a_refused_export(qtbot, runs_root, tmp_path):
    broken = make_run(runs_root)
    (broken / "checkpoints" / "best.pt").unlink()
    dialog = ExportDialog(str(broken))
    qtbot.addWidget(dialog)
    dialog.out_edit.setText(str(tmp_path / "x.onnx"))
    dialog.start()
    qtbot.waitUntil(lambda: dialog.export_btn.isEnabled(), timeout=WAIT_MS)
    assert dialog.lines[0].startswith("Not exported:") and "no checkpoint" in dialog.report.toPlainText()
    assert not (tmp_path / "x.onnx").exists()


def test_a_crashed_export_process_is_reported_and_a_cancel_leaves_no_file(tiny_run, tmp_path):
    import time

    from fer_engine.export.job import ExportJob

    job = ExportJob.start(tiny_run, tmp_path / "killed.onnx")
    job._process.kill()  # a native crash looks like this from the parent
    deadline = time.monotonic() + 60
    messages = []
    while not job.finished and time.monotonic() < deadline:
        messages += job.poll()
        time.sleep(0.05)
    assert messages[-1][0] == "failed" and "ended without a result (exit code -9)" in messages[-1][1]
    job = ExportJob.start(tiny_run, tmp_path / "cancelled.onnx")
    job.cancel()
    assert job.finished and list(tmp_path.iterdir()) == []



def _child_with_a_slow_pipe(*args) -> None:
    """The real export child, its queue sending each message to the pipe 0.5 s after the put."""
    import time

    from fer_engine.export.job import _child

    q = args[-1]
    send = q._send_bytes  # what the queue's feeder thread writes with

    def slow_send(data):
        time.sleep(0.5)
        return send(data)

    q._send_bytes = slow_send
    _child(*args)


def test_the_outcome_survives_a_process_that_ends_before_its_message_is_sent(runs_root, tmp_path):
    """The child flushes its last message before it exits (CI once lost a refusal's reason)."""
    from fer_engine.export.job import ExportJob

    class SlowPipeJob(ExportJob):
        _target = staticmethod(_child_with_a_slow_pipe)

    broken = make_run(runs_root)
    (broken / "checkpoints" / "best.pt").unlink()
    job = SlowPipeJob.start(broken, tmp_path / "x.onnx")
    job._process.join(120)
    messages = job.poll()
    assert messages and messages[-1][0] == "failed" and "no checkpoint" in messages[-1][1], messages
