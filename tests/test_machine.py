"""The machine line benchmarks print: CPU model, cores, native bfloat16 or not."""
from __future__ import annotations

import importlib.util
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from fer_engine.training import precision
from fer_engine.utils import machine

pytestmark = pytest.mark.timeout(60)
BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def test_cpu_model_reads_the_model_name(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 9B14\nflags\t: avx2\n")
    assert machine.cpu_model(cpuinfo) == "AMD EPYC 9B14"
    if platform.system() == "Linux":  # elsewhere the OS is asked instead
        cpuinfo.write_text("processor\t: 0\nBogoMIPS\t: 50.00\n")  # ARM kernels often name no model
        assert machine.cpu_model(cpuinfo) == (platform.processor() or platform.machine())


@pytest.mark.parametrize("native, says", [(True, "bfloat16 native"), (False, "no native bfloat16 (float32)")])
def test_machine_line_names_the_cpu_cores_and_bfloat16(monkeypatch, native, says):
    monkeypatch.delenv(machine.FORCE_FLOAT32_ENV, raising=False)
    monkeypatch.setattr(machine, "cpu_model", lambda: "Fake CPU 9000")
    monkeypatch.setattr(machine, "usable_cores", lambda: 3)
    monkeypatch.setattr(machine, "cpu_kernels", lambda: "AVX2 kernels")
    monkeypatch.setattr(machine, "cpu_has_native_bf16", lambda: native)
    assert machine.machine_line() == f"Fake CPU 9000, 3 cores, AVX2 kernels, {says}"
    assert precision.training_precision("cpu", False) == ("bfloat16 autocast" if native else "float32")
    assert precision.training_precision("cpu", True) == "float32 (forced)"


def test_the_environment_forces_float32_and_the_machine_line_says_so(monkeypatch):
    monkeypatch.setattr(machine, "cpu_model", lambda: "Fake CPU 9000")
    monkeypatch.setattr(machine, "usable_cores", lambda: 2)
    monkeypatch.setattr(machine, "cpu_kernels", lambda: "AVX512 kernels")
    monkeypatch.setenv(machine.FORCE_FLOAT32_ENV, "1")
    assert not machine.cpu_has_native_bf16()
    assert precision.amp_dtype(torch.device("cpu"), True) is None
    assert machine.machine_line() == "Fake CPU 9000, 2 cores, AVX512 kernels, float32 forced ($FER_STUDIO_NO_BF16)"


def test_the_kernels_named_are_those_torch_was_capped_to():
    """An AVX2-only CPU is measured on a newer one by capping torch's and oneDNN's kernels; the
    line must then name AVX2, read from torch itself (the capability is fixed at import)."""
    if torch.backends.cpu.get_cpu_capability() not in ("AVX2", "AVX512"):
        pytest.skip("not an x86 CPU with AVX2")
    env = {**os.environ, "ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"}
    code = "from fer_engine.utils.machine import cpu_kernels; print(cpu_kernels())"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=50, check=True).stdout.strip()
    assert out == "AVX2 kernels, oneDNN capped at AVX2"


def _benchmark(script: str):
    spec = importlib.util.spec_from_file_location(f"bench_{script}", BENCHMARKS / f"{script}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("script", ["accuracy", "throughput"])
def test_the_benchmarks_can_force_float32(script, capsys):
    module = _benchmark(script)
    with pytest.raises(SystemExit) as done:
        module.main(["--help"])
    assert done.value.code == 0
    assert "--no-bf16" in capsys.readouterr().out


def test_quick_cpus_accuracy_target_is_that_of_what_the_machine_computes(monkeypatch):
    """Issue 25: >= 65% where quick-cpu trains in bfloat16, >= 60% in float32."""
    module = _benchmark("accuracy")
    monkeypatch.delenv(machine.FORCE_FLOAT32_ENV, raising=False)
    for native, target in ((True, 0.65), (False, 0.60)):
        monkeypatch.setattr(machine, "cpu_has_native_bf16", lambda native=native: native)
        assert module.target_of("quick-cpu", torch.device("cpu")) == target
    assert module.target_of("resnet18-48", torch.device("cpu")) == 0.73
