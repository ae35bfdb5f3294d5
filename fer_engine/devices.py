"""Which devices a run trains on: `train.devices` / `train.device` / `train.nodes` as a plan.

`train.devices` says how many processes run on each node and on what: `"1"` (one process,
`train.device` decides), `"4"` (GPUs 0-3 with NCCL; with `train.device="cpu"`, four CPU
processes with gloo, for testing), or `"cuda:0,2"` (those GPUs). `train.nodes` machines each
run that many. A plain module under every package: the config checks, the set-up page's device
picker and the training launcher all read the same plan.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DevicePlan:
    """Processes per node, each one's device, the backend, and the number of nodes."""

    local: tuple[str, ...]  # device of each local rank: "cpu" or "cuda:K"
    backend: str  # "gloo" or "nccl"
    nodes: int = 1

    @property
    def nproc(self) -> int:
        return len(self.local)

    @property
    def world(self) -> int:
        return self.nproc * self.nodes

    @property
    def distributed(self) -> bool:
        return self.world > 1

    def describe(self) -> str:
        """E.g. "2 CPU processes (gloo)", "4 GPUs cuda:0,1,2,3 (nccl) x 2 nodes"."""
        if not self.distributed:
            return f"1 process ({self.local[0]})"
        if self.local[0] == "cpu":
            what = f"{self.nproc} CPU process{'es' if self.nproc > 1 else ''}"
        else:
            ids = ",".join(d.split(":")[1] for d in self.local)
            what = f"{self.nproc} GPU{'s' if self.nproc > 1 else ''} cuda:{ids}"
        return f"{what} ({self.backend})" + (f" x {self.nodes} nodes" if self.nodes > 1 else "")


def plan_devices(devices: str, device: str = "auto", nodes: int = 1,
                 cuda_count: int | None = None) -> DevicePlan:
    """The plan for `train.devices`/`train.device`/`train.nodes`; ValueError says what to change."""
    if cuda_count is None:
        import torch

        cuda_count = torch.cuda.device_count()
    if not isinstance(nodes, int) or nodes < 1:
        raise ValueError(f"train.nodes must be an integer >= 1, got {nodes!r}")
    text = str(devices).strip().lower()
    if text.startswith("cuda:"):
        return _listed_gpus(text, device, nodes, cuda_count)
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"train.devices must be a count like 2 or GPUs like cuda:0,1, got {devices!r}")
    n = int(text)
    if n == 1 and nodes == 1:
        return DevicePlan((device,), "none")  # one process: train.device decides, no process group
    if device == "cpu":
        return DevicePlan(("cpu",) * n, "gloo", nodes)
    if device.startswith("cuda:") and n > 1:
        raise ValueError(f"train.device {device!r} names one GPU; list several in train.devices "
                         f"(e.g. cuda:0,1) and leave train.device at auto")
    if device.startswith("cuda:"):
        return DevicePlan((device,), "nccl", nodes)
    if device not in ("auto", "cuda"):
        raise ValueError(f"train.devices={n} runs on CUDA or CPU, not on train.device {device!r}")
    if cuda_count == 0:
        raise ValueError(f"train.devices={n}: this machine has no GPU; use train.devices=1, or "
                         f"train.device=cpu for {n} CPU processes with gloo (for testing)")
    if n > cuda_count:
        raise ValueError(f"train.devices={n} but this machine has {cuda_count} GPU(s)")
    return DevicePlan(tuple(f"cuda:{i}" for i in range(n)), "nccl", nodes)


def _listed_gpus(text: str, device: str, nodes: int, cuda_count: int) -> DevicePlan:
    try:
        ids = [int(p) for p in text.removeprefix("cuda:").split(",")]
    except ValueError:
        raise ValueError(f"train.devices must list GPU numbers like cuda:0,1, got {text!r}") from None
    if len(set(ids)) != len(ids) or min(ids) < 0:
        raise ValueError(f"train.devices lists a GPU twice or a negative number: {text!r}")
    if device not in ("auto", "cuda"):
        raise ValueError(f"train.devices={text} needs train.device auto or cuda, got {device!r}")
    missing = [i for i in ids if i >= cuda_count]
    if missing:
        raise ValueError(f"train.devices={text}: no GPU {missing[0]} on this machine ({cuda_count} GPU(s))")
    return DevicePlan(tuple(f"cuda:{i}" for i in ids), "nccl", nodes)


def gpu_list() -> list[tuple[str, str]]:
    """(device, "name · memory") of every CUDA GPU this process can see; empty without one."""
    import torch

    out = []
    for i in range(torch.cuda.device_count()):
        props = torch.cuda.get_device_properties(i)
        out.append((f"cuda:{i}", f"{props.name} · {props.total_memory / 2**30:.0f} GiB"))
    return out


def devices_setting(gpus: list[str], cpu_processes: int = 1) -> dict[str, str]:
    """The `train.devices`/`train.device` values for GPUs chosen by name (["cuda:0", "cuda:2"]),
    or, with none, `cpu_processes` CPU processes (several use gloo: for testing)."""
    if not gpus:
        return {"train.devices": str(cpu_processes), "train.device": "cpu" if cpu_processes > 1 else "auto"}
    if len(gpus) == 1:
        return {"train.devices": "1", "train.device": gpus[0]}
    ids = ",".join(g.split(":")[1] for g in gpus)
    return {"train.devices": f"cuda:{ids}", "train.device": "auto"}


def chosen_gpus(devices: str, device: str, gpus: list[str]) -> list[str]:
    """Which of `gpus` a config's devices/device settings use (the inverse of `devices_setting`)."""
    try:
        plan = plan_devices(devices, device, cuda_count=len(gpus))
    except ValueError:
        return []
    if plan.local == ("auto",) or plan.local == ("cuda",):
        return gpus[:1]
    return [d for d in plan.local if d in gpus]


def plan_for(config) -> DevicePlan:
    """The device plan of a RunConfig."""
    t = config.train
    return plan_devices(t.devices, t.device, t.nodes)


def wants_several(config) -> bool:
    """Whether the config asks for more than one process (without looking at the hardware)."""
    return str(config.train.devices).strip() not in ("1", "") or config.train.nodes != 1


def device_problems(config) -> list[tuple[str, str]]:
    """(key, message) of every device setting this machine or the config cannot honour."""
    t = config.train
    if not wants_several(config):
        return [("train.sync_bn", "needs several processes (train.devices > 1 or train.nodes > 1)")] \
            if t.sync_bn else []
    try:
        plan = plan_for(config)
    except ValueError as e:
        return [("train.devices", str(e))]
    out = []
    if t.sync_bn and plan.backend != "nccl":
        out.append(("train.sync_bn", "SyncBatchNorm runs on CUDA devices only; turn it off for CPU processes"))
    return out
