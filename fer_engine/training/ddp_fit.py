"""One rank of a distributed run: `python -m fer_engine.training.ddp_fit RUN_DIR [--resume]`
under torchrun (`training.torchrun` starts it; see README "Several GPUs").

Every rank runs `run.fit` with `DistributedTraining`: the model wrapped in
DistributedDataParallel (SyncBatchNorm optional), its shard of each epoch, the stop agreed at
step boundaries, epoch metrics averaged over the ranks. Rank 0 alone writes the run directory
(events, metrics, checkpoints, predictions) and validates; the others are quiet. A rank's
failure is not written into the run by the rank itself (a rank that only lost a peer would
hide the cause): each failing rank leaves `ranks/rank-R.json` and exits 1, and the launcher,
which sees every rank's end, records the run's one RunFailed.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from ..config import RunConfig
from ..devices import DevicePlan, plan_for
from . import distributed as D
from . import events as ev
from ..progress import Cancelled
from .components import Components, TrainSplit
from .job import Recorder
from .loop import Training
from .run import fit
from .rundir import RunDir

RANKS_DIR = "ranks"


def rank_error_path(run_path: str | Path, rank: int) -> Path:
    return Path(run_path) / RANKS_DIR / f"rank-{rank}.json"


class RankRunDir(RunDir):
    """The run directory as one rank sees it: rank 0 writes it, other ranks only read it.
    No rank writes a failure (status or event): `failure` keeps it for `ranks/rank-R.json`."""

    def __init__(self, path: str | Path, writer: bool, group=None):
        super().__init__(path)
        self.writer, self.group = writer, group
        self.failure: ev.RunFailed | None = None

    def child_dir(self, path: Path, create) -> "RankRunDir":
        """Rank 0 opens or creates a fold's directory, then every rank opens it."""
        if self.writer:
            super().child_dir(path, create)
        D.wait_for_others(self.group)
        return RankRunDir(path, self.writer, self.group)

    def append_event(self, event) -> None:
        if isinstance(event, ev.RunFailed):
            self.failure = event
        elif self.writer:
            super().append_event(event)

    def write_status(self, status: str, **extra: Any) -> None:
        if self.writer and status != "failed":
            super().write_status(status, **extra)


def _writer_only(name: str):
    def method(self, *args, **kwargs):
        if self.writer:
            return getattr(RunDir, name)(self, *args, **kwargs)
        return None

    method.__name__ = name
    return method


for _name in ("repair", "write_metrics_row", "truncate_metrics", "write_preprocess", "write_dataset",
              "write_meta", "write_kfold", "write_kfold_table"):
    setattr(RankRunDir, _name, _writer_only(_name))


class ScaledRecorder(Recorder):
    """Rank 0's recorder: a step's throughput counts every rank's images (they run in lockstep)."""

    def __init__(self, rec: Recorder, world: int):
        super().__init__(rec.run_dir, rec.emit)
        self.world = world

    def __call__(self, event: ev.Event) -> None:
        if isinstance(event, ev.StepProgress):
            event = replace(event, img_per_s=event.img_per_s * self.world)
        super().__call__(event)


