"""Stratified k-fold cross-validation as one parent run with a normal child run per fold.

    <parent>/config.json, events.jsonl, status.json   (kfold.k >= 2)
             kfold.json        per-fold results, mean and std of each metric
             kfold.csv         the same as a table: one row per fold, then mean and std
             folds/fold-1/ ... fold-k/   ordinary run directories (analysis views open them)
             folds/final/      optional model trained on train+val (kfold.final_on_train_val)

Folds are drawn over train+val together (`recipe.folds.stratified_folds`, seeded by
data.split_seed); the test split stays the test split of every fold. The data is
loaded once. Every child event reaches the parent's log and watcher; a child's terminal
event is replaced by `FoldFinished`, so only the parent's own end is terminal.
Resume skips finished folds and resumes an interrupted one from its last checkpoint.
"""
from __future__ import annotations

import csv
import io
import math
from dataclasses import replace
from typing import Any

import numpy as np

from ..config import RunConfig
from ..data.arrays import DatasetArrays
from . import events as ev
from ..progress import Cancelled, StopFn
from .job import FitFn, Recorder, load_data, peak_memory
from .rundir import RunDir

#: Summary keys aggregated over folds (when present in every fold).
FOLD_METRICS = ("best_epoch", "best_metric", "val_acc", "val_f1", "val_acc_tta", "val_f1_tta",
                "test_acc", "test_f1", "test_acc_tta", "test_f1_tta")


