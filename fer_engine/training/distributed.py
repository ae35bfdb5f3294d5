"""Several processes training one run: the process group, shards, reductions, the stop.

Which devices and how many processes come from the plan in `fer_engine.devices`; multi-node
runs start `python -m fer_engine.training.torchrun` on every node.

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
