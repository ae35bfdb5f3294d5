"""AMP per device: bfloat16 where the GPU or CPU computes it natively, float16 on older GPUs, else float32."""
import pytest
import torch

from fer_engine.training import precision
from fer_engine.training.precision import amp_dtype, describe
from fer_engine.utils import machine


@pytest.mark.parametrize("native", [True, False])
def test_cpu_amp_is_bfloat16_only_where_the_cpu_computes_it(monkeypatch, native):
    monkeypatch.setattr(machine, "cpu_has_native_bf16", lambda: native)
    cpu = torch.device("cpu")
    assert amp_dtype(cpu, True) == (torch.bfloat16 if native else None)
    assert amp_dtype(cpu, False) is None


@pytest.mark.parametrize("native", [True, False])
def test_cuda_amp_is_bfloat16_on_gpus_with_bf16_tensor_cores_else_float16(monkeypatch, native):
    monkeypatch.setattr(precision, "cuda_has_native_bf16", lambda device: native)
    cuda = torch.device("cuda")
    assert amp_dtype(cuda, True) == (torch.bfloat16 if native else torch.float16)
    assert amp_dtype(cuda, False) is None


def test_the_log_line_names_precision_and_memory_format():
    assert describe(torch.device("cpu"), torch.bfloat16, True) == "cpu (bfloat16 autocast, channels_last)"
    assert describe(torch.device("cuda:0"), None, False) == "cuda:0"


def test_a_cpu_run_logs_the_precision_it_trained_with(tiny_data, runs_root):
    from training_helpers import tiny_config

    from fer_engine.training import events as ev
    from fer_engine.training.run import fit
    from fer_engine.training.rundir import RunDir

    for amp in (True, False):
        cfg = tiny_config(tiny_data, **{"train.amp": amp, "train.epochs": 1})
        events = []
        assert fit(cfg, RunDir.create(runs_root, cfg), events.append, lambda: False)["status"] == "finished"
        device = next(e.device for e in events if isinstance(e, ev.RunStarted))
        assert ("bfloat16 autocast" in device) == (amp and machine.cpu_has_native_bf16()), device
