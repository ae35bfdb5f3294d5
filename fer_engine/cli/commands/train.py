"""`fer-studio train`: train headless with a progress bar, or `--resume RUN_DIR`.

The config (defaults, `--preset`, or `--config FILE`, then the shortcut flags, then
`--set key=value`) and the dataset are checked before a run directory is created, so a
bad input leaves nothing behind that looks like a run. `--preset` may name an ensemble
recipe (`fer_engine/presets/ensembles/`): each member trains as its own run (flags and
`--set` apply to every member), then `eval.ensemble.create_ensemble` makes the vote. Training runs in the same spawn
worker the GUI uses; Ctrl-C stops it cleanly (resumable), a second Ctrl-C kills it.
`--budget 15m` sets train.time_budget_min: the run plans its epochs (at most train.epochs) and
the progress shows the plan and each re-plan.
Exit codes: 0 finished, 1 failed or crashed, 2 bad input, 130 stopped.
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Collection, TextIO

from tqdm import tqdm

from .. import CliError
from ...config import RunConfig
from ...paths import default_runs_dir
from ...training import events as ev
from ...training.budget import format_duration, parse_budget

if TYPE_CHECKING:
    from ...presets import EnsembleRecipe

NAME = "train"
HELP = "Train a model headless (progress on stderr); --resume RUN_DIR continues a stopped or crashed run."


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", metavar="PATH", help='dataset folder, FER2013 CSV, or "demo"')
    p.add_argument("--config", metavar="FILE", help="run config JSON (e.g. saved from the GUI)")
    from ...presets import list_presets

    from ...presets import builtin_ensembles

    p.add_argument("--preset", metavar="NAME", help=f"start from a preset: {', '.join(list_presets())}; "
                   f"or train an ensemble recipe's members and vote: {', '.join(builtin_ensembles())}")
    p.add_argument("--backbone", metavar="NAME", help="backbone (fer-studio list-backbones)")
    p.add_argument("--epochs", type=int, metavar="N", help="epochs to train (with --budget: the most it may plan)")
    p.add_argument("--budget", metavar="TIME",
                   help="train within this time, e.g. 15m, 90s, 1h, 1h30m or 15 (minutes): the run times its "
                        "first steps, then plans its epochs and a warmup + cosine LR to end on time, "
                        "evaluation included (train.time_budget_min)")
    p.add_argument("--devices", metavar="N|cuda:I,J",
                   help="processes (GPUs) of one run through torchrun, e.g. 4 or cuda:0,1 (train.devices); "
                        "with --resume, continue on this many")
    p.add_argument("--out", metavar="DIR", help=f"runs folder (default {default_runs_dir()})")
    p.add_argument("--name", metavar="NAME", help="display name of the run")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override any config key, e.g. --set optim.lr=0.01 (repeatable)")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue a stopped or crashed run")


def build_config(args: argparse.Namespace, base: RunConfig | None = None,
                 base_sized: bool = False) -> tuple[RunConfig, list[str]]:
    """The run config from the arguments (on `base`, an ensemble member's config, when given;
    `base_sized`: the machine picked its backbone), checked (ConfigError names the key at
    fault), and its warnings ("key: what to change")."""
    from ...recipe.checks import raise_on_errors

    if args.config and args.preset:
        raise CliError("give either --config or --preset, not both")
    if base is not None:
        cfg = base
    elif args.config:
        cfg = RunConfig.load(args.config)
    elif args.preset:
        from ...presets import load_preset

        cfg = load_preset(args.preset)
    else:
        cfg = RunConfig()
    budget_min = parse_budget(args.budget) / 60 if args.budget is not None else None
    shortcuts = {"data.path": args.data, "model.backbone": args.backbone, "train.epochs": args.epochs,
                 "train.time_budget_min": budget_min, "train.devices": args.devices, "name": args.name}
    cfg = cfg.replace(**{k: v for k, v in shortcuts.items() if v is not None})
    cfg = cfg.with_overrides(args.overrides)
    if not backbone_chosen(args, base, base_sized):
        from ...presets import sized_for_machine

        cfg = sized_for_machine(cfg)
    if not (args.data or args.config or any(o.startswith("data.path=") for o in args.overrides)):
        raise CliError("no dataset: give --data PATH (a dataset folder, a FER2013 CSV, or \"demo\")")
    return cfg, [f"{p.key}: {p.message}" for p in raise_on_errors(cfg)]


def backbone_chosen(args: argparse.Namespace, base: RunConfig | None = None, base_sized: bool = False) -> bool:
    """Whether the backbone comes from the user (flag, --set, a config, a preset or an ensemble
    member that names one); else the run takes `models.default_backbone`, sized for the device
    and precision it trains with (after every flag and --set)."""
    from ...presets import sizes_backbone

    named = (not base_sized if base is not None
             else bool(args.config or (args.preset and not sizes_backbone(args.preset))))
    return named or bool(args.backbone) or any(o.partition("=")[0].strip() == "model.backbone"
                                               for o in args.overrides)


def check_data(cfg: RunConfig, out: TextIO) -> list[str]:
    """Read the dataset once before any run directory exists (it is cached for the worker);
    its warnings (classes missing from a split)."""
    from ...data import load_dataset

    if cfg.data.path != "demo" and not Path(cfg.data.path).exists():
        raise CliError(f"dataset not found: {cfg.data.path}")
    bar = ProgressBar(out)
    data = load_dataset(cfg.data, lambda f, d: bar.update(f"checking data: {d}", f))
    bar.done()
    warnings = data.check_trainable(cfg.data.path)
    sizes = ", ".join(f"{k} {len(v)}" for k, v in data.splits.items())
    print(f"data: {cfg.data.path} ({data.layout}; {sizes}; classes {', '.join(data.class_names)})", file=out)
    for note in data.notes:
        print(f"  note: {note}", file=out)
    return warnings


def run(args: argparse.Namespace) -> int:
    from ...presets import builtin_ensembles
    from ...training.rundir import RunDir, RunDirError

    out = sys.stderr
    warnings: list[str] = []
    if args.preset in builtin_ensembles() and not args.resume:
        return run_ensemble(args, out)
    if args.resume:
        if (args.data or args.config or args.preset or args.backbone or args.epochs or args.budget
                or args.overrides):
            raise CliError("--resume continues a run with its own config; other options are not allowed")
        try:
            run_dir = RunDir.open(args.resume)
        except RunDirError as e:
            raise CliError(str(e)) from None
        status = run_dir.status().state
        if status == "finished":
            raise CliError(f"run {run_dir.path} already finished; nothing to resume")
        print(f"resuming {run_dir.path} ({status})"
              + (f" on train.devices={args.devices}" if args.devices else ""), file=out)
        config, resume_dir, runs_root = None, run_dir.path, run_dir.path.parent
    else:
        config, warnings = build_config(args)
        if not backbone_chosen(args):
            from ...models import DEFAULT_REASONS

            name = config.model.backbone
            full = "" if name == "fer_cnn" else "; --backbone fer_cnn for the full one"
            print(f"backbone: {name} ({DEFAULT_REASONS[name]}{full})", file=out)
        warnings = warnings + check_data(config, out)
        for w in warnings:  # also in the run's warnings.json and its start event
            print(f"warning: {w}", file=out)
        resume_dir, runs_root = None, Path(args.out) if args.out else default_runs_dir()
    return _train(config, warnings, runs_root, args, out, resume_dir)[0]


def _train(config: RunConfig | None, warnings: list[str], runs_root: Path, args: argparse.Namespace,
           out: TextIO, resume_dir: Path | None = None, name: str | None = None):
    """Train (or resume) one run in a worker: (exit code, its RunDir)."""
    from ...training.worker import run_in_process

    budget_s, planned = _budget_of(config, resume_dir)
    printer = EventPrinter(out, shown={f"warning: {w}" for w in warnings}, budget_s=budget_s,
                           planned_epochs=planned)
    try:
        run_dir, terminal = run_in_process(config, runs_root, resume_dir=resume_dir, name=name or args.name,
                                           on_event=printer, devices=args.devices if args.resume else None)
    except OSError as e:
        raise CliError(f"cannot create a run in {runs_root}: {e.strerror or e}") from None
    print(f"run directory: {run_dir.path}", file=out)
    if isinstance(terminal, ev.RunFinished):
        return 0, run_dir
    if isinstance(terminal, ev.RunStopped):
        print(f"resume with: fer-studio train --resume {run_dir.path}", file=out)
        return 130, run_dir
    return 1, run_dir


def _budget_of(config: RunConfig | None, resume_dir: Path | None) -> tuple[float, int | None]:
    """(time budget in seconds, epochs its plan fits) of a new run, or of the run being resumed
    (from its directory; a damaged one is reported by the worker, with its own message)."""
    from ...config import ConfigError
    from ...training.rundir import RunDir, RunDirError

    if config is not None:
        return config.train.time_budget_min * 60, None
    if resume_dir is None:
        return 0.0, None
    run = RunDir(resume_dir)
    try:
        plan = (run.budget() or {}).get("plan") or {}
        return run.config().train.time_budget_min * 60, plan.get("epochs")
    except (ConfigError, RunDirError, OSError, AttributeError):
        return 0.0, None


def member_configs(args: argparse.Namespace, recipe: EnsembleRecipe) -> list[tuple[RunConfig, list[str]]]:
    """Each member of an ensemble recipe with the command's flags and --set applied, checked."""
    return [build_config(args, base, sized) for base, sized in zip(recipe.member_configs(), recipe.members_sized())]


