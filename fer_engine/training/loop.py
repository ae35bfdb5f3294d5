"""`Training`: one run as a `job.TrainingJob`: it builds its components
(`components.build_components`), then only steps them, epoch by epoch, into its run directory.

The data path keeps the device fed: the training split lives on the device as one uint8
tensor (pinned and copied non-blocking on CUDA), each batch is a slice of it, and
augmentation runs batched on the device (`recipe.preprocess.prepare_batch`). There is no
per-image Python work and no host sync per step (losses and hits accumulate on the device;
only throttled progress events read them).

Every event goes to `run_dir`'s event log first, then on. Stop is cooperative:
`should_stop()` is checked every batch, during data loading, validation, prediction and
between checkpoint writes; a stopped run keeps a resumable `last.pt`. Resume restarts at
the epoch after the last checkpoint with every random state restored (`state.TrainState`),
so on CPU the curve is the one an uninterrupted run with the same seed draws.
"""
from __future__ import annotations

import dataclasses
import math
import random
import time
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ..config import RunConfig
from ..data.arrays import DatasetArrays
from ..progress import StopFn, check_stop
from ..recipe.sampling import epoch_indices
from . import events as ev
from .budget import BudgetPlan
from .budget_schedule import BudgetSchedule, EvalImages
from .checkpoint import load_checkpoint, save_checkpoint
from .components import Components, TrainSplit, build_components, resolve_device
from .job import Recorder, load_data, peak_memory
from .precision import describe
from .predict_splits import predict_splits
from .run_files import DatasetInfo
from .rundir import RunDir
from .state import TrainState


class Diverged(RuntimeError):
    """The training loss became inf or NaN: the run fails before saving such weights."""


