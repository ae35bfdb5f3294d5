"""Draw a `FrameResult` onto its frame with OpenCV (works headless, used by GUI, CLI, recording).

Per face: the box, "label confidence" and a bar chart of the smoothed probabilities
beside the box; an optional Grad-CAM heat map over the tracked face; at the top left
the frame rate and per-stage latency.
"""
from __future__ import annotations

import cv2
import numpy as np

from .classify import square_box
from .pipeline import FrameResult

#: BGR colour per canonical class; other names get a grey.
CLASS_COLORS: dict[str, tuple[int, int, int]] = {
    "angry": (60, 60, 230), "disgust": (60, 160, 60), "fear": (170, 80, 160),
    "happy": (40, 200, 250), "sad": (200, 120, 40), "surprise": (230, 200, 60),
    "neutral": (190, 190, 190), "contempt": (120, 60, 200),
}
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def class_color(name: str) -> tuple[int, int, int]:
    return CLASS_COLORS.get(name, (160, 160, 160))


def _text(img: np.ndarray, text: str, org: tuple[int, int], scale: float, color, thick: int = 1,
          bg: tuple[int, int, int] | None = None) -> None:
    if bg is not None:
        (tw, th), base = cv2.getTextSize(text, _FONT, scale, thick)
        x, y = org
        cv2.rectangle(img, (x - 2, y - th - 3), (x + tw + 2, y + base), bg, cv2.FILLED)
    cv2.putText(img, text, org, _FONT, scale, color, thick, cv2.LINE_AA)


def _cam_overlay(img: np.ndarray, box: np.ndarray, cam: np.ndarray, margin: float, alpha: float) -> None:
    """Blend a JET heat map of `cam` over the face's crop square (clipped to the frame): the
    whole square is tinted (cold = blue, as in every Grad-CAM figure, so the map is visible
    even where it is weak), hot regions more strongly."""
    x0, y0, s = square_box(box, margin)
    h, w = img.shape[:2]
    cx0, cy0, cx1, cy1 = max(0, x0), max(0, y0), min(w, x0 + s), min(h, y0 + s)
    if cx1 <= cx0 or cy1 <= cy0:
        return
    weight = cv2.resize(np.clip(cam, 0, 1).astype(np.float32), (s, s), interpolation=cv2.INTER_LINEAR)
    heat = cv2.applyColorMap((weight * 255).astype(np.uint8), cv2.COLORMAP_JET).astype(np.float32)
    rows, cols = slice(cy0 - y0, cy1 - y0), slice(cx0 - x0, cx1 - x0)
    a = (alpha * (0.5 + 0.5 * weight[rows, cols]))[..., None]  # the face stays visible under cold areas
    region = img[cy0:cy1, cx0:cx1].astype(np.float32)
    img[cy0:cy1, cx0:cx1] = np.clip(region * (1 - a) + heat[rows, cols] * a, 0, 255).astype(np.uint8)


def _bars(img: np.ndarray, box: np.ndarray, probs: np.ndarray, names: list[str], scale: float) -> None:
    """A small horizontal bar chart of `probs` beside the box (right side, else left)."""
    h, w = img.shape[:2]
    row = max(10, int(round(13 * scale)))
    label_w, bar_w, pct_w = int(58 * scale), int(70 * scale), int(30 * scale)
    panel_w, panel_h = label_w + bar_w + pct_w + 8, row * len(names) + 6
    x, y, bw, _ = (int(v) for v in box)
    px = x + bw + 6 if x + bw + 6 + panel_w <= w else max(0, x - panel_w - 6)
    py = min(max(0, y), max(0, h - panel_h))
    sub = img[py:py + panel_h, px:px + panel_w]
    sub[:] = (sub * 0.35).astype(np.uint8)  # darkened backdrop, readable on any frame
    fs = 0.38 * scale
    for k, (name, p) in enumerate(zip(names, probs)):
        top = py + 3 + k * row
        _text(img, name[:8], (px + 3, top + row - 3), fs, (235, 235, 235))
        length = int(round(float(p) * bar_w))
        if length:
            cv2.rectangle(img, (px + label_w, top + 2), (px + label_w + length, top + row - 2),
                          class_color(name), cv2.FILLED)
        _text(img, f"{float(p):.0%}", (px + label_w + bar_w + 4, top + row - 3), fs, (235, 235, 235))


def annotate(frame: np.ndarray, result: FrameResult, *, bars: bool = True, hud: bool = True,
             cam_alpha: float = 0.6, margin: float = 0.1) -> np.ndarray:
    """A copy of the BGR frame with the result drawn on it."""
    img = np.ascontiguousarray(frame).copy()
    h, w = img.shape[:2]
    scale = max(0.6, min(2.0, min(h, w) / 400.0))
    thick = max(1, int(round(2 * scale)))
    if result.cam is not None:
        for box, tid in zip(result.boxes, result.track_ids):
            if tid == result.cam_track:
                _cam_overlay(img, box, result.cam, margin, cam_alpha)
    for box, tid, probs, label, conf in zip(result.boxes, result.track_ids, result.smoothed,
                                            result.labels, result.confidences):
        x, y, bw, bh = (int(v) for v in box)
        color = class_color(label)
        cv2.rectangle(img, (x, y), (x + bw, y + bh), color, thick, cv2.LINE_AA)
        caption = f"#{tid} {label} {conf:.0%}"
        ty = y - 6 if y - 6 > 14 * scale else y + bh + int(16 * scale)
        _text(img, caption, (x, ty), 0.55 * scale, (20, 20, 20), max(1, thick - 1), bg=color)
        if bars:
            _bars(img, box, probs, result.class_names, scale)
    if hud:
        lat = result.mean_latency_ms or result.latency_ms
        fps = f"{result.fps:5.1f} fps   " if result.fps else ""
        lines = [f"{fps}{len(result.boxes)} face(s)",
                 "capture {:.1f}  detect {:.1f}  classify {:.1f}{} ms".format(
                     lat.get("capture", 0), lat.get("detect", 0), lat.get("classify", 0),
                     f"  cam {lat['cam']:.1f}" if lat.get("cam", 0) >= 0.05 else "")]
        for k, line in enumerate(lines):
            _text(img, line, (6, int((18 + 18 * k) * scale)), 0.45 * scale, (255, 255, 255), 1, bg=(0, 0, 0))
    return img
