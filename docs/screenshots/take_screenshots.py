"""Screenshots of the real fer-studio window, for the README (run under a display or xvfb).

    xvfb-run -s "-screen 0 1600x1000x24" python docs/screenshots/take_screenshots.py

Opens the main window with a fresh settings folder and runs folder, reports on the demo
dataset, trains two short runs on it, and saves PNGs of each page next to this script:
setup.png, training-live.png, training-finished.png, training-compare.png, runs.png.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=HERE)
    p.add_argument("--data", default="demo")
    p.add_argument("--backbone", default="fer_cnn")
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--steps", type=int, default=25, help="max steps per epoch")
    p.add_argument("--theme", default="light")
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="fer-shots-"))
    os.environ.setdefault("FER_STUDIO_CONFIG_DIR", str(tmp / "settings"))

    from PySide6.QtWidgets import QApplication

    from fer_engine.config import RunConfig
    from fer_studio.app import create_window
    from fer_studio.settings import Settings

    app = QApplication.instance() or QApplication(sys.argv[:1])

    def wait(cond, timeout=600.0, what=""):
        t0 = time.monotonic()
        while not cond():
            app.processEvents()
            time.sleep(0.01)
            if time.monotonic() - t0 > timeout:
                raise TimeoutError(f"timed out waiting for {what}")

    def settle(seconds=0.6):
        t0 = time.monotonic()
        while time.monotonic() - t0 < seconds:
            app.processEvents()
            time.sleep(0.01)

    def train(name):
        got = []
        training.runStarted.connect(got.append)
        training.name_edit.setText(name)
        training.train_button.click()
        wait(lambda: got, what=f"run {name} to start")
        training.runStarted.disconnect()
        return got[0]

    def shot(name):
        settle()
        path = args.out / name
        window.grab().save(str(path))
        print("saved", path)

    settings = Settings.load()
    settings.theme = args.theme
    window = create_window(settings)
    window.state.set_runs_root(tmp / "runs")
    window.resize(1560, 960)
    window.show()
    args.out.mkdir(parents=True, exist_ok=True)

    setup, training = window.pages["setup"], window.pages["training"]
    window.show_page("setup")
    window.state.set_data_path(args.data)
    wait(lambda: setup.report is not None and not setup.report_running(), what="the dataset report")
    cfg = RunConfig().replace(**{
        "data.path": args.data, "model.backbone": args.backbone, "train.epochs": args.epochs,
        "train.max_steps_per_epoch": args.steps, "train.batch_size": 64, "loss.label_smoothing": 0.1,
        "schedule.warmup_epochs": 1.0, "augment.erasing": 0.25})
    window.state.set_config(cfg)
    setup.form.toolbox.setCurrentIndex(list(setup.form._section_index).index("augment"))
    shot("setup.png")
    setup.tabs.setCurrentIndex(1)
    shot("setup-samples.png")
    setup.tabs.setCurrentIndex(0)

    window.show_page("training")
    first = train("fer_cnn label-smoothing")
    wait(lambda: training.curves[first].epoch >= max(2, args.epochs // 2)
         and len(training.curves[first].epoch_x["val_acc"]) >= 2, what="a few epochs")
    shot("training-live.png")
    wait(lambda: first not in training.monitors, what="the first run to end")
    shot("training-finished.png")

    window.state.set_config(cfg.replace(**{"loss.label_smoothing": 0.0, "optim.name": "sgd",
                                           "optim.lr": 0.02, "augment.erasing": 0.0}))
    second = train("fer_cnn sgd")
    wait(lambda: second not in training.monitors, what="the second run to end")
    window.state.compareRequested.emit([first])
    shot("training-compare.png")

    runs = window.pages["runs"]
    window.show_page("runs")
    runs.refresh_now()
    runs.table.selectRow(0)
    shot("runs.png")
    for page in window.pages.values():
        getattr(page, "shutdown", lambda: None)()
    return 0


if __name__ == "__main__":
    sys.exit(main())
