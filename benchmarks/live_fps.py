"""End-to-end live fps and per-stage latency on a video, on CPU: PyTorch beside onnxruntime.

    python benchmarks/live_fps.py [--video PATH] [--backbones fer_cnn resnet18_48]
                                  [--threads 2] [--detect-every 5] [--min-face 60]
                                  [--classify-every 1 2] [--frames 0]
                                  [--engines torch onnx-fp32 onnx-int8] [--accuracy-run RUN]

For each backbone an untrained model is saved as a run directory (on the demo faces) and
loaded the way the live page loads a run (`load_predictor`, the run's bfloat16 autocast
where the CPU computes it natively), and exported to ONNX float32 and int8 (static,
calibrated on demo faces) and loaded as the live page loads an exported model
(`OnnxPredictor`, no torch in its path). Every engine then runs the same video, side by
side in one run, through the live pipeline exactly as on the page: capture, detection
every N frames (downscaled, tracked in between), batched classification, EMA smoothing
and the overlay. Prints fps (wall clock), the mean latency of each stage, CPU seconds per
frame, and the load average (the machine may be shared). With `--accuracy-run` (a run
trained on FER2013) it also exports that run to int8 and prints the accuracy change on its
test split (PrivateTest) as the export measures it.
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

    from fer_engine.classes import FER2013_CLASSES
    from fer_engine.config import RunConfig
    from fer_engine.models import create_model
    from fer_engine.training.checkpoint import save_checkpoint
    from fer_engine.training.run_files import Preprocess
    from fer_engine.training.rundir import RunDir

    cfg = RunConfig().replace(**{"model.backbone": backbone, "data.path": "demo"})
    run = RunDir.create(root, cfg)
    model = create_model(cfg.model, num_classes=len(FER2013_CLASSES), in_chans=1)
    run.write_preprocess(Preprocess(class_names=list(FER2013_CLASSES), channels=1, image_size=48,
                                    input_size=int(model.input_size), mean=[0.5], std=[0.25],
                                    backbone=backbone))
    save_checkpoint(run.checkpoint_path("best"), {"model": model.state_dict()})
    run.write_status("finished")
    return run.path


ENGINES = ("torch", "onnx-fp32", "onnx-int8")


def predictors(run_dir: Path, engines: list[str], threads: int, out_dir: Path) -> dict:
    """engine -> predictor of this run: PyTorch (the run), or its ONNX float32 / int8 export."""
    from fer_engine.eval.predictor import load_predictor
    from fer_engine.export.build import export_model
    from fer_engine.export.formats import ExportOptions
    from fer_engine.export.runtime import OnnxPredictor

    out = {}
    for engine in engines:
        if engine == "torch":
            out[engine] = load_predictor(run_dir, "cpu")
            continue
        int8 = "static" if engine == "onnx-int8" else ""
        path = out_dir / f"{run_dir.name}-{engine}.onnx"
        export_model(run_dir, path, "onnx", ExportOptions(dynamic_batch=True, int8=int8), card=False)
        out[engine] = OnnxPredictor(path, "cpu", threads=threads)
    return out


def measure(predictor, video: Path, detect_every: int, classify_every: int, min_face: int,
            max_frames: int) -> dict:
    from fer_engine.live import LivePipeline, annotate, create_detector, make_smoother, open_source, play

    pipe = LivePipeline(predictor, create_detector("haar", min_face=min_face), make_smoother("ema"),
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
    ap.add_argument("--engines", nargs="+", default=list(ENGINES), choices=ENGINES,
                    help="inference engines to compare (default all)")
    ap.add_argument("--accuracy-run", type=Path, default=None, metavar="RUN",
                    help="a run trained on FER2013: print its int8 accuracy change on the test split")
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
    print(f"{'backbone':<12} {'engine':<10} {'cls/N':>5} {'fps':>6} {'capture':>8} {'detect':>7} {'(run)':>7} "
          f"{'classify':>9} {'overlay':>8} {'cpu/frame':>10} {'faces':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for backbone in args.backbones:
            run = untrained_run(Path(tmp), backbone)
            engines = predictors(run, args.engines, args.threads, Path(tmp))
            for every in args.classify_every:
                for engine, predictor in engines.items():
                    r = measure(predictor, args.video, args.detect_every, every, args.min_face, args.frames)
                    print(f"{backbone:<12} {engine:<10} {every:>5} {r['fps']:6.1f} {r['capture']:8.2f} "
                          f"{r['detect']:7.2f} {r['detect_when_run']:7.2f} {r['classify']:9.2f} {r['overlay']:8.2f} "
                          f"{r['cpu_ms']:8.1f}ms {r['faces']:4d}/{r['frames']}")
        if args.accuracy_run:
            from fer_engine.export.build import export_model
            from fer_engine.export.formats import ExportOptions

            result = export_model(args.accuracy_run, Path(tmp) / "accuracy-int8.onnx", "onnx",
                                  ExportOptions(dynamic_batch=True, int8="static"), card=False)
            q = result.metadata.int8
            print(f"int8 accuracy change of {args.accuracy_run.name} on its {q['split']} split ({q['n']} faces): "
                  f"{q['accuracy_float32']:.2%} (onnx float32) -> {q['accuracy_int8']:.2%} (int8), "
                  f"{100 * q['change']:+.2f} points; labels agree on {q['label_agreement']:.1%}")
    print("latencies are mean ms per frame; '(run)' is detection on the frames where it runs; "
          "cls/N: faces classified every N frames; torch = the run's PyTorch model (bfloat16 autocast "
          "where the CPU computes it natively); onnx-* = its export on onnxruntime's CPU provider; "
          f"load average now {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