def run_ensemble(args: argparse.Namespace, out: TextIO) -> int:
    """Train each member of the ensemble recipe `args.preset`, then write the vote beside them.

    Every member's config is checked before the first one trains; a member that does not
    finish ends the command with its exit code (the members trained so far are kept).
    """
    from ...eval.ensemble import create_ensemble
    from ...presets import load_ensemble_recipe

    recipe = load_ensemble_recipe(args.preset)
    label = args.name or f"{recipe.name} ({recipe.vote} vote)"
    built = member_configs(args, recipe)
    runs_root = Path(args.out) if args.out else default_runs_dir()
    members = []
    for i, (config, warnings) in enumerate(built, 1):
        print(f"member {i}/{len(built)} of {recipe.name}: preset {recipe.members[i - 1][0]} "
              f"{recipe.members[i - 1][1]}", file=out)
        warnings = warnings + check_data(config, out)
        for w in warnings:
            print(f"warning: {w}", file=out)
        code, run_dir = _train(config, warnings, runs_root, args, out, name=f"{label} member {i}")
        if code:
            return code
        members.append(run_dir.path)
    ens = create_ensemble(members, recipe.vote, runs_root / f"{time.strftime('%Y%m%d-%H%M%S')}-{recipe.name}",
                          name=label)
    print(f"ensemble directory: {ens.path}", file=out)
    return 0


