"""`fer-studio predict MODEL SOURCE`: find faces in images, folders or videos and classify them.

MODEL is a run or ensemble directory or an exported model (.onnx runs on onnxruntime
without importing torch; .pt is TorchScript)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .. import CliError

NAME = "predict"
HELP = ("Detect faces in an image, a folder of images or a video and print each face's "
        "expression as the run, ensemble or exported model (.onnx, .pt) predicts it; optionally write the "
        "annotated frames.")

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".m4v")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_dir", metavar="MODEL",
                   help="a finished run or ensemble directory, or an exported .onnx/.pt file")
    p.add_argument("source", metavar="SOURCE", help="an image, a folder of images, a video file or a camera index")
    p.add_argument("--out", metavar="PATH", default="",
                   help="write the annotated frames: a video (.mp4, .avi, ...) or else a folder of PNG images")
    p.add_argument("--json", action="store_true", help="print one JSON object per face (JSON lines)")
    p.add_argument("--every", type=int, default=1, metavar="N",
                   help="videos: detect faces every N frames, tracking boxes in between (default 1)")
    p.add_argument("--classify-every", type=int, default=1, metavar="N",
                   help="videos: classify faces every N frames, holding probabilities in between (default 1)")
    p.add_argument("--min-face", type=int, default=40, metavar="N", help="smallest face side in pixels (default 40)")
    p.add_argument("--detector", choices=("haar", "yunet"), default="haar", help="face detector (default haar)")
    p.add_argument("--yunet-model", default="", metavar="ONNX", help="YuNet model file (with --detector yunet)")
    p.add_argument("--smoothing", choices=("ema", "window", "none"), default="ema",
                   help="videos: smoothing of each face's probabilities over time (default ema)")
    p.add_argument("--alpha", type=float, default=0.4, help="EMA weight of the newest frame (default 0.4)")
    p.add_argument("--window", type=int, default=5, help="window length in frames (default 5)")
    p.add_argument("--margin", type=float, default=None,
                   help="crop margin around the box, per side (default 0.1, or the exported model's)")
    p.add_argument("--max-frames", type=int, default=0, metavar="N", help="stop after N frames (0 = all)")
    p.add_argument("--device", default="auto", help="auto (the GPU when there is one, default), cpu, cuda, ...")


def run(args: argparse.Namespace) -> int:
    from ...data.errors import printable
    from ...export.source import face_margin, open_model
    from ...live import (LivePipeline, RecordingError, SourceError, annotate, create_detector,
                         make_smoother, open_source)

    if min(args.every, args.classify_every, args.min_face) < 1:
        raise CliError("--every, --classify-every and --min-face must be at least 1")
    try:
        source = open_source(args.source)
    except SourceError as e:
        raise CliError(str(e)) from None
    with source:
        independent = source.kind == "images"  # unrelated pictures: no tracking or smoothing
        predictor = open_model(args.run_dir, args.device)
        if args.margin is None:
            args.margin = face_margin(predictor)
        pipe = LivePipeline(
            predictor,
            create_detector(args.detector, model_path=args.yunet_model, min_face=args.min_face),
            make_smoother("none" if independent else args.smoothing, args.alpha, args.window),
            detect_every=1 if independent else args.every,
            classify_every=1 if independent else args.classify_every, margin=args.margin)
        writer = _FrameWriter(Path(args.out), source.fps or 30.0) if args.out else None
        table = _Table(pipe.class_names) if not args.json else None
        frames = with_faces = 0
        try:
            for frame in source:
                if independent:
                    pipe.reset()
                result = pipe.process(frame)
                frames += 1
                with_faces += bool(len(result.boxes))
                if table is None:
                    for rec in result.records():
                        print(json.dumps(rec))
                else:
                    table.print(result)
                if writer:
                    writer.write(annotate(frame.image, result, margin=args.margin),
                                 frame.name or f"frame{frame.index:06d}")
                if args.max_frames and frames >= args.max_frames:
                    break
        except (SourceError, RecordingError) as e:
            raise CliError(str(e)) from None
        finally:
            if writer:
                writer.close()
    for path, reason in getattr(source, "skipped", []):
        print(printable(f"unreadable, skipped: {path}: {reason}"), file=sys.stderr)
    share = f" ({with_faces / frames:.0%})" if frames else ""
    print(f"{frames} frame(s), faces found in {with_faces}{share}" +
          (printable(f"; annotated output in {args.out}") if args.out else ""), file=sys.stderr)
    return 0


class _Table:
    """Fixed-width text rows: one per face, a 'no face' row for frames without one."""

    def __init__(self, class_names: list[str]):
        self.class_names = class_names
        cols = " ".join(f"{c[:7]:>7}" for c in class_names)
        print(f"{'frame':>6} {'source':<20} {'face':>4} {'box x,y,w,h':<19} {'label':<9} {'conf':>5} {cols}")

    def print(self, result) -> None:
        from ...data.errors import printable

        name = printable(result.name or "")[:20]
        if not len(result.boxes):
            print(f"{result.index:>6} {name:<20} {'-':>4} {'no face':<19}")
            return
        for i, tid in enumerate(result.track_ids):
            box = ",".join(str(int(v)) for v in result.boxes[i])
            probs = " ".join(f"{p:>7.3f}" for p in result.smoothed[i])
            print(f"{result.index:>6} {name:<20} {int(tid):>4} {box:<19} {result.labels[i]:<9} "
                  f"{result.confidences[i]:>5.2f} {probs}")


class _FrameWriter:
    """Annotated frames to a video file (by suffix) or to PNG files in a folder."""

    def __init__(self, out: Path, fps: float):
        from ...live import VideoRecorder

        self.video = VideoRecorder(out, fps) if out.suffix.lower() in VIDEO_SUFFIXES else None
        self.folder = out
        if self.video is None:
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise CliError(f"cannot create output folder {out}: {e.strerror}") from None

    def write(self, image, name: str) -> None:
        from ...live.cvfiles import write_image

        if self.video is not None:
            self.video.write(image)
            return
        path = self.folder / f"{Path(name).stem}.png"
        try:
            write_image(path, image)  # any file name (cv2.imwrite crashes on non-UTF-8 ones)
        except (OSError, ValueError) as e:
            raise CliError(f"cannot write image {path}: {getattr(e, 'strerror', None) or e}") from None

    def close(self) -> None:
        if self.video is not None:
            self.video.close()