class KFoldRun:
    """Runs the folds of `config` into the parent `run_dir` (a `job.TrainingJob`); `fit_fold`
    trains one fold into its child directory (`run.fit`, with a DDP rank's job when distributed)."""

    def __init__(self, config: RunConfig, run_dir: RunDir, rec: Recorder, should_stop: StopFn,
                 fit_fold: FitFn):
        self.cfg, self.run_dir, self.rec, self.should_stop = config, run_dir, rec, should_stop
        self.fit_fold = fit_fold
        self.epoch = self.step = 0
        self.k = config.kfold.k
        self.child_cfg = config.replace(**{"kfold.k": 0, "kfold.final_on_train_val": False})

    def run(self, resume: bool) -> dict[str, Any]:
        from ..recipe.folds import grouped_folds, stratified_folds
        from ..recipe.checks import raise_on_errors

        warnings = [f"{p.key}: {p.message}" for p in raise_on_errors(self.cfg)]
        data = load_data(self.cfg, self.rec, self.should_stop)
        self.run_dir.write_warnings(warnings + data.check_trainable(self.cfg.data.path))
        pool = np.concatenate([data.splits["train"], data.splits.get("val", np.zeros(0, np.int64))])
        test = data.splits.get("test", np.zeros(0, np.int64))
        if data.groups is not None and self.cfg.data.split_by != "image":
            folds = grouped_folds(data.labels[pool], data.groups[pool], self.k, seed=self.cfg.data.split_seed)
        else:
            folds = stratified_folds(data.labels[pool], self.k, seed=self.cfg.data.split_seed)
        results: list[dict[str, Any]] = []
        for i, (tr, va) in enumerate(folds, 1):
            splits = {"train": pool[tr], "val": pool[va], "test": test}
            results.append(self._fold(i, f"fold-{i}", self.child_cfg, data, splits, resume))
            self._write(results)
        self._write_out_of_fold(results, [pool[va] for _, va in folds])
        final = None
        if self.cfg.kfold.final_on_train_val:
            epochs = max(1, round(float(np.mean([r["best_epoch"] for r in results]))))
            cfg = self.child_cfg.replace(**{"train.epochs": epochs})
            final = self._fold(self.k + 1, "final", cfg, data, {"train": pool, "test": test}, resume)
        return self._finish(results, final)

    def _fold(self, fold: int, name: str, cfg: RunConfig, data: DatasetArrays,
              splits: dict[str, np.ndarray], resume: bool) -> dict[str, Any]:
        """Train one child run (or take its result when a resumed parent already finished it)."""
        label = "final model on train+val" if name == "final" else f"fold {fold}/{self.k}"
        child = self.run_dir.child_dir(self.run_dir.folds_dir / name, lambda: RunDir.create(
            self.run_dir.folds_dir, cfg, run_id=name, name=f"{self.run_dir.display_name} {label}"))
        status = child.status()
        if status.state == "finished":
            return {**status.summary, "run_dir": str(child.path)}
        # (a fold created just now has no checkpoint: resuming it starts it afresh)
        self.rec(ev.FoldStarted(run_id=self.run_dir.run_id, fold=fold, k=self.k, run_dir=str(child.path)))
        what = "final model on train+val" if name == "final" else f"fold {fold} of {self.k}"
        fold_data = replace(data, splits=splits, notes=[*data.notes, f"k-fold: {what}"])

        def forward(event: ev.Event) -> None:
            if isinstance(event, ev.TERMINAL):
                status = {ev.RunFinished: "finished", ev.RunStopped: "stopped"}.get(type(event), "failed")
                summary = getattr(event, "summary", {}) or {"error": getattr(event, "error", "")}
                event = ev.FoldFinished(run_id=self.run_dir.run_id, fold=fold, k=self.k,
                                        run_dir=str(child.path), status=status, summary=summary)
            self.rec(event)

        summary = self.fit_fold(cfg, child, forward, self.should_stop, resume=resume, dataset=fold_data)
        if summary["status"] == "stopped":
            raise Cancelled
        if summary["status"] != "finished":
            raise RuntimeError(f"{what} failed ({child.path}): {summary.get('error', '')}")
        return {**summary, "run_dir": str(child.path)}

    def _write_out_of_fold(self, results: list[dict[str, Any]], val_index: list[np.ndarray]) -> None:
        """predictions/oof.npz: every train+val face predicted by the fold that did not train on it;
        `index` holds positions in the whole dataset (what label-issue finding ranks)."""
        from ..scoring.predictions import Predictions

        paths = [RunDir.open(r["run_dir"]).predictions_path("val", False) for r in results]
        if not all(p.is_file() for p in paths):  # eval.splits without "val": the folds kept none
            return
        parts = [replace(Predictions.load(p), index=np.asarray(index, np.int64))
                 for p, index in zip(paths, val_index)]

        def joined(name: str) -> np.ndarray:
            return np.concatenate([getattr(p, name) for p in parts])

        oof = Predictions(index=joined("index"), y_true=joined("y_true"), y_pred=joined("y_pred"),
                          probs=joined("probs"), logits=joined("logits"), losses=joined("losses"),
                          features=joined("features"), class_names=parts[0].class_names, split="oof",
                          meta={**parts[0].meta, "run_dir": str(self.run_dir.path), "kind": "out-of-fold"})
        oof.save(self.run_dir.predictions_path("oof", False))

    def _aggregate(self, results: list[dict[str, Any]]) -> tuple[dict[str, float], dict[str, float]]:
        mean, std = {}, {}
        for key in FOLD_METRICS:
            values = [v for v in (r.get(key) for r in results) if isinstance(v, (int, float)) and not math.isnan(v)]
            if values and len(values) == len(results):
                mean[key] = float(np.mean(values))
                std[key] = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
        return mean, std

    def _write(self, results: list[dict[str, Any]], final: dict[str, Any] | None = None) -> dict[str, Any]:
        mean, std = self._aggregate(results)
        folds = [{"fold": i, **{k: r.get(k) for k in ("run_dir", *FOLD_METRICS) if k in r}}
                 for i, r in enumerate(results, 1)]
        doc = {"k": self.k, "done": len(results), "monitor": self.cfg.train.monitor,
               "folds": folds, "mean": mean, "std": std,
               "final": ({k: final.get(k) for k in ("run_dir", *FOLD_METRICS) if k in final}
                         if final else None)}
        self.run_dir.write_kfold(doc)
        cols = ["fold", *[k for k in FOLD_METRICS if k in mean]]
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore", lineterminator="\n")
        w.writeheader()
        w.writerows(folds)
        w.writerow({"fold": "mean", **mean})
        w.writerow({"fold": "std", **std})
        self.run_dir.write_kfold_table(buf.getvalue())
        return doc

    def _finish(self, results: list[dict[str, Any]], final: dict[str, Any] | None) -> dict[str, Any]:
        doc = self._write(results, final)
        monitor = self.cfg.train.monitor
        summary = {"status": "finished", "k": self.k, "monitor": monitor,
                   **{f"mean_{k}": v for k, v in doc["mean"].items()},
                   **{f"std_{k}": v for k, v in doc["std"].items()},
                   "final_run_dir": final["run_dir"] if final else None, **peak_memory()}
        best = doc["mean"].get(monitor, math.nan)
        self.run_dir.write_status("finished", summary=summary)
        self.rec(ev.RunFinished(run_id=self.run_dir.run_id, best_epoch=0, best_metric=best,
                                monitor=monitor, summary=summary))
        return summary
