"""torchrun with fer-studio's failure report, and the worker's side of a distributed run.

`python -m fer_engine.training.torchrun [torchrun options] -m fer_engine.training.ddp_fit RUN_DIR`
is `torchrun` itself (same options, same elastic agent) plus one thing: when the ranks fail
it records the run's RunFailed, naming the rank at the root ("rank 1 exited (killed by
SIGKILL)", or that rank's own error and hint); a rank that only lost a peer, or that the
agent terminated, is not the cause. torchrun ends every rank as soon as one dies (its monitor
looks every MONITOR_INTERVAL_S), so a dead rank fails the run within seconds, never a hang.

`run_torchrun` is what the training worker (`worker.py`) runs when `train.devices` asks for
several processes: it launches the above as a subprocess in its own session (Ctrl-C in a
terminal does not reach the ranks; stop is the run's stop file, agreed by the ranks at a step
boundary), forwards rank 0's events from the run's log as they are written, and turns the
stop flag into the stop file.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import fer_engine

from ..devices import DevicePlan
from . import distributed as D
from . import events as ev
from .rundir import RunDir

MONITOR_INTERVAL_S = 0.5  # how often torchrun's agent checks its ranks
LOG_NAME = "torchrun.log"  # the launcher's and every rank's output, in the run directory
_HINT = f"the output of every rank is in {LOG_NAME} in the run directory"


def launch_argv(plan: DevicePlan, run_path: str | Path, resume: bool) -> list[str]:
    """The command that runs `plan` on this machine (one node, a free port)."""
    return [sys.executable, "-m", "fer_engine.training.torchrun", "--standalone", "--nnodes", "1",
            "--nproc-per-node", str(plan.nproc), "--max-restarts", "0",
            "--monitor-interval", str(MONITOR_INTERVAL_S),
            "-m", "fer_engine.training.ddp_fit", str(run_path), *(["--resume"] if resume else [])]


def main(argv: list[str] | None = None) -> int:
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import parse_args, run

    args = parse_args(sys.argv[1:] if argv is None else argv)
    run_path = next((a for a in args.training_script_args if not a.startswith("-")), None)
    D.die_with_parent()
    try:
        run(args)
        return 0
    except ChildFailedError as e:
        if run_path:
            record_failure(RunDir(run_path), e.failures, nodes_may_race=args.nnodes != "1")
        return 1
    except SignalException:  # the worker that started us is gone: the ranks are ended
        return 1
    except Exception as e:  # noqa: BLE001 - rendezvous or start-up: the run must say so
        if run_path:
            _record(RunDir(run_path), f"torchrun could not run the ranks: {type(e).__name__}: {e}", _HINT)
        return 1


def root_cause(failures: dict, records: dict[int, dict]) -> tuple[int, str, str, str]:
    """(rank, error, hint, traceback) of the failure that ended the run.

    `failures` is torchrun's {global rank: ProcessFailure}; `records` the ranks' own error
    files. A rank's own error beats a death; a death (killed, or exited without a word)
    beats a rank the agent terminated (SIGTERM) or one that only lost a peer."""
    own = [r for r, rec in records.items() if not rec.get("peer_lost")]
    if own:
        r = min(own, key=lambda k: records[k].get("time", 0.0))
        rec = records[r]
        error = rec["error"] if r == 0 else f"rank {r}: {rec['error']}"
        return r, error, rec.get("hint", ""), rec.get("traceback", "")
    deaths = [r for r, f in failures.items() if r not in records and f.exitcode != -signal.SIGTERM]
    r = min(deaths or failures, key=lambda k: failures[k].timestamp)
    f = failures[r]
    how = f"killed by {f.signal_name()}" if f.exitcode < 0 else f"exit code {f.exitcode}"
    return r, f"rank {r} exited ({how})", _HINT, ""


def record_failure(run: RunDir, failures: dict, nodes_may_race: bool = False) -> None:
    """Write the run's RunFailed for torchrun's `failures`, unless rank 0 ended the run first."""
    from .ddp_fit import rank_error_path

    if run.status().state in ("finished", "stopped", "failed"):
        return  # rank 0 finished or stopped before another rank went, or another node reported
    records = {}
    for r in failures:
        try:
            records[r] = json.loads(rank_error_path(run.path, r).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
    rank, error, hint, tb = root_cause(failures, records)
    if nodes_may_race and rank not in records and all(f.exitcode == -signal.SIGTERM for f in failures.values()):
        time.sleep(5.0)  # our ranks were only terminated: let the node that saw the cause report
        if run.status().state == "failed":
            return
    _record(run, error, hint, tb)


def _record(run: RunDir, error: str, hint: str, tb: str = "") -> ev.RunFailed:
    failed = ev.RunFailed(run_id=run.run_id, error=error, traceback=tb, hint=hint)
    run.write_status("failed", error=error, hint=hint, summary={"status": "failed", "error": error, "hint": hint})
    run.append_event(failed)
    return failed


# -- the worker's side -------------------------------------------------------------------------
class LogFollower:
    """New whole lines of a run's events.jsonl since `start`, as events."""

    def __init__(self, run: RunDir):
        self.path = run.events_path
        self.offset = self.path.stat().st_size if self.path.exists() else 0

    def read(self) -> list[ev.Event]:
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                chunk = f.read(1 << 20)
        except FileNotFoundError:
            return []
        end = chunk.rfind(b"\n")
        if end < 0:
            return []
        self.offset += end + 1
        out = []
        for line in chunk[:end + 1].splitlines():
            try:
                out.append(ev.from_dict(json.loads(line)))
            except (ValueError, KeyError, TypeError):
                continue  # a damaged line: RunDir.read_events skips it too
        return out


def run_torchrun(plan: DevicePlan, run: RunDir, resume: bool, emit: Callable[[ev.Event], None],
                 should_stop: Callable[[], bool], poll_s: float = 0.05) -> int:
    """Run the ranks of `plan` on this machine into `run`; forward its events; torchrun's exit code."""
    D.clear_stop(run.path)
    follower = LogFollower(run)
    env = dict(os.environ)
    package_root = str(Path(fer_engine.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH", "")) if p)
    with open(run.path / LOG_NAME, "ab") as log:
        proc = subprocess.Popen(launch_argv(plan, run.path, resume), stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=env, start_new_session=True)
    terminal = False
    stop_sent = False
    try:
        while True:
            ended = proc.poll() is not None
            for event in follower.read():
                terminal |= isinstance(event, ev.TERMINAL)
                emit(event)
            if ended:
                break
            if not stop_sent and should_stop():
                D.request_stop(run.path)
                stop_sent = True
            time.sleep(poll_s)
        while events := follower.read():  # whatever came after the last look
            terminal |= any(isinstance(e, ev.TERMINAL) for e in events)
            for event in events:
                emit(event)
    finally:
        if proc.poll() is None:  # this worker is being torn down: end the ranks with it
            proc.terminate()
            proc.wait(timeout=60)
        D.clear_stop(run.path)
    if not terminal:
        emit(_record(run, f"torchrun ended (exit code {proc.returncode}) without a result", _HINT))
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
