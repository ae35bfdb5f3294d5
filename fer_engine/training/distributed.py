"""Several processes training one run: which devices, the process group, shards, reductions.

`train.devices` says how many processes run on each node and on what: `"1"` (one process,
`train.device` decides), `"4"` (GPUs 0-3 with NCCL; with `train.device="cpu"`, four CPU
processes with gloo, for testing), or `"cuda:0,2"` (those GPUs). `train.nodes` machines each
run that many (multi-node: `python -m fer_engine.training.torchrun` on every node).

The ranks split every epoch the way `DistributedSampler` does (one order drawn from the seed
and the epoch, padded to a multiple of the world size, rank r takes every world-th index), so
a run is deterministic from its seed for a given world size. Small collectives (stop flag,
epoch metrics, weight checks) go through a gloo group on host tensors, so with NCCL they
never make the host wait for the GPU. Every collective has a timeout.
"""
from __future__ import annotations

import ctypes
import math
import os
import signal
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

#: Bound on any one collective (a rank that hangs instead of dying fails the run after this).
COLLECTIVE_TIMEOUT = timedelta(minutes=10)
#: Bound on waiting while rank 0 reads (and caches) the dataset before the other ranks do.
DATA_TIMEOUT = timedelta(hours=6)
#: A file in the run directory that asks the ranks to stop (the worker, or a user, creates it).
STOP_FILE = "stop.request"
#: How often rank 0 looks for the stop file.
STOP_POLL_S = 0.25


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


# -- one rank --------------------------------------------------------------------------------
@dataclass(frozen=True)
class RankInfo:
    """Where this process stands, from torchrun's environment."""

    rank: int
    local_rank: int
    world: int

    @classmethod
    def from_env(cls) -> "RankInfo":
        try:
            return cls(int(os.environ["RANK"]), int(os.environ["LOCAL_RANK"]), int(os.environ["WORLD_SIZE"]))
        except KeyError as e:
            raise RuntimeError(f"not started by torchrun ({e.args[0]} is not set)") from None

    @property
    def is_writer(self) -> bool:
        """Rank 0 alone writes the run directory."""
        return self.rank == 0


def die_with_parent(sig: int = signal.SIGTERM) -> None:
    """Linux: get `sig` when the parent process dies, so no rank outlives its launcher."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, int(sig))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the launcher's own clean-up still applies
        pass


def init_group(backend: str, info: RankInfo, device: str):
    """Join the default process group; the gloo group used for small host-side collectives."""
    import torch
    import torch.distributed as dist

    if device.startswith("cuda"):
        torch.cuda.set_device(torch.device(device))
    dist.init_process_group(backend, rank=info.rank, world_size=info.world, timeout=COLLECTIVE_TIMEOUT)
    if backend == "gloo":
        return dist.group.WORLD
    return dist.new_group(backend="gloo", timeout=COLLECTIVE_TIMEOUT)


def close_group() -> None:
    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()


def wait_for_others(group, timeout: timedelta = COLLECTIVE_TIMEOUT) -> None:
    """A barrier with its own bound (gloo's monitored barrier names a rank that never came)."""
    import torch.distributed as dist

    dist.monitored_barrier(group=group, timeout=timeout)


# -- sharding and reductions -----------------------------------------------------------------
def shard_size(n: int, world: int) -> int:
    """Samples per rank and epoch: DistributedSampler's ceil(n / world) (padding included)."""
    return math.ceil(n / world) if n else 0


def shard_order(order: np.ndarray, rank: int, world: int) -> np.ndarray:
    """Rank `rank`'s part of one epoch's `order`, as DistributedSampler(drop_last=False) splits it:
    padded with the order's first indices to a multiple of `world`, then every world-th one."""
    order = np.asarray(order)
    total = shard_size(len(order), world) * world
    if total > len(order):
        reps = math.ceil(total / len(order))
        order = np.concatenate([order, np.tile(order, reps)[: total - len(order)]])
    return order[rank:total:world]


def epoch_seed(seed: int, epoch: int, rank: int | None = None) -> list[int]:
    """Seed words of one epoch: the shared order (rank None) or one rank's augmentations."""
    return [seed, epoch] if rank is None else [seed, epoch, rank + 1]


def all_mean(values: dict[str, float], group) -> dict[str, float]:
    """The mean of each value over all ranks (ranks hold equal shares of the epoch)."""
    import torch
    import torch.distributed as dist

    keys = sorted(values)
    t = torch.tensor([float(values[k]) for k in keys], dtype=torch.float64)
    dist.all_reduce(t, group=group)
    t /= dist.get_world_size(group)
    return dict(zip(keys, t.tolist()))


def from_rank0(obj: Any, group) -> Any:
    """Rank 0's `obj` on every rank."""
    import torch.distributed as dist

    box = [obj]
    dist.broadcast_object_list(box, src=0, group=group)
    return box[0]


def weights_spread(model, group) -> float:
    """Largest difference between ranks of per-tensor checksums of the weights (0 when equal)."""
    import torch
    import torch.distributed as dist

    with torch.no_grad():
        sums = [torch.stack([p.double().sum(), p.double().square().sum()]) for p in model.parameters()]
        mine = torch.cat(sums).cpu() if sums else torch.zeros(1, dtype=torch.float64)
    everyone = [torch.empty_like(mine) for _ in range(dist.get_world_size(group))]
    dist.all_gather(everyone, mine, group=group)
    return float(max((t - everyone[0]).abs().max() for t in everyone))


class StopSync:
    """Agree on a stop at a step boundary: each step posts this rank's flag (max over ranks)
    and reads the previous step's result, so every rank sees a stop at the same step and no
    step waits for the others."""

    def __init__(self, group):
        self.group = group
        self._work = None
        self._flag = None

    def step(self, local: bool) -> bool:
        import torch
        import torch.distributed as dist

        stop = self.drain()
        if stop:  # every rank stops here: nothing more to agree on
            return True
        self._flag = torch.tensor([int(local)], dtype=torch.int32)
        self._work = dist.all_reduce(self._flag, op=dist.ReduceOp.MAX, group=self.group, async_op=True)
        return stop

    def drain(self) -> bool:
        """Wait for the posted flag; True when some rank asked to stop."""
        if self._work is None:
            return False
        self._work.wait()
        self._work = None
        return bool(self._flag.item())


class StopFile:
    """`should_stop` of rank 0: whether `<run>/stop.request` exists (looked at every STOP_POLL_S)."""

    def __init__(self, run_path: str | Path):
        self.path = Path(run_path) / STOP_FILE
        self._next = 0.0
        self._seen = False

    def __call__(self) -> bool:
        now = time.monotonic()
        if not self._seen and now >= self._next:
            self._next = now + STOP_POLL_S
            self._seen = self.path.exists()
        return self._seen


def request_stop(run_path: str | Path) -> None:
    """Ask every rank of a run to stop at the next step boundary (resumable)."""
    (Path(run_path) / STOP_FILE).touch()


def clear_stop(run_path: str | Path) -> None:
    (Path(run_path) / STOP_FILE).unlink(missing_ok=True)


_PEER_LOST = ("connection closed by peer", "connection reset by peer", "broken pipe",
              "distbackenderror", "distnetworkerror", "diststoreerror", "nccl communicator",
              "monitoredbarrier", "timed out", "remote worker")


def is_peer_lost(error: str) -> bool:
    """Whether a rank's error only says that another rank went away (not the cause itself)."""
    low = error.lower()
    return any(marker in low for marker in _PEER_LOST)