class DistributedTraining(Training):
    """`Training` as one rank of `plan`: DDP model, sharded epochs, agreed stop, reduced metrics."""

    def __init__(self, config: RunConfig, run_dir: RunDir, rec, should_stop, dataset=None, *,
                 info: D.RankInfo, plan: DevicePlan, group):
        self.info, self.plan, self.group = info, plan, group
        device = plan.local[info.local_rank]
        changes: dict[str, Any] = {"train.device": device}
        if config.train.scale_lr:
            changes["optim.lr"] = config.optim.lr * info.world
        self.base_lr = config.optim.lr
        super().__init__(config.replace(**changes), run_dir, ScaledRecorder(rec, info.world),
                         should_stop, dataset)
        self.stop_sync = D.StopSync(group)
        self.solo = False  # True once the ranks have parted (rank 0 predicting alone)
        self.weights_spread = math.nan

    # -- set-up ---------------------------------------------------------------------------
    def _load_data(self) -> TrainSplit:
        """Rank 0 reads (and caches) the dataset first; the others then read the cache."""
        if self.info.is_writer:
            split = super()._load_data()
            D.wait_for_others(self.group, D.DATA_TIMEOUT)
            return split
        D.wait_for_others(self.group, D.DATA_TIMEOUT)
        return super()._load_data()

    def build_components(self) -> Components:
        import torch
        from torch.nn.parallel import DistributedDataParallel

        if self.device.type == "cpu":  # the cores are shared between the CPU processes
            torch.set_num_threads(max(1, (os.cpu_count() or 1) // self.plan.nproc))
        parts = super().build_components()
        model = parts.model
        if self.cfg.train.sync_bn:
            model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
        ids = [self.device] if self.device.type == "cuda" else None
        self.ddp = DistributedDataParallel(model, device_ids=ids, gradient_as_bucket_view=True)
        return replace(parts, model=model,
                       forward=torch.compile(self.ddp) if self.cfg.train.compile else self.ddp)

    def shard_size(self, n: int) -> int:
        return D.shard_size(n, self.info.world)

    def epoch_order(self, epoch: int) -> np.ndarray:
        """This rank's shard of the epoch's order (the same on every rank: drawn from the seed
        and the epoch); this rank's augmentation and mixing draws are reseeded per epoch, so a
        resume on any number of devices continues deterministically."""
        import torch

        from ..recipe.sampling import epoch_indices

        seed = self.cfg.train.seed
        order = epoch_indices(self.split.labels, self.cfg.sampler.balanced,
                              np.random.default_rng(D.epoch_seed(seed, epoch)))
        mine = np.random.default_rng(D.epoch_seed(seed, epoch, self.info.rank))
        self.np_rng.bit_generator.state = mine.bit_generator.state
        word = int(mine.integers(2**62))
        self.parts.aug_gen.manual_seed(word)
        torch.manual_seed(word + 1)
        return D.shard_order(order, self.info.rank, self.info.world)

    # -- stop -----------------------------------------------------------------------------
    def check_stop_at_step(self) -> None:
        """Before batch `self.step` (0-based here): the agreed stop, and DDP's gradient sync only
        on the batch that ends an accumulation group (what `no_sync()` does for the others)."""
        if self.stop_sync.step(self.info.is_writer and self.should_stop()):
            raise Cancelled
        b, accum = self.step, self.parts.accum
        self.ddp.require_backward_grad_sync = (b + 1) % accum == 0 or b + 1 == self.parts.steps_per_epoch

    def check_stop(self) -> None:
        """Elsewhere only a rank on its own (rank 0 predicting) stops: collectives stay paired."""
        if self.solo:
            super().check_stop()

    # -- epochs ---------------------------------------------------------------------------
    def _train_one_epoch(self, epoch: int) -> tuple[dict[str, float], int]:
        metrics, seen = super()._train_one_epoch(epoch)
        return D.all_mean(metrics, self.group), seen * self.info.world

    def _validate(self, epoch: int) -> dict[str, float]:
        """Rank 0 validates the plain model (its weights and BatchNorm statistics are the ones
        its checkpoint keeps) on the whole split; every rank gets the result (early stopping
        and the plateau schedule decide alike)."""
        metrics = super()._validate(epoch) if self.info.is_writer else None
        return D.from_rank0(metrics, self.group)

    def validation_forward(self):
        return self.parts.model

    def save_checkpoint(self, kind: str, ckpt: dict[str, Any]) -> None:
        if self.info.is_writer:
            super().save_checkpoint(kind, ckpt)

    def run_info(self) -> dict[str, Any]:
        info = super().run_info()
        info.update(devices=[d for _ in range(self.plan.nodes) for d in self.plan.local],
                    global_batch=info["global_batch"] * self.info.world, world_size=self.info.world,
                    base_lr=self.cfg.optim.lr)
        if self.cfg.train.scale_lr:
            info["lr_scaling"] = f"linear: {self.base_lr:g} x {self.info.world}"
        if math.isfinite(self.weights_spread):
            info["rank_weights_spread"] = self.weights_spread
        return info

    # -- the end --------------------------------------------------------------------------
    def _finish(self) -> dict[str, Any]:
        self.stop_sync.drain()
        self.weights_spread = D.weights_spread(self.model, self.group)
        self.solo = True
        if not self.info.is_writer:
            return {"status": "finished", "rank": self.info.rank}
        return super()._finish()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m fer_engine.training.ddp_fit",
                                description="One rank of a distributed run (started by torchrun).")
    p.add_argument("run_dir", help="run directory (created beforehand, or with --config by rank 0)")
    p.add_argument("--resume", action="store_true", help="continue from the run's last checkpoint")
    p.add_argument("--config", metavar="FILE", help="create RUN_DIR from this run config (multi-node)")
    args = p.parse_args(argv)
    D.die_with_parent()
    info = D.RankInfo.from_env()
    path = Path(args.run_dir)
    config = RunConfig.load(args.config) if args.config and not args.resume else RunDir.open(path).config()
    plan = plan_for(config)
    if info.local_rank >= plan.nproc:
        raise SystemExit(f"torchrun started more processes per node than train.devices={config.train.devices}")
    rank_error_path(path, info.rank).unlink(missing_ok=True)  # from an earlier session
    group = D.init_group(plan.backend, info, plan.local[info.local_rank])
    try:
        if args.config and not args.resume:
            if info.is_writer:  # refuses an existing folder: a second start must not train over a run
                RunDir.create(path.parent, config, run_id=path.name)
            D.wait_for_others(group)
        return _train(RankRunDir(path, info.is_writer, group), config, info, plan, group, args.resume)
    finally:
        D.close_group()


def _train(run_dir: RankRunDir, config: RunConfig, info: D.RankInfo, plan: DevicePlan, group,
           resume: bool) -> int:
    should_stop = D.StopFile(run_dir.path) if info.is_writer else (lambda: False)

    def job(*a):
        return DistributedTraining(*a, info=info, plan=plan, group=group)

    summary = fit(config, run_dir, lambda e: None, should_stop, resume=resume, training=job)
    if summary["status"] != "failed":
        return 0
    failure = run_dir.failure
    record = {"rank": info.rank, "time": time.time(), "error": summary.get("error", ""),
              "hint": summary.get("hint", ""), "traceback": failure.traceback if failure else "",
              "peer_lost": D.is_peer_lost(summary.get("error", ""))}
    path = rank_error_path(run_dir.path, info.rank)
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    return 1


if __name__ == "__main__":
    sys.exit(main())
