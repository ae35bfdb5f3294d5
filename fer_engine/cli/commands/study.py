"""`fer-studio study plan|run|resume|report`: ablations and sweeps over tricks and seeds.

`plan SPEC` lists the variants and runs with an estimated time; `run SPEC --out DIR`
checks every config and the dataset before anything trains, then trains the runs
(`--backend local` spawn workers, or `--backend ray` trials on a Ray cluster) and prints
the report; `resume DIR` trains what is not finished (and `--add-seeds`); `report DIR`
prints the results table (text, `--md`, `--csv` or `--json`). Ctrl-C stops cleanly.
Exit codes: 0 every run finished, 1 some failed or crashed, 2 bad input, 130 stopped.
"""
from __future__ import annotations

import argparse
import json
import math
import signal
import sys
from pathlib import Path

from .. import CliError

NAME = "study"
HELP = "Ablations and sweeps over tricks and seeds with honest statistics (plan, run, resume, report)."


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="study_command", metavar="ACTION", required=True)
    plan = sub.add_parser("plan", help="list the runs of a spec and estimate the time")
    plan.add_argument("spec", metavar="SPEC", help="study spec JSON")
    plan.add_argument("--parallel", type=int, default=None, metavar="N", help="runs at once (for the estimate)")
    plan.add_argument("--runs", action="append", default=[], metavar="DIR",
                      help="runs folder with past runs to take the throughput from (repeatable)")
    plan.add_argument("--no-probe", action="store_true", help="do not measure throughput when no past run fits")
    plan.add_argument("--json", action="store_true", help="print the plan as JSON")
    run = sub.add_parser("run", help="run a study into a new study directory")
    run.add_argument("spec", metavar="SPEC", help="study spec JSON")
    run.add_argument("--out", required=True, metavar="DIR", help="the study directory to create")
    run.add_argument("--no-probe", action="store_true", help="skip the throughput probe of the estimate")
    resume = sub.add_parser("resume", help="train the unfinished runs of a study directory")
    resume.add_argument("dir", metavar="DIR", help="a study directory")
    resume.add_argument("--add-seeds", type=int, nargs="+", default=[], metavar="SEED",
                        help="add these training seeds to every variant first")
    for q in (run, resume):
        q.add_argument("--backend", choices=("local", "ray"), default="local")
        q.add_argument("--parallel", type=int, default=None, metavar="N",
                       help="runs at once (local default: one per GPU, one on a CPU; ray: as resources allow)")
        q.add_argument("--address", default=None, metavar="ADDR",
                       help="Ray cluster: auto or ray://host:port (default: start a local one)")
        q.add_argument("--cpus-per-run", type=float, default=None, metavar="N", help="Ray: CPUs per trial")
        q.add_argument("--gpus-per-run", type=float, default=None, metavar="N",
                       help="Ray: GPUs per trial (fractions share a GPU)")
    report = sub.add_parser("report", help="the results table of a study directory")
    report.add_argument("dir", metavar="DIR", help="a study directory")
    fmt = report.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true")
    fmt.add_argument("--md", action="store_true")
    fmt.add_argument("--csv", action="store_true")
    report.add_argument("--bootstrap", type=int, default=4000, metavar="N", help="bootstrap draws (default 4000)")



def _load_plan(spec_path: str):
    from ...study.plan import expand
    from ...study.spec import StudySpec

    spec = StudySpec.load(spec_path)
    return spec, expand(spec)


def _print_plan(plan, estimate: dict, out) -> None:
    from ...study.estimate import describe_plan

    print("\n".join(describe_plan(plan, estimate)), file=out)


def _estimate(plan, args, roots=()) -> dict:
    from ...paths import default_runs_dir
    from ...study.estimate import estimate
    from ...study.local import default_parallel

    parallel = args.parallel or default_parallel()
    return estimate(plan, roots=[*roots, default_runs_dir()], probe=not args.no_probe, parallel=parallel)


