"""Longest GUI event-loop stall while the app trains a run (issue 4: must stay < 50 ms).

Opens the real main window (offscreen unless a display is set), starts a run from the
training page and samples a 5 ms QTimer from the moment Train is pressed until the run
ends: worker start, data loading, every epoch, checkpoint saving and the live curves.
The set-up page's dataset report runs in the background at the same time. Like `fer-studio`,
the window first preloads the heavy libraries (timm, scikit-learn, grad-cam) in the background;
the stall during that start-up phase is printed separately, and Train is pressed after it.

    QT_QPA_PLATFORM=offscreen python benchmarks/gui_latency.py              # demo, fer_cnn_tiny
    python benchmarks/gui_latency.py --backbone fer_cnn --epochs 3 --steps 40
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="demo")
    p.add_argument("--backbone", default="fer_cnn_tiny")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--steps", type=int, default=30, help="max steps per epoch (0 = all)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--runs", type=int, default=2, help="runs in a row (the first one also "
                   "pays one-time costs: font and plot caches)")
    p.add_argument("--timeout", type=float, default=600)
    p.add_argument("--trace", type=float, default=0, metavar="MS",
                   help="print the GUI thread's stack whenever the loop is blocked longer than MS")
    args = p.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    tmp = tempfile.mkdtemp(prefix="fer-gui-latency-")
    os.environ.setdefault("FER_STUDIO_CONFIG_DIR", os.path.join(tmp, "settings"))

    from PySide6.QtWidgets import QApplication

    from fer_engine.config import RunConfig
    from fer_studio.app import create_window
    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = create_window()
    window.state.set_runs_root(os.path.join(tmp, "runs"))
    window.show()
    cfg = RunConfig().replace(**{
        "data.path": args.data, "model.backbone": args.backbone, "train.epochs": args.epochs,
        "train.max_steps_per_epoch": args.steps, "train.batch_size": args.batch_size,
        "train.device": "auto"})
    window.state.set_config(cfg)
    window.show_page("training")
    measure_preload(app)
    page = window.pages["training"]
    failures = 0
    for n in range(1, args.runs + 1):
        failures += measure_one_run(app, page, args, n)
    for p_ in window.pages.values():
        getattr(p_, "shutdown", lambda: None)()
    return 1 if failures else 0


def measure_preload(app) -> None:
    """Run the app's start-up preload to its end and print how long it blocked the loop."""
    from fer_studio.latency_probe import LatencyProbe
    from fer_studio.preload import preload_heavy_modules

    probe = LatencyProbe(5)
    probe.start()
    t0 = time.perf_counter()
    task = preload_heavy_modules()
    task.succeeded.connect(app.quit)
    task.failed.connect(app.quit)
    app.exec()
    probe.stop()
    print(f"start-up preload: {time.perf_counter() - t0:.1f} s, longest gap meanwhile "
          f"{probe.summary()['max_ms']:.0f} ms")


def measure_one_run(app, page, args, n: int) -> int:
    """Click Train, sample the event loop until the run ends, print the numbers (1 = failed)."""
    from PySide6.QtCore import QTimer

    from fer_studio.latency_probe import LatencyProbe

    probe = LatencyProbe(5, trace_ms=args.trace)
    ended: list[str] = []
    started: list[str] = []

    def on_started(run_dir: str) -> None:
        started.append(run_dir)
        page.monitors[run_dir].ended.connect(lambda status: (ended.append(status), app.quit()))

    page.runStarted.connect(on_started)
    page.train_button.clicked.connect(probe.start)  # measure from the click on
    QTimer.singleShot(300, page.train_button.click)
    QTimer.singleShot(int(args.timeout * 1000), app.quit)
    t0 = time.perf_counter()
    app.exec()
    probe.stop()
    page.runStarted.disconnect(on_started)
    page.train_button.clicked.disconnect(probe.start)
    if not started:
        print("the run did not start:", page.error.message.text(), file=sys.stderr)
        return 1
    s = probe.summary()
    curves = page.curves[started[0]]
    print(f"run {n}: {curves.status} in {time.perf_counter() - t0:.1f} s on {curves.device or '?'}: "
          f"{len(curves.step_x)} step points, {len(curves.epoch_x['val_acc'])} epochs")
    print(f"  event loop (5 ms timer, {int(s['ticks'])} ticks): longest gap {s['max_ms']:.1f} ms "
          f"({s['max_at_s']:.2f} s after the click), p99 {s['p99_ms']:.1f} ms, median {s['p50_ms']:.1f} ms "
          f"(target < 50 ms); most GUI-thread CPU in one gap {s['max_cpu_ms']:.1f} ms; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    for late, stack in probe.stalls:
        print(f"--- GUI thread blocked > {late:.0f} ms in:\n{stack}")
    return 0 if ended and ended[0] == "finished" else 1


if __name__ == "__main__":
    sys.exit(main())
