"""TensorBoard event files beside every run (`train.tensorboard`, on by default).

`with_tensorboard(config, run_dir, emit)` returns an `emit` that also writes what the
training events say to `<run>/tensorboard/`: loss, lr, throughput and the epoch's running
train accuracy and macro-F1 per (reported) step, every epoch metric (`loss/train`,
`accuracy/val`, `f1/val`, ...), the validation confusion matrix as an image per epoch, the
final test figures, and at the end the test features with face thumbnails and true/predicted
labels for the embedding projector. It listens to the
event stream only, so the training loop knows nothing about it; a TensorBoard failure is
noted once in the event log and never stops training. Without the `tensorboard` package
the run simply has no event files.
"""
from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from typing import Callable

import numpy as np

from ..config import RunConfig
from . import events as ev
from .rundir import RunDir

log = logging.getLogger(__name__)

Emit = Callable[[ev.Event], None]
#: Faces shown in the embedding projector (spread over the test split).
EMBEDDING_FACES = 2000
_SPLITS = ("train", "val", "test")


def tensorboard_dir(run_dir: RunDir | str | Path) -> Path:
    return (run_dir.path if isinstance(run_dir, RunDir) else Path(run_dir)) / "tensorboard"


def available() -> bool:
    return importlib.util.find_spec("tensorboard") is not None


def scalar_tag(key: str) -> str:
    """metrics.csv names -> TensorBoard tags grouping splits: val_acc -> accuracy/val."""
    split, _, what = key.partition("_")
    if split in _SPLITS and what:
        if what == "acc" or what.startswith("acc_"):
            what = "accuracy" + what[3:]
        return f"{what}/{split}"
    return f"epoch/{key}"


def confusion_image(cm: np.ndarray, class_names: list[str], title: str) -> np.ndarray:
    """(H, W, 3) uint8 heat map of the row-normalised confusion matrix."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from ..scoring.figures import confusion_figure

    fig = confusion_figure(np.asarray(cm), class_names, normalized=True, title=title)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


class TensorBoardLogger:
    """Turns one run's events into TensorBoard summaries (see the module docstring)."""

    def __init__(self, config: RunConfig, run_dir: RunDir):
        from torch.utils.tensorboard import SummaryWriter

        self.config, self.run_dir = config, run_dir
        self.writer = SummaryWriter(str(tensorboard_dir(run_dir)))
        self.class_names: list[str] = []

    def __call__(self, event: ev.Event) -> None:
        if event.run_id != self.run_dir.run_id:  # a k-fold child's events: it logs them itself
            return
        w = self.writer
        if isinstance(event, ev.RunStarted):
            self.class_names = list(event.class_names)
            w.add_text("run/config", f"```\n{self.config.to_json()}\n```", 0)
        elif isinstance(event, ev.StepProgress):
            w.add_scalar("step/loss", event.loss, event.global_step)
            w.add_scalar("step/lr", event.lr, event.global_step)
            w.add_scalar("step/img_per_s", event.img_per_s, event.global_step)
            for tag, value in (("step/accuracy", event.accuracy), ("step/f1", event.f1)):
                if value is not None:  # a step event made without them
                    w.add_scalar(tag, value, event.global_step)
        elif isinstance(event, ev.EpochMetrics):
            for key, value in event.metrics.items():
                w.add_scalar(scalar_tag(key), value, event.epoch)
            if event.confusion and self.class_names:
                w.add_image("confusion/val", confusion_image(np.asarray(event.confusion), self.class_names,
                                                             f"validation, epoch {event.epoch}"),
                            event.epoch, dataformats="HWC")
            w.flush()
        elif isinstance(event, ev.RunFinished):
            for key, value in event.summary.items():
                if key.startswith("test_") and isinstance(value, (int, float)):
                    w.add_scalar(scalar_tag(key), value, event.best_epoch)
            self._embedding(event.best_epoch)
            self.close()
        elif isinstance(event, (ev.RunStopped, ev.RunFailed)):
            self.close()

    def _embedding(self, step: int) -> None:
        """Test features with face thumbnails and labels, for the projector."""
        import torch

        from ..data import load_dataset
        from ..scoring.predictions import load_stored

        preds = load_stored(self.run_dir.predictions_path("test", False))
        if preds is None or not len(preds):
            return
        data = load_dataset(self.config.data)
        split_idx = data.splits["test"]
        pick = np.unique(np.linspace(0, len(preds) - 1, min(len(preds), EMBEDDING_FACES)).round().astype(int))
        faces = data.images[split_idx[preds.index[pick]]]
        thumbs = torch.from_numpy(faces).permute(0, 3, 1, 2).float().div(255.0)
        if thumbs.shape[1] == 1:
            thumbs = thumbs.expand(-1, 3, -1, -1)
        names = preds.class_names
        labels = [[names[t] if t >= 0 else "unknown", names[p]] for t, p in zip(preds.y_true[pick], preds.y_pred[pick])]
        self.writer.add_embedding(torch.from_numpy(preds.features[pick]), metadata=labels,
                                  metadata_header=["true", "predicted"], label_img=thumbs,
                                  global_step=step, tag="test_features")

    def close(self) -> None:
        self.writer.flush()
        self.writer.close()


def with_tensorboard(config: RunConfig, run_dir: RunDir, emit: Emit) -> Emit:
    """`emit` that also logs to TensorBoard when `train.tensorboard` is on and it is installed."""
    if not config.train.tensorboard or not available() or not getattr(run_dir, "writer", True):
        return emit  # off, not installed, or a distributed rank that does not write the run directory
    try:
        logger = TensorBoardLogger(config, run_dir)
    except Exception as e:  # noqa: BLE001 - TensorBoard must never stop a run
        log.warning("TensorBoard logging is off for %s: %s", run_dir.run_id, e)
        return emit
    broken: list[str] = []

    def both(event: ev.Event) -> None:
        if not broken:
            try:
                logger(event)
            except Exception as e:  # noqa: BLE001 - note it once, keep training
                broken.append(str(e))
                log.warning("TensorBoard logging stopped for %s: %s", run_dir.run_id, e)
        emit(event)

    return both
