"""The Ray backend: each run of a study is a Ray Tune trial with its own CPU/GPU resources.

Every trial trains through the ordinary `fit` into its run directory under the study
directory, which all nodes must see at the same path (a shared filesystem: NFS, a
mounted bucket, or one machine). A trial whose node died is retried by Tune
(`FailureConfig`) and resumes from its run's last checkpoint. Random samples of a spec
with `random.asha` run under an ASHA scheduler that stops bad ones early: Tune's stop ends
the run at its next batch like a user's stop, and its run is marked "pruned" ("stopped early
by ASHA"); a sample that reaches the last epoch runs to the end (its test predictions
included), as does everything else. Ray is an optional extra:
`pip install "fer-studio[cluster]"`.
"""
from __future__ import annotations

import os
from typing import Any, Callable

from .spec import StudyError
from .studydir import PRUNED, StudyDir

#: on_result(run key, metrics of one epoch as reported by the trial)
ResultFn = Callable[[str, dict[str, Any]], None]


def _ray():
    try:
        import ray
        from ray import tune
    except ImportError:
        raise StudyError('the Ray backend needs Ray: pip install "fer-studio[cluster]"') from None
    return ray, tune


def _trial(params: dict[str, Any]) -> None:
    """One run, inside a Ray worker: fit into the shared run directory, reporting each epoch."""
    import threading

    import torch
    from ray import tune

    from ..training import events as ev
    from ..training.run import fit

    torch.set_num_threads(max(1, int(params["cpus"])))
    study = StudyDir(params["study"])
    planned = next(r for r in study.plan().runs if r.key == params["key"])
    run_dir, resume = study.ensure_run_dir(planned)
    stopped = threading.Event()

    def emit(event: ev.Event) -> None:
        if isinstance(event, ev.EpochMetrics):
            try:
                tune.report({"epoch": event.epoch, **{k: float(v) for k, v in event.metrics.items()
                                                      if isinstance(v, (int, float))}})
            except SystemExit:  # how Tune stops a trial (ASHA): not a failure of the run
                stopped.set()

    summary = fit(run_dir.config(), run_dir, emit, stopped.is_set, resume=resume)
    if summary.get("status") != "finished" and not stopped.is_set():
        raise RuntimeError(f"run {planned.key} ended {summary.get('status')}: {summary.get('error', '')}")


def init_ray(address: str | None = None, **options: Any) -> None:
    """Connect to the Ray cluster at `address`, or start a local one whose trials train at normal
    priority. Ray starts its workers at nice 15, so on a busy machine a local trial got a sliver
    of the CPU beside any ordinary process (the local backend's workers run at normal priority).
    A running cluster keeps its own setting (`RAY_worker_niceness` where `ray start` runs)."""
    ray, _ = _ray()
    os.environ.setdefault("RAY_worker_niceness", "0")  # read only by a cluster started here
    ray.init(address=address, log_to_driver=False, **options)


def run_ray(study: StudyDir, address: str | None = None, parallel: int | None = None,
            cpus_per_run: float | None = None, gpus_per_run: float | None = None,
            max_failures: int = 2, on_result: ResultFn | None = None) -> dict[str, str]:
    """Train every unfinished run of `study` as Ray Tune trials; {run key: final state}."""
    ray, tune = _ray()
    from ray.tune.schedulers import ASHAScheduler

    spec, plan = study.spec(), study.plan()
    cpus = spec.cpus_per_run if cpus_per_run is None else cpus_per_run
    gpus = spec.gpus_per_run if gpus_per_run is None else gpus_per_run
    todo = study.todo()
    if not todo:
        return {}
    if not ray.is_initialized():
        try:
            init_ray(address)
        except (ConnectionError, ValueError, RuntimeError) as e:
            raise StudyError(f"cannot connect to the Ray cluster at {address or 'a new local one'}: {e}") from None
    random_names = {v.name for v in plan.variants if v.name.startswith("random-")}
    groups = [([r.key for r in todo if not (spec.random.asha and r.variant in random_names)], None),
              ([r.key for r in todo if spec.random.asha and r.variant in random_names],
               ASHAScheduler(time_attr="epoch", max_t=plan.base.train.epochs, stop_last_trials=False,
                             grace_period=min(spec.random.grace_epochs, plan.base.train.epochs)))]
    storage = str(study.path.resolve() / "ray")

    from ray.tune import Callback  # Ray is importable here: _ray() checked it

    class Forward(Callback):
        """Hands each trial's epoch results to `on_result` (not saved with Tune's state)."""

        def __init__(self, fn: ResultFn | None):
            self.fn = fn

        def __getstate__(self) -> dict[str, Any]:
            return {"fn": None}

        def on_trial_result(self, iteration, trials, trial, result, **info):
            if self.fn is not None:
                self.fn(trial.config["key"], dict(result))

    for keys, scheduler in groups:
        if not keys:
            continue
        trainable = tune.with_resources(tune.with_parameters(_trial), {"cpu": cpus, "gpu": gpus})
        tuner = tune.Tuner(
            trainable,
            param_space={"key": tune.grid_search(keys), "study": str(study.path.resolve()), "cpus": cpus},
            tune_config=tune.TuneConfig(max_concurrent_trials=parallel or None, scheduler=scheduler,
                                        metric="val_acc" if scheduler else None,
                                        mode="max" if scheduler else None),
            run_config=tune.RunConfig(storage_path=storage, name="asha" if scheduler else "trials",
                                      failure_config=tune.FailureConfig(max_failures=max_failures),
                                      verbose=0, callbacks=[Forward(on_result)]))
        results = tuner.fit()
        if scheduler is not None:  # a trial that ended without an error but unfinished: ASHA stopped it
            for result in results:
                if result.error is None:
                    _mark_pruned(study, result.config["key"])
    return {r.key: study.state(r.key) for r in todo}


def _mark_pruned(study: StudyDir, key: str) -> None:
    """A random sample that ASHA stopped: record it as pruned (not crashed, not to be rerun)."""
    if study.state(key) not in ("finished", PRUNED):
        run = study.run_dir(key)
        epochs = [m["epoch"] for m in run.read_metrics()]
        run.write_meta({"study_pruned": True})
        run.write_status("stopped", reason="stopped early by ASHA", epoch=max(epochs, default=0))

