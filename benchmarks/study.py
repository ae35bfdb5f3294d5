"""A real study on FER2013 and the Ray backend's speed-up from running trials side by side.

    python benchmarks/study.py      # the measured size: 10% of Training, 6 epochs, 2 seeds (20 min on a
                                    # 2-core bfloat16 EPYC, roughly 3x on float32-only cores) + the Ray part
    python benchmarks/study.py --train-fraction 0.02 --epochs 1 --no-tta --ray-train-fraction 0.02 \
        --ray-epochs 1          # a short proof that it works (figures meaningless)

Part 1: leave-one-out of three quick-cpu tricks (hflip, rotation, label smoothing) x 2 seeds
through the local backend on the FER2013 image folders (`$FER_SHARED_DATA` or
`../shared/data`, else `--data`): Training (a stratified `--train-fraction`) to train,
PublicTest to select, PrivateTest to report. Printed: every run, the results table
(accuracy ± std over seeds, its 95% interval, effect against the baseline with its 95%
interval, Holm-adjusted p, verdict, classes moved, cost) in text and Markdown.

Part 2: the same baseline twice (two seeds) through `--backend ray` on a local Ray
cluster, after one untimed warm-up trial, once one trial at a time (each with every CPU, or
a whole GPU) and once two at once (half the CPUs each, or half a GPU each); printed: both
wall times and the speed-up.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from fer_engine.cli.commands.study import StudyPrinter
from fer_engine.paths import shared_data_dir
from fer_engine.study.local import run_local
from fer_engine.study.plan import expand
from fer_engine.study.report import to_markdown, to_text
from fer_engine.study.results import analyze
from fer_engine.study.spec import StudySpec
from fer_engine.study.studydir import StudyDir

TRICKS = ["hflip", "rotation", "label_smoothing"]


def base_set(data: str, train_fraction: float, epochs: int | None, extra: list[str] = (),
             tta: bool = True) -> dict:
    # every arm trains the same epochs: a time budget would give each as many as the machine's load allows
    changes = {"data.path": data, "data.train_fraction": train_fraction, "train.time_budget_min": 0}
    if not tta:
        changes["eval.tta"] = "none"
    for item in extra:
        key, raw = item.split("=", 1)
        try:
            changes[key] = json.loads(raw)
        except json.JSONDecodeError:
            changes[key] = raw
    if epochs:
        changes["train.epochs"] = epochs
        changes["schedule.warmup_epochs"] = min(1.0, epochs / 4)
    return changes


def make_study(out: Path, spec_dict: dict) -> StudyDir:
    spec = StudySpec.from_dict(spec_dict)
    return StudyDir.create(out, spec, expand(spec))


def part_ablation(args, data: str, out: Path) -> bool:
    study = make_study(out / "ablation", {
        "name": "quick-cpu leave-one-out", "base": {"preset": "quick-cpu",
                                                    "set": base_set(data, args.train_fraction, args.epochs,
                                                                            args.overrides, not args.no_tta)},
        "ablate": {"tricks": TRICKS, "mode": "leave-one-out"}, "seeds": args.seeds, "tta": not args.no_tta})
    print(f"== part 1: {len(study.plan().runs)} runs into {study.path}", flush=True)
    t0 = time.perf_counter()
    run_local(study, parallel=1, on_event=StudyPrinter(sys.stdout))
    wall = time.perf_counter() - t0
    if set(study.states().values()) != {"finished"}:
        print(f"stopped; continue with: fer-studio study resume {study.path}", flush=True)
        return False
    results = analyze(study)
    print(f"\nstudy wall time {wall / 60:.1f} min\n")
    print(to_text(results))
    print("\n" + to_markdown(results))
    (out / "ablation-results.json").write_text(json.dumps(results.to_dict(), indent=1, default=float))
    return True


def part_ray(args, data: str, out: Path) -> None:
    import ray
    import torch

    from fer_engine.study.ray_backend import run_ray

    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    cpus = os.cpu_count() or 2
    ray.init(num_cpus=cpus, num_gpus=gpus, include_dashboard=False, log_to_driver=False)
    walls = {}
    try:
        # untimed: the first trial pays Ray's worker start-up and the imports; the data cache fills
        warm = make_study(out / "ray-warmup", {"name": "ray warm-up", "base": {"preset": "quick-cpu", "set": base_set(
            data, args.ray_train_fraction, 1, [*args.overrides, "train.max_steps_per_epoch=1"], False)},
            "seeds": [0]})
        run_ray(warm, parallel=1, cpus_per_run=float(cpus), gpus_per_run=float(gpus and 1))
        for parallel in (1, 2):
            study = make_study(out / f"ray-{parallel}", {
                "name": f"ray {parallel} at once", "base": {"preset": "quick-cpu", "set": base_set(
                    data, args.ray_train_fraction, args.ray_epochs, args.overrides, not args.no_tta)}, "seeds": [0, 1]})
            per_run = {"cpus_per_run": max(1.0, cpus / parallel), "gpus_per_run": gpus and 1.0 / parallel}
            print(f"== part 2: 2 runs, {parallel} at once ({per_run})", flush=True)
            t0 = time.perf_counter()
            done = run_ray(study, parallel=parallel, **per_run)
            walls[parallel] = time.perf_counter() - t0
            print(f"   {walls[parallel]:.1f} s ({', '.join(f'{k} {s}' for k, s in done.items())})", flush=True)
    finally:
        ray.shutdown()
    where = f"{gpus} GPU(s): 1 vs 2 trials per GPU" if gpus else f"{cpus} CPU cores: {cpus} vs {cpus // 2} per trial"
    print(f"\nRay speed-up, 2 trials at once against 1 ({where}): {walls[1] / walls[2]:.2f}x "
          f"({walls[1]:.0f} s -> {walls[2]:.0f} s)")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=None, help="FER2013 image folders (default: the shared data)")
    p.add_argument("--out", default="benchmark-study", help="where the study directories go")
    p.add_argument("--train-fraction", type=float, default=0.1, help="share of Training used (default 0.1)")
    p.add_argument("--epochs", type=int, default=6, help="epochs (default 6; 0: quick-cpu's 14)")
    p.add_argument("--seeds", type=int, default=2, help="seeds per variant (default 2)")
    p.add_argument("--ray-train-fraction", type=float, default=0.05,
                   help="Training share of the Ray part (default 0.05)")
    p.add_argument("--ray-epochs", type=int, default=2, help="epochs of the Ray part (default 2)")
    p.add_argument("--no-tta", action="store_true", help="report without quick-cpu's flip TTA (faster)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="change the quick-cpu base, e.g. --set train.batch_size=128 (repeatable)")
    p.add_argument("--skip", choices=("ablation", "ray"), action="append", default=[])
    args = p.parse_args()
    data = args.data
    if data is None:
        shared = shared_data_dir()
        if shared is None or not (shared / "fer2013").is_dir():
            print("FER2013 not found: give --data or set FER_SHARED_DATA", file=sys.stderr)
            return 2
        data = str(shared / "fer2013")
    out = Path(args.out)
    if out.exists() and any(out.iterdir()):
        print(f"{out} is not empty; give another --out", file=sys.stderr)
        return 2
    print(f"torch {__import__('torch').__version__}, {os.cpu_count()} CPU cores, data {data}", flush=True)
    if "ablation" not in args.skip and not part_ablation(args, data, out):
        return 130
    if "ray" not in args.skip:
        part_ray(args, data, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