# -- progress display ------------------------------------------------------------------------
class ProgressBar:
    """One self-overwriting status line (a tqdm bar) on a terminal, nothing elsewhere; `line`
    prints a lasting line above it on any stream."""

    WIDTH = 24
    _KNOWN = "{bar:%d} {percentage:3.0f}%% {desc}" % WIDTH  # a fraction in [0, 1] was given
    _UNKNOWN = "{desc}"

    def __init__(self, out: TextIO):
        self.out = out
        self.tty = out.isatty()
        self._bar: tqdm | None = None

    def update(self, text: str, fraction: float = -1.0) -> None:
        if not self.tty:
            return
        if self._bar is None:
            self._bar = tqdm(total=1.0, file=self.out, leave=False, dynamic_ncols=True,
                             bar_format=self._UNKNOWN)
        known = 0 <= fraction <= 1
        self._bar.bar_format = self._KNOWN if known else self._UNKNOWN
        self._bar.n = fraction if known else 0.0
        self._bar.set_description_str(text, refresh=False)
        self._bar.refresh()

    def done(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def line(self, text: str) -> None:
        self.done()
        tqdm.write(text, file=self.out)
        self.out.flush()


def _duration(seconds: float) -> str:
    if not math.isfinite(seconds) or seconds < 0:
        return "?"
    m, s = divmod(int(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}h{m:02d}m" if h else f"{m}m{s:02d}s"


class EventPrinter:
    """Turns worker events into the progress bar and a line per epoch. A run with a time budget
    (`budget_s`) counts its epochs by its plan (`planned_epochs`: a resumed run's, from budget.json)
    and prints each plan and re-plan; RunStarted's epochs are then the cap."""

    def __init__(self, out: TextIO, shown: Collection[str] = (), budget_s: float = 0.0,
                 planned_epochs: int | None = None):
        self.bar = ProgressBar(out)
        self.shown = set(shown)  # notes already printed (warnings before training)
        self.budget_s, self.planned_epochs = budget_s, planned_epochs
        self.epochs = 0
        self.t0 = time.perf_counter()
        self.steps0: int | None = None

    def __call__(self, e: ev.Event) -> None:
        handler = getattr(self, f"_on_{type(e).__name__}", None)
        if handler is not None:
            handler(e)

    def _on_RunStarted(self, e: ev.RunStarted) -> None:
        self.epochs = self.planned_epochs or e.epochs
        self.steps0 = None
        again = f", resumed after epoch {e.resumed_from_epoch}" if e.resumed_from_epoch else ""
        several = f" x {len(e.devices)} processes, global batch {e.global_batch}" if len(e.devices) > 1 else ""
        epochs = f"{e.epochs} epochs x {e.steps_per_epoch} steps"
        if self.budget_s:
            epochs = f"up to {epochs} within {format_duration(self.budget_s)}"
            epochs += f" ({self.planned_epochs} planned)" if self.planned_epochs else ""
        self.bar.line(f"run {e.run_id} on {e.device}{several}: {e.num_train} train / {e.num_val} val faces, "
                      f"{epochs}{again}\n  {e.run_dir}")
        for note in e.notes:
            if note not in self.shown:
                self.bar.line(f"  {note}" if note.startswith("warning: ") else f"  note: {note}")

    def _on_Phase(self, e: ev.Phase) -> None:
        if e.phase != "training":
            self.bar.update(f"{e.phase.replace('_', ' ')} {e.detail}".strip(), e.fraction)

    def _on_BudgetPlanned(self, e: ev.BudgetPlanned) -> None:
        if e.epochs_before is None:
            self.bar.line(f"  budget {format_duration(e.budget_s)}: {e.epochs} epochs planned ({e.sec_per_step:.3g} "
                          f"s/step measured over the first {e.at_step} steps; {format_duration(e.reserve_s)} kept "
                          "for evaluation)")
        else:
            epoch = -(-e.at_step // e.steps_per_epoch)
            self.bar.line(f"  re-planned at epoch {epoch} ({e.reason}): {e.epochs_before} -> {e.epochs} epochs")
        self.epochs = e.epochs

    def _on_StepProgress(self, e: ev.StepProgress) -> None:
        now = time.perf_counter()
        if self.steps0 is None:
            self.steps0, self.t0 = e.global_step, now
        done = e.global_step - self.steps0
        remaining = (self.epochs - e.epoch) * e.steps_per_epoch + (e.steps_per_epoch - e.step)
        eta = remaining * (now - self.t0) / done if done > 0 else math.nan
        self.bar.update(f"epoch {e.epoch}/{self.epochs} step {e.step}/{e.steps_per_epoch} "
                        f"loss {e.loss:.4f} lr {e.lr:.2e} {e.img_per_s:.0f} img/s ETA {_duration(eta)}",
                        e.step / e.steps_per_epoch)

    def _on_EpochMetrics(self, e: ev.EpochMetrics) -> None:
        m = e.metrics
        parts = [f"epoch {e.epoch}/{self.epochs}"]
        for key, fmt in (("train_loss", "{:.4f}"), ("train_acc", "{:.3f}"), ("val_loss", "{:.4f}"),
                         ("val_acc", "{:.3f}"), ("val_f1", "{:.3f}"), ("img_per_s", "{:.0f}")):
            if key in m:
                parts.append(f"{key} {fmt.format(m[key])}")
        self.bar.line("  ".join(parts) + f"  ({m.get('epoch_time', 0):.1f}s)")

    def _on_FoldStarted(self, e: ev.FoldStarted) -> None:
        what = "final model on train+val" if e.fold > e.k else f"fold {e.fold}/{e.k}"
        self.bar.line(f"== {what}: {e.run_dir}")

    def _on_FoldFinished(self, e: ev.FoldFinished) -> None:
        s = e.summary
        self.bar.line(f"== fold {e.fold} {e.status}: val_acc {s.get('val_acc', math.nan):.4f} "
                      f"val_f1 {s.get('val_f1', math.nan):.4f}")

    def _on_RunFinished(self, e: ev.RunFinished) -> None:
        s = e.summary
        keys = [k for k in s if k.startswith(("val_", "test_", "mean_", "std_"))]
        lines = [f"finished: best {e.monitor} {e.best_metric:.4f}"
                 + (f" at epoch {e.best_epoch}" if e.best_epoch else "")
                 + (" (early stopped)" if s.get("early_stopped") else "")]
        lines += [f"  {k:<16} {s[k]:.4f}" for k in keys if isinstance(s[k], (int, float))]
        lines.append(f"  wall time {_duration(s.get('wall_time_s', math.nan))}, peak host memory "
                     f"{s.get('peak_host_mb', 0):.0f} MiB"
                     + (f", peak GPU memory {s['peak_gpu_mb']:.0f} MiB" if "peak_gpu_mb" in s else ""))
        if "budget_s" in s:
            lines.append(f"  budget {format_duration(s['budget_s'])}, used {format_duration(s['budget_used_s'])}")
        self.bar.line("\n".join(lines))

    def _on_RunStopped(self, e: ev.RunStopped) -> None:
        if e.forced:
            self.bar.line(f"stopped, forced (second Ctrl-C) during epoch {e.epoch + 1}; the last "
                          f"checkpoint (epoch {e.epoch}) is kept")
        else:
            self.bar.line(f"stopped after epoch {e.epoch} (step {e.step} of the next)")

    def _on_RunFailed(self, e: ev.RunFailed) -> None:
        self.bar.line(f"failed: {e.error}" + (f"\n  hint: {e.hint}" if e.hint else ""))

    def _on_RunCrashed(self, e: ev.RunCrashed) -> None:
        self.bar.line(f"crashed: {e.message or f'exit code {e.exitcode}'}")
