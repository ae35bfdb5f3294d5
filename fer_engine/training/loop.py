"""`fit`: train and evaluate one run, writing everything into its run directory.

The data path keeps the device fed: the training split lives on the device as one uint8
tensor (pinned and copied non-blocking on CUDA), each batch is a slice of it, and
augmentation runs batched on the device (`tricks.preprocess.prepare_batch`). There is no
per-image Python work and no host sync per step (losses and hits accumulate on the device;
only throttled progress events read them).

Every event goes to `run_dir`'s event log first, then to `emit`. Stop is cooperative:
`should_stop()` is checked every batch, during data loading, validation, prediction and
between checkpoint writes; a stopped run keeps a resumable `last.pt`. Resume restarts at
the epoch after the last checkpoint with every random state restored, so on CPU the curve
is the one an uninterrupted run with the same seed draws.
"""
from __future__ import annotations

import math
import random
import resource
import time
import traceback
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F

from ..config import RunConfig
from ..data.arrays import DatasetArrays
from ..progress import Cancelled, StopFn, check_stop
from ..recipe.sampling import epoch_indices
from ..utils.disk import UNWRITABLE, disk_error_message
from . import events as ev
from .batches import TrainBatches, to_device
from .checkpoint import capture_rng, load_checkpoint, restore_rng, save_checkpoint
from .plan import steps_per_epoch
from .precision import amp_dtype, describe
from .rundir import RunDir

Emit = Callable[[ev.Event], None]

OOM_HINT = ("out of memory: reduce the batch size (train.batch_size), use gradient "
            "accumulation (train.accumulate_steps) or a smaller input size (model.input_size)")
DISK_HINT = ("the runs folder is full or read-only: free some space or choose another runs "
             "folder (--out); checkpoints written before this point are intact")
DIVERGED_HINT = ("lower the learning rate (optim.lr) or enable gradient clipping (train.grad_clip, "
                 "e.g. 1.0); checkpoints already saved hold the last finite epoch")
EVENTS_PER_SECOND = 10  # throttle of StepProgress / Phase progress events


class Diverged(RuntimeError):
    """The training loss became inf or NaN: the run fails before saving such weights."""


def resolve_device(name: str) -> torch.device:
    """"auto" = CUDA when present, else CPU; an explicit CUDA device must exist."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"train.device is {name!r} but no CUDA device is available; use 'auto' or 'cpu'")
    return dev


def failure_hint(exc: BaseException) -> str:
    """What the user can do about a failure (OOM, full or read-only disk), or ""."""
    if isinstance(exc, (torch.OutOfMemoryError, MemoryError)) or (
            isinstance(exc, RuntimeError) and ("out of memory" in str(exc)
                                               or "can't allocate memory" in str(exc))):
        return OOM_HINT
    if isinstance(exc, Diverged):
        return DIVERGED_HINT
    if isinstance(exc, OSError) and exc.errno in UNWRITABLE:
        return DISK_HINT
    return ""


class Recorder:
    """Writes each event to the run's log, then hands it on; throttles progress events."""

    def __init__(self, run_dir: RunDir, emit: Emit):
        self.run_dir, self.emit = run_dir, emit
        self._last_progress = 0.0

    def __call__(self, event: ev.Event) -> None:
        self.run_dir.append_event(event)
        self.emit(event)

    def due(self, force: bool = False) -> bool:
        """True at most EVENTS_PER_SECOND times a second (always when `force`)."""
        now = time.perf_counter()
        if force or now - self._last_progress >= 1.0 / EVENTS_PER_SECOND:
            self._last_progress = now
            return True
        return False

    def phase(self, phase: str, detail: str = "", fraction: float = -1.0, force: bool = True) -> None:
        if self.due(force):
            self(ev.Phase(run_id=self.run_dir.run_id, phase=phase, detail=detail, fraction=fraction))


