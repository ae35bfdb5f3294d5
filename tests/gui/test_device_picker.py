"""The set-up page's device picker writes train.devices/train.device; the training page's
progress line names every process of a multi-device run."""
import pytest
import torch

from fer_engine.config import RunConfig
from fer_engine.training import events as ev
from fer_studio.run_curves import RunCurves
from fer_studio.state import AppState
from fer_studio.widgets.device_picker import DevicePicker
from fer_studio.widgets.run_progress import RunProgress


@pytest.fixture
def state(tmp_path):
    return AppState(runs_root=tmp_path / "runs")


def test_without_a_gpu_it_says_so_and_offers_cpu_processes(qtbot, state):
    picker = DevicePicker(state, gpus=[])
    qtbot.addWidget(picker)
    assert "No GPU on this machine" in picker.findChildren(type(picker.summary))[0].text()
    assert picker.summary.text().startswith("One process on the CPU")
    picker.cpu_processes.setValue(2)
    assert (state.config.train.devices, state.config.train.device) == ("2", "cpu")
    assert picker.summary.text().startswith("2 CPU processes (gloo): one run through torchrun; global batch 128")
    picker.cpu_processes.setValue(1)
    assert (state.config.train.devices, state.config.train.device) == ("1", "auto")
    state.set_config(RunConfig().replace(**{"train.devices": "3", "train.device": "cpu"}))  # a preset
    assert picker.cpu_processes.value() == 3


def test_ticked_gpus_become_the_device_list(qtbot, state, monkeypatch):
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 3)
    gpus = [(f"cuda:{i}", "NVIDIA Test · 80 GiB") for i in range(3)]
    picker = DevicePicker(state, gpus=gpus)
    qtbot.addWidget(picker)
    assert picker.chosen() == ["cuda:0"]  # "auto" trains on the first GPU
    picker.boxes[2].setChecked(True)
    assert (state.config.train.devices, state.config.train.device) == ("cuda:0,2", "auto")
    assert "2 GPUs cuda:0,2 (nccl)" in picker.summary.text()
    picker.boxes[0].setChecked(False)
    assert (state.config.train.devices, state.config.train.device) == ("1", "cuda:2")
    picker.boxes[2].setChecked(False)  # never none: the first comes back
    assert picker.chosen() == ["cuda:0"] and state.config.train.device == "cuda:0"


def test_progress_names_the_processes_and_the_global_batch(qtbot):
    progress = RunProgress()
    qtbot.addWidget(progress)
    curves = RunCurves()
    curves.apply(ev.RunStarted(run_id="r", run_dir="/r", device="cpu", epochs=2, steps_per_epoch=4,
                                      num_train=10, num_val=2, class_names=("a", "b"),
                                      devices=("cpu", "cpu"), global_batch=16))
    progress.show_curves(curves)
    assert "2 processes on cpu, cpu · global batch 16" in progress.info.text()
