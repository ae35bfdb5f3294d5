"""End-to-end live fps and per-stage latency on a video, on CPU.

    python benchmarks/live_fps.py [--video PATH] [--backbones fer_cnn resnet18_48]
                                  [--threads 2] [--detect-every 5] [--min-face 60]
                                  [--classify-every 1 2] [--frames 0]

For each backbone an untrained model is saved as a run directory and loaded the way
the live page loads a run (`load_predictor`), then every frame of the video goes
through the live pipeline exactly as on the page: capture, detection every N frames
(downscaled, tracked in between), batched classification with the run's conversion,
EMA smoothing and the overlay. Prints fps (wall clock), the mean latency of each
stage, CPU seconds per frame, and the load average (the machine may be shared).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def untrained_run(root: Path, backbone: str) -> Path:
    """A finished run directory holding an untrained model (speed does not depend on weights)."""

    from fer_engine.classes import CANONICAL_CLASSES
    from fer_engine.config import RunConfig
    from fer_engine.models import create_model
    from fer_engine.training.checkpoint import save_checkpoint
    from fer_engine.training.rundir import RunDir

    cfg = RunConfig().replace(**{"model.backbone": backbone})
    run = RunDir.create(root, cfg)
    model = create_model(cfg.model, num_classes=len(CANONICAL_CLASSES), in_chans=1)
    run.write_preprocess({"class_names": list(CANONICAL_CLASSES), "channels": 1, "image_size": 48,
                          "input_size": int(model.input_size), "mean": [0.5], "std": [0.25],
                          "backbone": backbone})
    save_checkpoint(run.checkpoint_path("best"), {"model": model.state_dict()})
    run.write_status("finished")
    return run.path


def measure(run_dir: Path, video: Path, detect_every: int, classify_every: int, min_face: int,
            max_frames: int) -> dict:
    from fer_engine.eval.predictor import load_predictor
    from fer_engine.live import LivePipeline, annotate, create_detector, make_smoother, open_source, play

    pipe = LivePipeline(load_predictor(run_dir, "cpu"), create_detector("haar", min_face=min_face), make_smoother("ema"),
                        detect_every=detect_every, classify_every=classify_every)
    with open_source(video) as warm:  # first-call costs (allocations, oneDNN kernels) outside the timing
        frame = warm.read()
        for _ in range(3):
            pipe.process(frame)
    stages = {k: [] for k in ("capture", "detect", "classify", "overlay")}
    faces = frames = 0
    cpu0, t0 = time.process_time(), time.perf_counter()
    with open_source(video) as src:
        for frame, result in play(src, pipe):
            t = time.perf_counter()
            annotate(frame.image, result)
            stages["overlay"].append((time.perf_counter() - t) * 1e3)
            for k in ("capture", "detect", "classify"):
                stages[k].append(result.latency_ms[k])
            frames += 1
            faces += len(result.boxes) > 0
            if max_frames and frames >= max_frames:
                break
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return {"frames": frames, "faces": faces, "fps": frames / wall, "cpu_ms": cpu / frames * 1e3,
            **{k: float(np.mean(v)) for k, v in stages.items()},
            "detect_when_run": float(np.mean([v for v in stages["detect"][::detect_every]]))}


def main() -> int:
    from fer_engine.paths import shared_data_dir

    data = shared_data_dir()
    default_video = data / "video" / "woman2.mp4" if data else None
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--video", type=Path, default=default_video)
    ap.add_argument("--backbones", nargs="+", default=["fer_cnn", "resnet18_48"])
    ap.add_argument("--threads", type=int, default=2, help="torch and OpenCV threads (default 2)")
    ap.add_argument("--detect-every", type=int, default=5)
    ap.add_argument("--min-face", type=int, default=60, help="smallest face in pixels (the live page's default)")
    ap.add_argument("--classify-every", type=int, nargs="+", default=[1, 2],
                    help="classification intervals to measure (default 1 2)")
    ap.add_argument("--frames", type=int, default=0, help="stop after N frames (0 = the whole video)")
    args = ap.parse_args()
    if args.video is None or not args.video.is_file():
        print(f"video not found: {args.video} (set FER_SHARED_DATA or pass --video)", file=sys.stderr)
        return 2
    import cv2
    import torch

    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    print(f"video {args.video.name}, CPU, {args.threads} threads, detection every {args.detect_every} "
          f"frames, min face {args.min_face} px, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"{'backbone':<12} {'cls/N':>5} {'fps':>6} {'capture':>8} {'detect':>7} {'(run)':>7} {'classify':>9} "
          f"{'overlay':>8} {'cpu/frame':>10} {'faces':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for backbone in args.backbones:
            run = untrained_run(Path(tmp), backbone)
            for every in args.classify_every:
                r = measure(run, args.video, args.detect_every, every, args.min_face, args.frames)
                print(f"{backbone:<12} {every:>5} {r['fps']:6.1f} {r['capture']:8.2f} {r['detect']:7.2f} "
                      f"{r['detect_when_run']:7.2f} {r['classify']:9.2f} {r['overlay']:8.2f} "
                      f"{r['cpu_ms']:8.1f}ms {r['faces']:4d}/{r['frames']}")
    print("latencies are mean ms per frame; '(run)' is detection on the frames where it runs; "
          "cls/N: faces classified every N frames; "
          f"load average now {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