def fit(config: RunConfig, run_dir: RunDir, emit: Emit, should_stop: StopFn,
        resume: bool = False, dataset: DatasetArrays | None = None,
        training: Callable[..., "Training"] | None = None) -> dict[str, Any]:
    """Train `config` into `run_dir`; returns the summary (also in status.json).

    Never raises for a training problem: a stop ends in RunStopped, any exception in
    RunFailed (error, traceback, hint) and the status says so. `dataset` (already loaded,
    e.g. one k-fold split) replaces loading `config.data`. `training` builds the job in
    place of `Training` (one rank of a distributed run, `ddp_fit.DistributedTraining`).
    """
    from .tensorboard import with_tensorboard

    rec = Recorder(run_dir, with_tensorboard(config, run_dir, emit))
    started = time.time()
    run_dir.repair()
    if config.kfold.k >= 2:
        from .cross_validation import KFoldRun

        job: Any = KFoldRun(config, run_dir, rec, should_stop, training=training)
    else:
        job = (training or Training)(config, run_dir, rec, should_stop, dataset)
    try:
        run_dir.write_status("running")
        return job.run(resume)
    except (Cancelled, KeyboardInterrupt):
        return _stopped(run_dir, rec, job, started)
    except Exception as e:  # noqa: BLE001 - every failure becomes a RunFailed event
        return _failed(run_dir, rec, e, started)
    except BaseException as e:  # SystemExit and the like: record the failure, then let it go on
        _failed(run_dir, rec, e, started)
        raise


def _stopped(run_dir: RunDir, rec: Recorder, job: Any, started: float) -> dict[str, Any]:
    summary = {"status": "stopped", "epoch": job.epoch, "step": job.step,
               "resumable": run_dir.checkpoint_path("last").is_file(),
               "wall_time_s": time.time() - started, **peak_memory()}
    # status first: whoever sees the terminal event reads the final status
    _best_effort(lambda: run_dir.write_status("stopped", summary=summary))
    _best_effort(lambda: rec(ev.RunStopped(run_id=run_dir.run_id, epoch=job.epoch, step=job.step)))
    return summary


def _failed(run_dir: RunDir, rec: Recorder, e: BaseException, started: float) -> dict[str, Any]:
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    hint = failure_hint(e)
    error = str(e) if isinstance(e, Diverged) else f"{type(e).__name__}: {e}"
    if isinstance(e, OSError) and hint == DISK_HINT:
        error = disk_error_message(e, e.filename or run_dir.path)
    summary = {"status": "failed", "error": error, "hint": hint,
               "wall_time_s": time.time() - started, **peak_memory()}
    failed = ev.RunFailed(run_id=run_dir.run_id, error=error, traceback=traceback.format_exc(), hint=hint)
    _best_effort(lambda: run_dir.write_status("failed", error=error, hint=hint, summary=summary))
    try:
        rec(failed)
    except Exception:  # the disk itself failed: the watcher still gets the event
        _best_effort(lambda: rec.emit(failed))
    return summary


def _best_effort(action: Callable[[], Any]) -> None:
    try:
        action()
    except Exception:  # noqa: BLE001 - reporting must not mask the original outcome
        pass


def load_data(config: RunConfig, rec: Recorder, should_stop: StopFn) -> DatasetArrays:
    """`data.load_dataset` with Phase progress events; a stop interrupts it."""
    from ..data import load_dataset

    rec.phase("loading_data", f"reading {config.data.path}", 0.0)

    def progress(fraction: float, detail: str = "") -> None:
        check_stop(should_stop)
        rec.phase("loading_data", detail, float(fraction), force=False)

    data = load_dataset(config.data, progress, should_stop)
    check_stop(should_stop)
    return data


