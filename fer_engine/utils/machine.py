"""The machine a measurement ran on, in one line: CPU model, cores, bfloat16 or not.

Benchmarks print it in their header so that a figure names the CPU it was measured on.
"""
from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The CPU's marketing name ("AMD EPYC 9B14"), or the architecture when the OS hides it."""
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("model name", "Model", "Hardware") and value.strip():
                return value.strip()
    if platform.system() == "Darwin":
        try:
            return subprocess.run(["sysctl", "-n", "machdep.cpu.brand_string"], capture_output=True,
                                  text=True, timeout=5, check=True).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            pass
    return platform.processor() or platform.machine() or "unknown CPU"


def usable_cores() -> int:
    """Cores this process may run on (its affinity where the OS has one)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity else (os.cpu_count() or 1)


FORCE_FLOAT32_ENV = "FER_STUDIO_NO_BF16"


def float32_forced() -> bool:
    """Whether $FER_STUDIO_NO_BF16 (set to anything but 0) treats this CPU as float32-only."""
    return os.environ.get(FORCE_FLOAT32_ENV, "") not in ("", "0")


def cpu_has_native_bf16() -> bool:
    """True when this CPU runs bfloat16 matrix work in hardware (AVX512-BF16 or AMX), unless
    $FER_STUDIO_NO_BF16 is set (to 1): then the CPU is treated as float32-only, as AVX2 machines
    are (measuring, tests). Training's precision and the default backbone both follow it."""
    if float32_forced():
        return False
    import torch

    cpu = torch.cpu
    return bool(getattr(cpu, "_is_avx512_bf16_supported", lambda: False)()
                or getattr(cpu, "_is_amx_tile_supported", lambda: False)())


def cpu_kernels() -> str:
    """The vector instruction set torch's CPU kernels use ("AVX512", "AVX2"), with oneDNN's cap
    when one is set: $ATEN_CPU_CAPABILITY=avx2 and $ONEDNN_MAX_CPU_ISA=AVX2 make an AVX-512
    machine compute as an AVX2-only one does, which is how float32-only CPUs are measured here."""
    import torch

    kernels = f"{torch.backends.cpu.get_cpu_capability()} kernels"
    cap = os.environ.get("ONEDNN_MAX_CPU_ISA") or os.environ.get("DNNL_MAX_CPU_ISA")
    return f"{kernels}, oneDNN capped at {cap}" if cap else kernels


def machine_line() -> str:
    """e.g. "AMD EPYC 9B14, 2 cores, AVX512 kernels, bfloat16 native" or
    "..., AVX2 kernels, no native bfloat16 (float32)"."""
    if float32_forced():
        bf16 = f"float32 forced (${FORCE_FLOAT32_ENV})"
    else:
        bf16 = "bfloat16 native" if cpu_has_native_bf16() else "no native bfloat16 (float32)"
    return f"{cpu_model()}, {usable_cores()} cores, {cpu_kernels()}, {bf16}"