class Training:
    """One run: set-up, then epochs, checkpoints and the final predictions."""

    def __init__(self, config: RunConfig, run_dir: RunDir, rec: Recorder, should_stop: StopFn,
                 dataset: DatasetArrays | None = None):
        self.cfg, self.run_dir, self.rec, self.should_stop = config, run_dir, rec, should_stop
        self.data = dataset  # loaded by `_load_data` when not given
        self.state = TrainState()
        self.warnings: list[str] = []
        self.val_confusion: np.ndarray | None = None  # of the last validation (TensorBoard shows it)
        self.started = time.time()
        self._t0 = time.perf_counter()
        self.budget: BudgetSchedule | None = None  # the schedule of a run with train.time_budget_min

    @property
    def epoch(self) -> int:
        return self.state.epoch

    @property
    def step(self) -> int:
        return self.state.step

    @property
    def model(self) -> torch.nn.Module:
        return self.parts.model

    def check_stop(self) -> None:
        check_stop(self.should_stop)

    # -- set-up ---------------------------------------------------------------------------
    def run(self, resume: bool) -> dict[str, Any]:
        from ..recipe.checks import raise_on_errors

        self.warnings = [f"{p.key}: {p.message}" for p in raise_on_errors(self.cfg)]
        self.np_rng = self._seed()
        self.device = resolve_device(self.cfg.train.device)
        self.split = self._load_data()
        self.parts = self.build_components()
        if self.cfg.train.time_budget_min > 0:
            self._use_budget()
        self.run_dir.write_preprocess(self.parts.preprocess(self.split, self.cfg.model.backbone))
        self.last_lr = self.parts.schedule.lr_at(0)
        if resume:
            self._resume()
        self._start_event(resume)
        self._train_epochs()
        return self._finish()

    def _seed(self) -> np.random.Generator:
        seed = self.cfg.train.seed
        torch.manual_seed(seed)
        random.seed(seed)
        return np.random.default_rng(seed)

    @property
    def dataset(self) -> DatasetArrays:
        """The run's data, once `_load_data` has read it."""
        if self.data is None:
            raise RuntimeError("the dataset is read by _load_data before training")
        return self.data

    def _load_data(self) -> TrainSplit:
        if self.data is None:
            self.data = load_data(self.cfg, self.rec, self.should_stop)
        data = self.data
        self.warnings += data.check_trainable(self.cfg.data.path)
        images, labels = data.split("train")
        val = data.splits.get("val")
        self.has_val = val is not None and len(val) > 0
        self.run_dir.write_dataset(DatasetInfo(
            source=self.cfg.data.path, layout=data.layout, class_names=list(data.class_names),
            image_size=int(data.images.shape[1]), channels=int(data.images.shape[-1]),
            splits={k: int(len(v)) for k, v in data.splits.items()},
            train_class_counts=data.class_counts("train").tolist(), notes=list(data.notes),
            split_class_counts={k: data.class_counts(k).tolist() for k in data.splits}))
        self.run_dir.write_warnings(self.warnings)
        # vote distributions (data.label_mode "probability") replace the hard training labels in the loss
        soft = None if data.soft is None else data.soft[data.splits["train"]]
        return TrainSplit(images, labels, soft, list(data.class_names))

    def build_components(self) -> Components:
        return build_components(self.cfg, self.split, self.device, self.shard_size(len(self.split.labels)),
                                self.np_rng)

    def _use_budget(self) -> None:
        """Replace the configured LR schedule by the budget's (planned once the first steps are timed)."""
        sizes = {k: len(v) for k, v in self.dataset.splits.items()}
        self.budget = BudgetSchedule(
            self.cfg, self.parts.opt_steps_per_epoch, self.cfg.train.batch_size * self.parts.accum,
            EvalImages.of(self.cfg, sizes, self.has_val), clock=self.budget_clock)
        self.parts = dataclasses.replace(self.parts, schedule=self.budget)

    def budget_clock(self) -> float:
        """Seconds since this process's run began: what the time budget counts."""
        return time.perf_counter() - self._t0

    def _planned(self, plan: BudgetPlan) -> None:
        """Record a plan or re-plan: budget.json, then the event."""
        assert self.budget is not None
        self.run_dir.write_budget(self.budget.state_dict())
        r = plan.record
        self.rec(ev.BudgetPlanned(
            run_id=self.run_dir.run_id, budget_s=plan.budget_s, used_s=r.clock_s, epochs=plan.epochs,
            epochs_before=r.epochs_before, steps_per_epoch=plan.steps_per_epoch, sec_per_step=plan.sec_per_step,
            reserve_s=plan.reserve_s, reason=r.reason, at_step=r.at_step, lr=plan.lr.to_json()))

    @property
    def epochs_to_train(self) -> int:
        """train.epochs, or what the time budget's plan fits (train.epochs until it is made)."""
        return self.budget.epochs if self.budget else self.cfg.train.epochs

    def _resume(self) -> None:
        path = self.run_dir.checkpoint_path("last")
        if not path.is_file():  # stopped before the first epoch ended: start afresh
            return
        ckpt = load_checkpoint(path)
        self.state = TrainState.restore(ckpt, self.parts, self.np_rng)
        self.run_dir.truncate_metrics(self.epoch)
        best = self.run_dir.checkpoint_path("best")
        if self.state.best_epoch == self.epoch and (
                not best.is_file() or load_checkpoint(best)["epoch"] != self.epoch):
            self.save_checkpoint("best", ckpt)  # the run stopped between writing last.pt and best.pt

    def _start_event(self, resume: bool) -> None:
        n_val = len(self.dataset.splits["val"]) if self.has_val else 0
        info = self.run_info()
        p = self.parts
        self.rec(ev.RunStarted(
            run_id=self.run_dir.run_id, run_dir=str(self.run_dir.path),
            device=describe(self.device, p.amp_dtype, p.channels_last),
            epochs=self.cfg.train.epochs, steps_per_epoch=p.steps_per_epoch,
            num_train=len(self.split.labels), num_val=n_val, class_names=tuple(self.split.class_names),
            resumed_from_epoch=self.epoch if resume else 0,
            notes=tuple(n for n in (*getattr(p.model, "notes", ()), p.batches.note,
                                    *(f"warning: {w}" for w in self.warnings)) if n),
            devices=tuple(info["devices"]), global_batch=info["global_batch"],
        ))

    # -- what a distributed rank changes (ddp_fit.DistributedTraining) -------------------------
    def shard_size(self, n: int) -> int:
        """Training samples this process visits per epoch."""
        return n

    def epoch_order(self, epoch: int) -> np.ndarray:
        """The training indices this process visits in `epoch`, in order."""
        return np.asarray(epoch_indices(self.split.labels, self.cfg.sampler.balanced, self.np_rng))

    def check_stop_at_step(self) -> None:
        """The stop check before every training batch."""
        self.check_stop()

    def save_checkpoint(self, kind: str, ckpt: dict[str, Any]) -> None:
        save_checkpoint(self.run_dir.checkpoint_path(kind), ckpt)

    def validation_forward(self):
        """What validation runs the batches through."""
        return self.parts.forward

    def run_info(self) -> dict[str, Any]:
        """Devices and global batch (RunStarted and the summary)."""
        return {"devices": [str(self.device)],
                "global_batch": self.cfg.train.batch_size * self.parts.accum}

    # -- epochs -----------------------------------------------------------------------------
    def _train_epochs(self) -> None:
        if self.budget:
            self.budget.epoch_started(self.state.opt_step)
        while self.epoch < self.epochs_to_train and not self.state.early_stopped:
            epoch = self.epoch + 1
            t0 = time.perf_counter()
            train, images = self._train_one_epoch(epoch)
            t_val = time.perf_counter()
            img_per_s = images / max(t_val - t0, 1e-9)
            val = self._validate(epoch) if self.has_val else {}
            metrics = {**train, **val, "lr": self.last_lr, "epoch_time": time.perf_counter() - t0,
                       "img_per_s": img_per_s}
            self.parts.schedule.on_epoch_end(metrics.get(self.parts.monitor, math.nan))
            if self.budget and (plan := self.budget.epoch_ended(epoch, self.state.opt_step,
                                                                time.perf_counter() - t_val)):
                self._planned(plan)
            self.state.step = 0
            self._end_epoch(epoch, metrics)

    def _train_one_epoch(self, epoch: int) -> tuple[dict[str, float], int]:
        """(train loss/acc, images seen) of one epoch."""
        from ..scoring.metrics import accuracy, macro_f1
        from ..recipe.mixing import mix_batch, mix_is_on, one_hot_targets, smooth_targets
        from ..recipe.preprocess import prepare_batch

        cfg, p, st, dev = self.cfg, self.parts, self.state, self.device
        bs, accum, k = cfg.train.batch_size, p.accum, len(self.split.class_names)
        mixing = mix_is_on(cfg.mix)
        self.rec.phase("training", f"epoch {epoch}")
        order = self.epoch_order(epoch)
        n_steps = p.steps_per_epoch
        labels = p.batches.epoch(order[:n_steps * bs])  # in batch order: a batch's labels are a view
        confusion = torch.zeros(k * k, dtype=torch.int64, device=dev)  # (true, predicted), no host sync
        soft = None if p.soft_targets is None else p.soft_targets[
            torch.from_numpy(order[:n_steps * bs]).to(dev)]
        if p.augment is not None:
            p.augment.reset()
        p.model.train()
        p.optimizer.zero_grad(set_to_none=True)
        loss_sum = torch.zeros((), device=dev)
        seen = 0
        t_last, seen_last = time.perf_counter(), 0
        for b in range(n_steps):
            self.check_stop_at_step()
            st.step = b + 1
            batch = slice(b * bs, (b + 1) * bs)
            xb, yb = p.batches.images(batch), labels[batch]
            lr = p.schedule.apply(p.optimizer, st.opt_step)
            x = prepare_batch(xb, p.mean, p.std, p.input_size, p.augment)
            if p.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            targets = yb  # hard labels; the loss applies label smoothing to them
            if soft is not None:  # vote distributions, smoothed like one-hot targets
                targets = smooth_targets(soft[batch], cfg.loss.label_smoothing)
            if mixing:
                if soft is None:
                    targets = one_hot_targets(yb, k, cfg.loss.label_smoothing)
                x, targets = mix_batch(x, targets, cfg.mix, self.np_rng, generator=p.aug_gen)
            with torch.autocast(device_type=dev.type, dtype=p.amp_dtype, enabled=p.amp_dtype is not None):
                logits = p.forward(x)
                loss = p.criterion(logits.float(), targets)
            p.scaler.scale(loss / accum if accum > 1 else loss).backward()
            if (b + 1) % accum == 0 or b + 1 == n_steps:
                self._optimizer_step()
                if self.budget and self.budget.plan is None:
                    self._plan_once_timed(loss)
            loss_sum += loss.detach()  # batches have one size: the epoch mean is loss_sum / steps
            pair = yb * k + logits.detach().argmax(1)
            confusion.index_add_(0, pair, torch.ones_like(pair))
            seen += len(yb)
            st.global_step += 1
            if self.rec.due(force=b + 1 == n_steps or b == 0):
                self._check_finite(loss_sum, epoch, b + 1)  # syncs only where progress reads the loss
                now = time.perf_counter()
                rate = (seen - seen_last) / max(now - t_last, 1e-9) if b else 0.0
                t_last, seen_last = now, seen
                cm = confusion.view(k, k).cpu().numpy()
                self.rec(ev.StepProgress(
                    run_id=self.run_dir.run_id, epoch=epoch, step=b + 1, steps_per_epoch=n_steps,
                    global_step=st.global_step, loss=float(loss.item()), lr=float(lr),
                    img_per_s=rate, accuracy=accuracy(cm), f1=macro_f1(cm)))
        self.last_lr = float(lr)
        return {"train_loss": float(loss_sum.item()) / max(n_steps, 1),
                "train_acc": accuracy(confusion.view(k, k).cpu().numpy())}, seen

    def _plan_once_timed(self, loss: torch.Tensor) -> None:
        """The budget's first plan, after its timed steps (a BudgetError ends the run before more training)."""
        assert self.budget is not None
        if self.state.opt_step >= self.budget.timed_steps:
            loss.item()  # wait for the device: the timed steps have really run
            if plan := self.budget.step_done(self.state.opt_step):
                self._planned(plan)

    @staticmethod
    def _check_finite(loss_sum: torch.Tensor, epoch: int, step: int) -> None:
        """Raise Diverged once a loss of this epoch was inf or NaN (the sum keeps it)."""
        total = float(loss_sum.item())
        if not math.isfinite(total):
            raise Diverged(f"diverged at epoch {epoch} step {step}: the training loss became "
                           f"{'NaN' if math.isnan(total) else 'infinite'}")

    def _optimizer_step(self) -> None:
        p = self.parts
        if self.cfg.train.grad_clip > 0:
            p.scaler.unscale_(p.optimizer)
            torch.nn.utils.clip_grad_norm_(p.model.parameters(), self.cfg.train.grad_clip)
        p.scaler.step(p.optimizer)
        p.scaler.update()
        p.optimizer.zero_grad(set_to_none=True)
        self.state.opt_step += 1

    def _validate(self, epoch: int) -> dict[str, float]:
        """Plain cross-entropy, accuracy and macro-F1 on the validation split (no TTA)."""
        from ..scoring.metrics import accuracy, confusion_matrix, macro_f1
        from ..recipe.preprocess import prepare_batch

        p, forward = self.parts, self.validation_forward()
        images, labels = self.dataset.split("val")
        n, bs = len(labels), max(self.cfg.train.batch_size, 256)
        data = self.dataset
        votes = None if data.soft is None else data.soft[data.splits["val"]]
        p.model.eval()
        loss_sum, vote_sum, preds = 0.0, 0.0, []
        with torch.inference_mode():
            for start in range(0, n, bs):
                self.rec.phase("validating", f"epoch {epoch}", start / n, force=start == 0)
                self.check_stop()
                xb = torch.from_numpy(images[start:start + bs]).to(self.device, non_blocking=True)
                yb = torch.from_numpy(labels[start:start + bs].astype(np.int64)).to(self.device)
                x = prepare_batch(xb, p.mean, p.std, p.input_size)
                if p.channels_last:
                    x = x.contiguous(memory_format=torch.channels_last)
                with torch.autocast(device_type=self.device.type, dtype=p.amp_dtype,
                                    enabled=p.amp_dtype is not None):
                    logits = forward(x).float()
                loss_sum += float(F.cross_entropy(logits, yb, reduction="sum"))
                if votes is not None:
                    q = torch.from_numpy(votes[start:start + bs]).to(self.device)
                    vote_sum += float(F.cross_entropy(logits, q, reduction="sum"))
                preds.append(logits.argmax(1).cpu().numpy())
        p.model.train()
        cm = self.val_confusion = confusion_matrix(labels, np.concatenate(preds), len(self.split.class_names))
        out = {"val_loss": loss_sum / max(n, 1), "val_acc": accuracy(cm), "val_f1": macro_f1(cm)}
        if votes is not None:  # evaluation is against the top vote; this is against all the votes
            out["val_vote_ce"] = vote_sum / max(n, 1)
        return out

    @property
    def best_metric(self) -> float:
        best = self.parts.stopper.best
        return best if math.isfinite(best) else math.nan

    def _end_epoch(self, epoch: int, metrics: dict[str, float]) -> None:
        run_id, st, p = self.run_dir.run_id, self.state, self.parts
        st.epoch = epoch
        cm = None if self.val_confusion is None else self.val_confusion.tolist()
        self.rec(ev.EpochMetrics(run_id=run_id, epoch=epoch, metrics=metrics, confusion=cm))
        self.run_dir.write_metrics_row(epoch, metrics)
        # Without a validation split (the k-fold final model) the last epoch is the best.
        improved = p.stopper.update(metrics[p.monitor]) if self.has_val else True
        if improved:
            st.best_epoch = epoch
        st.early_stopped = self.has_val and p.stopper.should_stop
        # last before best: a stop (or kill) between the two keeps this epoch resumable,
        # and `_resume` rewrites best.pt from last.pt when last.pt says it was the best.
        self.rec.phase("saving", f"epoch {epoch}")
        ckpt = st.checkpoint(p, self.np_rng)
        for kind in ("last", "best") if improved else ("last",):
            self.save_checkpoint(kind, ckpt)
            self.rec(ev.CheckpointSaved(run_id=run_id, epoch=epoch, kind=kind,
                                        path=str(self.run_dir.checkpoint_path(kind))))
            self.check_stop()

    # -- the end ----------------------------------------------------------------------------
    def _finish(self) -> dict[str, Any]:
        best, st, monitor = self.run_dir.checkpoint_path("best"), self.state, self.parts.monitor
        if best.is_file():
            self.model.load_state_dict(load_checkpoint(best)["model"])
        summary: dict[str, Any] = {
            "status": "finished", "best_epoch": st.best_epoch, "monitor": monitor,
            "best_metric": self.best_metric, "epochs_done": st.epoch,
            "early_stopped": st.early_stopped, "device": str(self.device), **self.run_info(),
        }
        summary.update(predict_splits(self.cfg, self.parts, self.dataset, self.run_dir, self.rec,
                                      self.should_stop))
        summary.update(wall_time_s=time.time() - self.started, **peak_memory())
        if self.budget:  # what the budget allowed and what the run used of it
            self.run_dir.write_budget(self.budget.state_dict())
            summary.update(budget_s=self.budget.budget_s, budget_used_s=self.budget.clock())
        self.run_dir.write_status("finished", summary=summary)
        self.rec(ev.RunFinished(run_id=self.run_dir.run_id, best_epoch=st.best_epoch,
                                best_metric=self.best_metric, monitor=monitor, summary=summary))
        return summary