def peak_memory() -> dict[str, float]:
    """Peak host RSS of this process and peak CUDA memory allocated, in MiB."""
    out = {"peak_host_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        out["peak_gpu_mb"] = torch.cuda.max_memory_allocated() / 2**20
    return out


# -- one training run -------------------------------------------------------------------------
class Training:
    """One run's state between set-up, epochs, checkpoints and the final predictions."""

    def __init__(self, config: RunConfig, run_dir: RunDir, rec: Recorder, should_stop: StopFn,
                 dataset: DatasetArrays | None = None):
        self.cfg, self.run_dir, self.rec, self.should_stop = config, run_dir, rec, should_stop
        self.data = dataset
        self.epoch = 0  # last completed epoch
        self.step = 0  # batch within the current epoch
        self.global_step = 0  # batches since the start of the run
        self.opt_step = 0  # optimiser steps since the start (the LR schedule's clock)
        self.best_epoch = 0
        self.early_stopped = False
        self.val_confusion: np.ndarray | None = None  # of the last validation (TensorBoard shows it)
        self.started = time.time()

    def check_stop(self) -> None:
        check_stop(self.should_stop)

    # -- set-up ---------------------------------------------------------------------------
    def run(self, resume: bool) -> dict[str, Any]:
        from ..recipe.tricks import raise_on_errors

        self.warnings = [f"{p.key}: {p.message}" for p in raise_on_errors(self.cfg)]
        self._seed()
        self.device = resolve_device(self.cfg.train.device)
        self._load_data()
        self._build()
        if resume:
            self._resume()
        self._start_event(resume)
        self._train_epochs()
        return self._finish()

    def _seed(self) -> None:
        seed = self.cfg.train.seed
        torch.manual_seed(seed)
        random.seed(seed)
        self.np_rng = np.random.default_rng(seed)

    def _load_data(self) -> None:
        if self.data is None:
            self.data = load_data(self.cfg, self.rec, self.should_stop)
        data = self.data
        self.warnings += data.check_trainable(self.cfg.data.path)
        self.class_names = list(data.class_names)
        self.train_images, self.train_labels = data.split("train")
        # vote distributions (data.label_mode "probability") replace the hard training labels in the loss
        self.train_soft = None if data.soft is None else data.soft[data.splits["train"]]
        val = data.splits.get("val")
        self.has_val = val is not None and len(val) > 0
        self.run_dir.write_dataset({
            "source": self.cfg.data.path, "layout": data.layout, "class_names": self.class_names,
            "image_size": int(data.images.shape[1]), "channels": int(data.images.shape[-1]),
            "splits": {k: int(len(v)) for k, v in data.splits.items()},
            "train_class_counts": data.class_counts("train").tolist(), "notes": list(data.notes),
            "split_class_counts": {k: data.class_counts(k).tolist() for k in data.splits},
        })
        self.run_dir.write_warnings(self.warnings)

    def _build(self) -> None:
        from ..models import create_model
        from ..recipe.augment import AugmentStream, BatchAugment
        from ..recipe.early_stopping import EarlyStopping, monitor_mode
        from ..recipe.losses import build_loss
        from ..recipe.normalize import resolve_mean_std
        from ..recipe.optim import build_optimizer
        from ..recipe.schedule import LRSchedule

        cfg, dev = self.cfg, self.device
        channels = int(self.train_images.shape[-1])
        self.model = create_model(cfg.model, num_classes=len(self.class_names), in_chans=channels)
        spec = getattr(self.model, "spec", None)
        backbone_stats = (spec.mean, spec.std) if spec is not None and getattr(spec, "mean", None) else None
        self.mean, self.std = resolve_mean_std(cfg, self.train_images, backbone_stats)
        self.input_size = int(self.model.input_size)
        self.run_dir.write_preprocess({
            "class_names": self.class_names, "channels": channels,
            "image_size": int(self.train_images.shape[1]), "input_size": self.input_size,
            "mean": list(self.mean), "std": list(self.std), "backbone": cfg.model.backbone,
        })
        self.channels_last = cfg.train.channels_last
        if dev.type == "cuda":  # every training batch has one shape: let cuDNN time its algorithms once
            torch.backends.cudnn.benchmark = True
        self.model.to(dev)
        if self.channels_last:
            self.model.to(memory_format=torch.channels_last)
        self.forward = torch.compile(self.model) if cfg.train.compile else self.model
        self.batches = TrainBatches(self.train_images, self.train_labels, dev)
        self.soft_targets = None if self.train_soft is None else to_device(self.train_soft, dev)
        self.aug_gen = torch.Generator(device=dev).manual_seed(cfg.train.seed + 1)
        counts = np.bincount(self.train_labels, minlength=len(self.class_names))
        self.criterion = build_loss(cfg.loss, counts)
        if isinstance(self.criterion, torch.nn.Module):
            self.criterion.to(dev)
        self.optimizer = build_optimizer(self.model, cfg.optim)
        self.steps_per_epoch = steps_per_epoch(self.shard_size(len(self.train_labels)), cfg.train)
        aug = BatchAugment(cfg.augment)
        self.augment = None if aug.is_identity else AugmentStream(
            aug, self.np_rng, self.aug_gen, chunk=min(64, self.steps_per_epoch))
        self.accum = max(1, cfg.train.accumulate_steps)
        self.monitor = cfg.train.monitor
        mode = monitor_mode(self.monitor)
        self.schedule = LRSchedule(cfg.schedule, cfg.optim.lr, cfg.train.epochs,
                                   math.ceil(self.steps_per_epoch / self.accum), mode=mode)
        self.last_lr = self.schedule.lr_at(0)
        self.amp_dtype = amp_dtype(dev, cfg.train.amp)
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp_dtype == torch.float16)
        self.stopper = EarlyStopping(cfg.train.early_stopping_patience,
                                     cfg.train.early_stopping_min_delta, mode)

    def _resume(self) -> None:
        path = self.run_dir.checkpoint_path("last")
        if not path.is_file():  # stopped before the first epoch ended: start afresh
            return
        state = load_checkpoint(path)
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.schedule.load_state_dict(state["schedule"])
        if state["scaler"]:  # empty when saved without loss scaling (bfloat16 or float32)
            self.scaler.load_state_dict(state["scaler"])
        self.stopper.load_state_dict(state["early_stop"])
        self.epoch, self.global_step = int(state["epoch"]), int(state["global_step"])
        self.opt_step, self.best_epoch = int(state["opt_step"]), int(state["best_epoch"])
        self.early_stopped = bool(state.get("early_stopped", False))
        # the step clocks of this run's batches per epoch: a resume on another number of
        # devices keeps the LR schedule on its epochs
        self.global_step = self.epoch * self.steps_per_epoch
        self.opt_step = self.epoch * math.ceil(self.steps_per_epoch / self.accum)
        restore_rng(state["rng"], self.np_rng, self.aug_gen)
        self.run_dir.truncate_metrics(self.epoch)
        best = self.run_dir.checkpoint_path("best")
        if self.best_epoch == self.epoch and (not best.is_file() or load_checkpoint(best)["epoch"] != self.epoch):
            self.save_checkpoint("best", state)  # the run stopped between writing last.pt and best.pt

    def _start_event(self, resume: bool) -> None:
        n_val = len(self.data.splits["val"]) if self.has_val else 0
        info = self.run_info()
        self.rec(ev.RunStarted(
            run_id=self.run_dir.run_id, run_dir=str(self.run_dir.path),
            device=describe(self.device, self.amp_dtype, self.channels_last),
            epochs=self.cfg.train.epochs, steps_per_epoch=self.steps_per_epoch,
            num_train=len(self.train_labels), num_val=n_val, class_names=tuple(self.class_names),
            resumed_from_epoch=self.epoch if resume else 0,
            notes=tuple(n for n in (*getattr(self.model, "notes", ()), self.batches.note,
                                    *(f"warning: {w}" for w in self.warnings)) if n),
            devices=tuple(info["devices"]), global_batch=info["global_batch"],
        ))

    # -- what a distributed rank changes (ddp_fit.DistributedTraining) -------------------------
    def shard_size(self, n: int) -> int:
        """Training samples this process visits per epoch."""
        return n

    def epoch_order(self, epoch: int) -> np.ndarray:
        """The training indices this process visits in `epoch`, in order."""
        return np.asarray(epoch_indices(self.train_labels, self.cfg.sampler.balanced, self.np_rng))

    def check_stop_at_step(self) -> None:
        """The stop check before every training batch."""
        self.check_stop()

    def save_checkpoint(self, kind: str, state: dict[str, Any]) -> None:
        save_checkpoint(self.run_dir.checkpoint_path(kind), state)

    def run_info(self) -> dict[str, Any]:
        """Devices and global batch (RunStarted and the summary)."""
        return {"devices": [str(self.device)],
                "global_batch": self.cfg.train.batch_size * self.accum}

    # -- epochs -----------------------------------------------------------------------------
    def _train_epochs(self) -> None:
        while self.epoch < self.cfg.train.epochs and not self.early_stopped:
            epoch = self.epoch + 1
            t0 = time.perf_counter()
            train, images = self._train_one_epoch(epoch)
            img_per_s = images / max(time.perf_counter() - t0, 1e-9)
            val = self._validate(epoch) if self.has_val else {}
            metrics = {**train, **val, "lr": self.last_lr, "epoch_time": time.perf_counter() - t0,
                       "img_per_s": img_per_s}
            self.schedule.on_epoch_end(metrics.get(self.monitor, math.nan))
            self.step = 0
            self._end_epoch(epoch, metrics)

    def _train_one_epoch(self, epoch: int) -> tuple[dict[str, float], int]:
        """(train loss/acc, images seen) of one epoch."""
        from ..recipe.mixing import mix_batch, mix_is_on, one_hot_targets, smooth_targets
        from ..recipe.preprocess import prepare_batch

        cfg, dev = self.cfg, self.device
        bs, accum, k = cfg.train.batch_size, self.accum, len(self.class_names)
        mixing = mix_is_on(cfg.mix)
        self.rec.phase("training", f"epoch {epoch}")
        order = self.epoch_order(epoch)
        n_steps = self.steps_per_epoch
        labels = self.batches.epoch(order[:n_steps * bs])  # in batch order: a batch's labels are a view
        preds = torch.empty_like(labels)  # filled batch by batch; compared with labels once at the end
        soft = None if self.soft_targets is None else self.soft_targets[
            torch.from_numpy(order[:n_steps * bs]).to(dev)]
        if self.augment is not None:
            self.augment.reset()
        self.model.train()
        self.optimizer.zero_grad(set_to_none=True)
        loss_sum = torch.zeros((), device=dev)
        seen = 0
        t_last, seen_last = time.perf_counter(), 0
        for b in range(n_steps):
            self.check_stop_at_step()
            self.step = b + 1
            batch = slice(b * bs, (b + 1) * bs)
            xb, yb = self.batches.images(batch), labels[batch]
            lr = self.schedule.apply(self.optimizer, self.opt_step)
            x = prepare_batch(xb, self.mean, self.std, self.input_size, self.augment)
            if self.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            targets = yb  # hard labels; the loss applies label smoothing to them
            if soft is not None:  # vote distributions, smoothed like one-hot targets
                targets = smooth_targets(soft[batch], cfg.loss.label_smoothing)
            if mixing:
                if soft is None:
                    targets = one_hot_targets(yb, k, cfg.loss.label_smoothing)
                x, targets = mix_batch(x, targets, cfg.mix, self.np_rng, generator=self.aug_gen)
            with torch.autocast(device_type=dev.type, dtype=self.amp_dtype, enabled=self.amp_dtype is not None):
                logits = self.forward(x)
                loss = self.criterion(logits.float(), targets)
            self.scaler.scale(loss / accum if accum > 1 else loss).backward()
            if (b + 1) % accum == 0 or b + 1 == n_steps:
                self._optimizer_step()
            loss_sum += loss.detach()  # batches have one size: the epoch mean is loss_sum / steps
            torch.argmax(logits.detach(), 1, out=preds[batch])
            seen += len(yb)
            self.global_step += 1
            if self.rec.due(force=b + 1 == n_steps or b == 0):
                self._check_finite(loss_sum, epoch, b + 1)  # syncs only where progress reads the loss
                now = time.perf_counter()
                rate = (seen - seen_last) / max(now - t_last, 1e-9) if b else 0.0
                t_last, seen_last = now, seen
                self.rec(ev.StepProgress(
                    run_id=self.run_dir.run_id, epoch=epoch, step=b + 1, steps_per_epoch=n_steps,
                    global_step=self.global_step, loss=float(loss.item()), lr=float(lr),
                    img_per_s=rate))
        self.last_lr = float(lr)
        return {"train_loss": float(loss_sum.item()) / max(n_steps, 1),
                "train_acc": float((preds == labels).sum().item()) / max(seen, 1)}, seen

    @staticmethod
    def _check_finite(loss_sum: torch.Tensor, epoch: int, step: int) -> None:
        """Raise Diverged once a loss of this epoch was inf or NaN (the sum keeps it)."""
        total = float(loss_sum.item())
        if not math.isfinite(total):
            raise Diverged(f"diverged at epoch {epoch} step {step}: the training loss became "
                           f"{'NaN' if math.isnan(total) else 'infinite'}")

    def _optimizer_step(self) -> None:
        if self.cfg.train.grad_clip > 0:
            self.scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.train.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.optimizer.zero_grad(set_to_none=True)
        self.opt_step += 1

    def _validate(self, epoch: int) -> dict[str, float]:
        """Plain cross-entropy, accuracy and macro-F1 on the validation split (no TTA)."""
        from ..eval.metrics import accuracy, confusion_matrix, macro_f1
        from ..recipe.preprocess import prepare_batch

        images, labels = self.data.split("val")
        n, bs = len(labels), max(self.cfg.train.batch_size, 256)
        votes = None if self.data.soft is None else self.data.soft[self.data.splits["val"]]
        self.model.eval()
        loss_sum, vote_sum, preds = 0.0, 0.0, []
        with torch.inference_mode():
            for start in range(0, n, bs):
                self.rec.phase("validating", f"epoch {epoch}", start / n, force=start == 0)
                self.check_stop()
                xb = torch.from_numpy(images[start:start + bs]).to(self.device, non_blocking=True)
                yb = torch.from_numpy(labels[start:start + bs].astype(np.int64)).to(self.device)
                x = prepare_batch(xb, self.mean, self.std, self.input_size)
                if self.channels_last:
                    x = x.contiguous(memory_format=torch.channels_last)
                with torch.autocast(device_type=self.device.type, dtype=self.amp_dtype,
                                    enabled=self.amp_dtype is not None):
                    logits = self.forward(x).float()
                loss_sum += float(F.cross_entropy(logits, yb, reduction="sum"))
                if votes is not None:
                    q = torch.from_numpy(votes[start:start + bs]).to(self.device)
                    vote_sum += float(F.cross_entropy(logits, q, reduction="sum"))
                preds.append(logits.argmax(1).cpu().numpy())
        self.model.train()
        cm = self.val_confusion = confusion_matrix(labels, np.concatenate(preds), len(self.class_names))
        out = {"val_loss": loss_sum / max(n, 1), "val_acc": accuracy(cm), "val_f1": macro_f1(cm)}
        if votes is not None:  # evaluation is against the top vote; this is against all the votes
            out["val_vote_ce"] = vote_sum / max(n, 1)
        return out

    @property
    def best_metric(self) -> float:
        best = self.stopper.best
        return best if math.isfinite(best) else math.nan

    def _end_epoch(self, epoch: int, metrics: dict[str, float]) -> None:
        run_id = self.run_dir.run_id
        self.epoch = epoch
        cm = None if self.val_confusion is None else self.val_confusion.tolist()
        self.rec(ev.EpochMetrics(run_id=run_id, epoch=epoch, metrics=metrics, confusion=cm))
        self.run_dir.write_metrics_row(epoch, metrics)
        # Without a validation split (the k-fold final model) the last epoch is the best.
        improved = self.stopper.update(metrics[self.monitor]) if self.has_val else True
        if improved:
            self.best_epoch = epoch
        self.early_stopped = self.has_val and self.stopper.should_stop
        # last before best: a stop (or kill) between the two keeps this epoch resumable,
        # and `_resume` rewrites best.pt from last.pt when last.pt says it was the best.
        self.rec.phase("saving", f"epoch {epoch}")
        state = self._state()
        for kind in ("last", "best") if improved else ("last",):
            self.save_checkpoint(kind, state)
            self.rec(ev.CheckpointSaved(run_id=run_id, epoch=epoch, kind=kind,
                                        path=str(self.run_dir.checkpoint_path(kind))))
            self.check_stop()

    def _state(self) -> dict[str, Any]:
        return {
            "format": 1, "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
            "schedule": self.schedule.state_dict(), "scaler": self.scaler.state_dict(),
            "early_stop": self.stopper.state_dict(), "epoch": self.epoch,
            "global_step": self.global_step, "opt_step": self.opt_step,
            "best_epoch": self.best_epoch, "early_stopped": self.early_stopped,
            "monitor": self.monitor, "rng": capture_rng(self.np_rng, self.aug_gen),
        }

    # -- the end ----------------------------------------------------------------------------
    def _finish(self) -> dict[str, Any]:
        best = self.run_dir.checkpoint_path("best")
        if best.is_file():
            self.model.load_state_dict(load_checkpoint(best)["model"])
        summary: dict[str, Any] = {
            "status": "finished", "best_epoch": self.best_epoch, "monitor": self.monitor,
            "best_metric": self.best_metric, "epochs_done": self.epoch,
            "early_stopped": self.early_stopped, "device": str(self.device), **self.run_info(),
        }
        summary.update(self._predict_splits())
        summary.update(wall_time_s=time.time() - self.started, **peak_memory())
        self.run_dir.write_status("finished", summary=summary)
        self.rec(ev.RunFinished(run_id=self.run_dir.run_id, best_epoch=self.best_epoch,
                                best_metric=self.best_metric, monitor=self.monitor, summary=summary))
        return summary

    def _predict_splits(self) -> dict[str, float]:
        """Save predictions of each evaluated split (with and without TTA); their acc/F1."""
        from ..eval.metrics import accuracy, confusion_matrix, macro_f1, vote_cross_entropy
        from ..eval.predict import collect_predictions

        cfg, out = self.cfg, {}
        ttas = ["none"] + ([cfg.eval.tta] if cfg.eval.tta != "none" else [])
        splits = [s for s in cfg.eval.splits if len(self.data.splits.get(s, ())) > 0]
        for split in splits:
            images, labels = self.data.split(split)
            for tta in ttas:
                suffix = "" if tta == "none" else "_tta"
                self.rec.phase("predicting", f"{split}{' with ' + tta + ' TTA' if suffix else ''}", 0.0)
                preds = collect_predictions(
                    self.model, images, labels, self.class_names, mean=self.mean, std=self.std,
                    input_size=self.input_size, tta=tta, tta_vote=cfg.eval.tta_vote,
                    device=str(self.device), amp=cfg.train.amp, batch_size=max(cfg.train.batch_size, 256),
                    split=split,
                    meta={"run_dir": str(self.run_dir.path), "data": cfg.data.path,
                          "checkpoint": "best"},
                    progress=lambda f, d: self.rec.phase("predicting", d, f, force=False),
                    should_stop=self.should_stop)
                preds.save(self.run_dir.predictions_path(split, tta != "none"))
                cm = confusion_matrix(preds.y_true, preds.y_pred, len(self.class_names))
                out[f"{split}_acc{suffix}"] = accuracy(cm)
                out[f"{split}_f1{suffix}"] = macro_f1(cm)
                if self.data.soft is not None:
                    out[f"{split}_vote_ce{suffix}"] = vote_cross_entropy(
                        preds.probs, self.data.soft[self.data.splits[split]])
        return out