class StudyPrinter:
    """One line per run start, epoch and end, tagged with the run key."""

    def __init__(self, out):
        self.out = out

    def __call__(self, key: str, e) -> None:
        from ...training import events as ev

        line = None
        if isinstance(e, ev.RunStarted):
            again = f", resumed after epoch {e.resumed_from_epoch}" if e.resumed_from_epoch else ""
            line = f"started on {e.device}: {e.epochs} epochs x {e.steps_per_epoch} steps{again}"
        elif isinstance(e, ev.EpochMetrics):
            m = e.metrics
            line = f"epoch {e.epoch} " + "  ".join(f"{k} {m[k]:.4f}" for k in ("train_loss", "val_acc") if k in m)
        elif isinstance(e, ev.RunFinished):
            s = e.summary
            line = "finished: " + "  ".join(f"{k} {s[k]:.4f}" for k in s if k.endswith(("_acc", "_acc_tta")))
        elif isinstance(e, ev.RunStopped):
            line = f"stopped after epoch {e.epoch}"
        elif isinstance(e, ev.RunFailed):
            line = f"failed: {e.error}"
        elif isinstance(e, ev.RunCrashed):
            line = f"crashed: {e.message}"
        if line:
            print(f"[{key}] {line}", file=self.out, flush=True)


def _train(study, args, out) -> int:
    # Ctrl-C, and the Studies page's Stop (SIGINT), stop the study cleanly. A process a script starts
    # in the background (no job control) inherits SIGINT ignored, and that Stop did nothing.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if args.backend == "ray":
        from ...study.ray_backend import run_ray

        def on_result(key: str, r: dict) -> None:
            print(f"[{key}] epoch {r.get('epoch')} val_acc {r.get('val_acc', math.nan):.4f}", file=out, flush=True)

        done = run_ray(study, address=args.address, parallel=args.parallel, cpus_per_run=args.cpus_per_run,
                       gpus_per_run=args.gpus_per_run, on_result=on_result)
    else:
        from ...study.local import run_local

        if args.address or args.cpus_per_run or args.gpus_per_run:
            raise CliError("--address, --cpus-per-run and --gpus-per-run are for --backend ray")
        done = run_local(study, parallel=args.parallel, on_event=StudyPrinter(out))
    states = study.states()
    left = {k: s for k, s in states.items() if s not in ("finished", "pruned")}
    print(f"study directory: {study.path} ({len(states) - len(left)} of {len(states)} runs done, "
          f"{len(done)} trained this time)", file=out)
    if left:
        print(f"not finished: {', '.join(f'{k} ({s})' for k, s in left.items())}\n"
              f"continue with: fer-studio study resume {study.path}", file=out)
        return 130 if any(s in ("stopped", "created", "pending") for s in left.values()) else 1
    _report(study, "text", 4000, sys.stdout)
    return 0


def _report(study, fmt: str, n_boot: int, out) -> None:
    from ...study.report import FORMATS
    from ...study.results import analyze

    results = analyze(study, n_boot=n_boot)
    if fmt == "json":
        print(json.dumps(results.to_dict(), indent=1, default=float), file=out)
    else:
        print(FORMATS[fmt](results), file=out)


def run(args: argparse.Namespace) -> int:
    from ...study.studydir import StudyDir

    out = sys.stderr
    if args.study_command == "plan":
        _, plan = _load_plan(args.spec)
        estimate = _estimate(plan, args, args.runs)
        if args.json:
            print(json.dumps({**plan.to_dict(), "estimate": estimate}, indent=1))
        else:
            _print_plan(plan, estimate, sys.stdout)
        return 0
    if args.study_command == "report":
        fmt = "json" if args.json else "md" if args.md else "csv" if args.csv else "text"
        _report(StudyDir.open(args.dir), fmt, args.bootstrap, sys.stdout)
        return 0
    if args.parallel is not None and args.parallel < 1:
        raise CliError(f"--parallel must be >= 1, got {args.parallel}")
    if args.study_command == "run":
        from .train import check_data

        spec, plan = _load_plan(args.spec)
        if (Path(args.out) / "study.json").exists():
            raise CliError(f"{args.out} already holds a study; continue it with `fer-studio study resume {args.out}`")
        check_data(plan.base, out)
        estimate = _estimate(plan, args)
        _print_plan(plan, estimate, out)
        study = StudyDir.create(args.out, spec, plan, estimate)
        return _train(study, args, out)
    study = StudyDir.open(args.dir)
    if args.add_seeds:
        from ...study.plan import add_seeds

        spec, plan = study.spec(), study.plan()
        new = add_seeds(plan, spec, args.add_seeds)
        spec.save(study.spec_path)
        study.save_plan(plan)
        print(f"added {len(new)} runs (seeds {', '.join(map(str, args.add_seeds))})", file=out)
    todo = study.todo()
    print(f"resuming {study.path}: {len(todo)} runs to train", file=out)
    return _train(study, args, out)
