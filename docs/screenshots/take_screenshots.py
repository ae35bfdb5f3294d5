"""Screenshots of the real fer-studio window for the README, every page in one theme.

    xvfb-run -a -s "-screen 0 1600x1000x24" python docs/screenshots/take_screenshots.py \
        --runs RUNS_DIR --data /path/to/fer2013 --video clip.mp4 --theme light

Opens the main window (1600x1000) with a fresh settings folder on RUNS_DIR, which must hold a
finished run trained on real faces (the README's come from a quick-cpu FER2013 run), and saves
`<page>-<theme>.png` next to this script: setup (the dataset's report), training (the run's
curves with its chance and majority-class lines), runs, analysis (a confusion-matrix cell's
faces and one face's Grad-CAM), analysis-scatter, and live (the run on the video, with its
Grad-CAM overlay). Run it once per theme.
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
    p.add_argument("--runs", type=Path, required=True, help="runs folder with a finished real-data run")
    p.add_argument("--run", default="", help="run folder name (default: the newest finished run)")
    p.add_argument("--data", default="demo", help="dataset shown on the set-up page")
    p.add_argument("--video", default="", help="video for the live page (skipped when empty)")
    p.add_argument("--theme", default="light", choices=("light", "dark"))
    p.add_argument("--out", type=Path, default=HERE)
    p.add_argument("--timeout", type=float, default=1200.0, help="seconds to wait for each background step")
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="fer-shots-"))
    os.environ["FER_STUDIO_CONFIG_DIR"] = str(tmp / "settings")

    from PySide6.QtWidgets import QApplication

    from fer_engine.training.runs_list import list_runs
    from fer_studio.app import create_window
    from fer_studio.settings import Settings

    app = QApplication.instance() or QApplication(sys.argv[:1])

    def wait(cond, what: str) -> None:
        t0 = time.monotonic()
        while not cond():
            app.processEvents()
            time.sleep(0.02)
            if time.monotonic() - t0 > args.timeout:
                raise TimeoutError(f"timed out waiting for {what}")

    def settle(seconds: float = 1.0) -> None:
        t0 = time.monotonic()
        while time.monotonic() - t0 < seconds:
            app.processEvents()
            time.sleep(0.02)

    def shot(name: str) -> None:
        settle()
        path = args.out / f"{name}-{args.theme}.png"
        window.grab().save(str(path))
        print("saved", path, flush=True)

    finished = [s for s in list_runs(args.runs) if s.status == "finished"]
    chosen = next((s for s in finished if s.path.name == args.run or not args.run), None)
    if chosen is None:
        raise SystemExit(f"no finished run {args.run or ''} in {args.runs}")
    run_dir = str(chosen.path)

    settings = Settings.load()
    settings.theme = args.theme
    window = create_window(settings)
    window.state.set_runs_root(args.runs)
    window.resize(1600, 1000)
    window.show()
    args.out.mkdir(parents=True, exist_ok=True)

    setup = window.pages["setup"]
    window.show_page("setup")
    window.state.set_data_path(args.data)
    wait(lambda: setup.report is not None and setup.report.path.endswith(Path(args.data).name)
         and not setup.report_running(), "the dataset report")
    window.state.set_config(window.state.config.replace(**{"data.path": args.data}))
    setup.tabs.setCurrentIndex(2)
    shot("setup")

    window.state.watchRequested.emit(run_dir)
    window.show_page("training")
    shot("training")

    runs = window.pages["runs"]
    window.show_page("runs")
    runs.refresh_now()
    runs.table.selectRow(runs.table.run_dirs().index(run_dir))
    shot("runs")

    analysis = window.pages["analysis"]
    window.show_page("analysis")
    analysis.open_run(run_dir, split="test")
    wait(lambda: analysis.analysis is not None and analysis.run_dir == run_dir
         and not analysis.tasks.is_running("open"), "the analysis")
    names = analysis.analysis.class_names
    true, pred = (names.index("fear"), names.index("angry")) if {"fear", "angry"} <= set(names) else (0, 1)
    analysis.show_cell(true, pred)
    rows = analysis.gallery.rows()
    if len(rows):
        analysis.gallery.select_row(int(rows[0]))
        analysis.inspect_row(int(rows[0]))
        wait(lambda: analysis.inspector.cams is not None or "unavailable" in analysis.inspector.status.text(),
             "the Grad-CAM maps")
    shot("analysis")
    analysis.tabs.setCurrentWidget(analysis.scatter)
    shot("analysis-scatter")
    analysis.tabs.setCurrentIndex(0)

    if args.video:
        live = window.pages["live"]
        window.show_page("live")
        live.run_combo.select(run_dir)
        live.settings_panel.cam.setChecked(True)
        live.settings_panel.cam_method.setCurrentIndex(live.settings_panel.cam_method.findData("layercam"))
        live.source.set_source("video", args.video)
        live.start()
        wait(lambda: live.latest is not None and len(live.latest.result.boxes) and
             live.latest.result.cam is not None and live.view.frames_shown >= 40, "live frames with Grad-CAM")
        shot("live")
        live.stop()
        wait(lambda: live.worker is None, "the live worker to stop")

    for page in window.pages.values():
        getattr(page, "shutdown", lambda: None)()
    return 0


if __name__ == "__main__":
    sys.exit(main())
