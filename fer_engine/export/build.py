"""`export_model`: a run or an ensemble -> one checked file with its metadata (and model card).

Steps: load each member's best model (float32, CPU), wrap them with their preprocessing in
`ExportGraph`, write the graph to a temporary file beside the target, check it against the
PyTorch float32 path on up to 256 test faces (max |probability difference|, label
agreement; a float32 export is refused above 1e-4), convert it to float16 / int8 when asked
(the int8 accuracy change is measured on the whole test split), write the metadata, and only
then move it into place: a failed export never leaves a file behind.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Literal, cast

import numpy as np

from .formats import EXPORTS, ExportFormat, ExportOptions
from .metadata import ExportError, ExportMetadata, MemberInfo, accuracy_with_interval, config_hash

if TYPE_CHECKING:
    from ..eval.source import EvalSource

#: A float32 export whose probabilities differ more than this from PyTorch's is refused.
PARITY_TOLERANCE = 1e-4
CHECK_FACES = 256
CALIBRATION_FACES = 256

Progress = Callable[[float, str], None]


@dataclass
class SelfCheck:
    faces: int
    max_abs_diff: float
    label_agreement: float
    precision: str
    against: str = "PyTorch float32"

    def line(self) -> str:
        return (f"self-check ({self.precision} vs {self.against}, {self.faces} test faces): "
                f"max |probability difference| {self.max_abs_diff:.2e}, "
                f"label agreement {self.label_agreement:.2%}")


@dataclass
class ExportResult:
    path: Path
    metadata: ExportMetadata
    checks: list[SelfCheck] = field(default_factory=list)
    card: Path | None = None
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [c.line() for c in self.checks]
        q = self.metadata.int8
        if q:
            out.append(f"int8 ({q['mode']}) accuracy on the test split ({q['n']} faces): "
                       f"{q['accuracy_int8']:.2%} vs float32 {q['accuracy_float32']:.2%} "
                       f"(change {100 * q['change']:+.2f} points)")
        out += self.notes
        out.append(f"exported {self.path}" + (f"; model card {self.card}" if self.card else ""))
        return out


def _open_source(path: str | Path) -> EvalSource:
    from ..eval.source import open_source

    p = Path(path)
    if not p.is_dir():
        raise ExportError(f"not a run or ensemble directory: {p}")
    return open_source(p)


def _members(source: EvalSource):
    """(models in float32 eval mode on the CPU, MemberInfo list, image size, channels)."""
    import torch

    from ..training.rundir import load_run_model

    models, infos = [], []
    sizes = set()
    for run in source.runs:
        model, pre = load_run_model(run, "best", "cpu")
        models.append(model.float().to(memory_format=torch.contiguous_format).eval())
        infos.append(MemberInfo(run_id=run.run_id, backbone=pre.backbone or run.config().model.backbone,
                                channels=pre.channels, input_size=pre.input_size,
                                mean=[float(v) for v in pre.mean], std=[float(v) for v in pre.std]))
        sizes.add(pre.image_size)
    if len(sizes) > 1:
        raise ExportError(f"the ensemble's members store faces at different sizes "
                          f"({', '.join(map(str, sorted(sizes)))}); "
                          "one graph takes one input size -- export the members separately")
    return models, infos, sizes.pop(), max(i.channels for i in infos)


def _split_faces(source: EvalSource, image_size: int, channels: int, progress: Progress | None):
    """(DataConfig, DatasetArrays, test split indices) of the run's own data at the graph's format."""
    from ..data import load_dataset
    from ..data.errors import DatasetError

    data = replace(source.runs[0].config().data, image_size=image_size,
                   channels=cast(Literal[1, 3], channels))  # the members' own, checked when they trained
    if data.path != "demo" and not Path(data.path).exists():
        raise ExportError(f"the run's dataset {data.path} is not here: the export checks itself on its test faces")
    try:
        dataset = load_dataset(data, progress=(lambda f, d: progress(0.1 * max(f, 0.0), d)) if progress else None)
    except DatasetError as e:
        raise ExportError(f"cannot read the run's dataset for the self-check: {e}") from None
    for split in ("test", "val", "train"):
        idx = dataset.splits.get(split)
        if idx is not None and len(idx):
            return dataset, split, np.asarray(idx)
    raise ExportError(f"the run's dataset {data.path} has no faces to check the export on")


def _spread(idx: np.ndarray, k: int) -> np.ndarray:
    """k indices spread evenly over `idx` (all of them when there are fewer)."""
    if len(idx) <= k:
        return idx
    return idx[np.linspace(0, len(idx) - 1, k).round().astype(int)]


def _compare(ref: np.ndarray, got: np.ndarray, precision: str) -> SelfCheck:
    return SelfCheck(len(ref), float(np.abs(ref - got).max()) if len(ref) else 0.0,
                     float((ref.argmax(1) == got.argmax(1)).mean()) if len(ref) else 1.0, precision)


def _stored_accuracy(source: EvalSource) -> dict:
    """Test accuracy with its 95% interval from the test predictions (and with TTA)."""
    from .card import test_predictions

    out: dict = {}
    try:
        both = test_predictions(source.path)
    except ValueError:  # no test split: the metadata says so by leaving the accuracy out
        return out
    for key, preds in zip(("plain", "tta"), both):
        if preds is None:
            continue
        known = preds.y_true >= 0
        acc = accuracy_with_interval(int((preds.y_pred[known] == preds.y_true[known]).sum()), int(known.sum()))
        if key == "plain":
            out.update(acc)
        else:
            out["tta"] = {**acc, "mode": preds.tta}
    return out


def _dataset_info(source: EvalSource, split: str) -> dict:
    run = source.runs[0]
    info = {"path": run.config().data.path, "checked_on": split}
    try:
        d = run.dataset_info().to_dict()
        info.update({k: d[k] for k in ("layout", "splits", "train_class_counts", "notes")})
    except Exception:  # noqa: BLE001 - an older run without dataset.json still exports
        pass
    return info


def export_model(source_dir: str | Path, out: str | Path, fmt: str = "onnx",
                 options: ExportOptions = ExportOptions(), *, card: bool = True,
                 check_faces: int = CHECK_FACES, progress: Progress | None = None) -> ExportResult:
    """Export a run or ensemble directory to `out` in format `fmt` (see `EXPORTS`); the
    self-check uses `check_faces` test faces spread over the split."""
    from .graph import ExportGraph, reference_probs

    spec: ExportFormat = EXPORTS.get(fmt)
    out = Path(out)
    if out.suffix.lower() != spec.suffix:
        raise ExportError(f"a {spec.name} export must end in {spec.suffix}, got {out.name}")
    for opt, on in (("half", options.half), ("int8", bool(options.int8))):
        if on and opt not in spec.options:
            raise ExportError(f"--{opt.replace('_', '-')} is not available for {spec.name} (use --format onnx)")
    if options.half and options.int8:
        raise ExportError("choose --half or --int8, not both")
    if not out.parent.is_dir():
        raise ExportError(f"output folder does not exist: {out.parent}")
    say = progress or (lambda f, d: None)
    source = _open_source(source_dir)
    say(0.0, "loading the model")
    models, infos, size, channels = _members(source)
    dataset, split, idx = _split_faces(source, size, channels, progress)
    check_idx = _spread(idx, check_faces)
    faces = dataset.images[check_idx]
    what = f"backbone {infos[0].backbone}" if len(infos) == 1 else \
        f"the ensemble ({', '.join(i.backbone for i in infos)})"
    graph = ExportGraph(models, infos, channels, size).eval()
    say(0.15, "computing the PyTorch reference")
    reference = reference_probs(models, infos, faces, size)
    tmp = out.with_name(f".{out.stem}.{int(time.time() * 1000)}.tmp{spec.suffix}")
    f32 = tmp.with_name(tmp.stem + ".f32" + spec.suffix)  # the float32 graph while reducing precision
    result_notes = []
    if source.vote == "hard":
        result_notes.append("note: the ensemble votes hard in fer-studio; the exported graph averages probabilities")
    try:
        say(0.25, f"exporting to {spec.name}")
        spec.export(graph, tmp, options, what)
        meta = ExportMetadata(
            class_names=list(source.runs[0].preprocess().class_names),
            image_size=size, channels=channels, members=infos, kind=source.kind,
            dataset=_dataset_info(source, split), test_accuracy=_stored_accuracy(source),
            config_hash=config_hash(source.runs[0].config_path.read_text(encoding="utf-8")),
            format=spec.name, opset=options.opset if spec.name == "onnx" else 0,
            dynamic_batch=options.dynamic_batch or spec.name == "torchscript", source=str(source.path.resolve()),
            created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        spec.write_metadata(tmp, meta)
        say(0.5, "checking the export against PyTorch")
        check = _compare(reference, spec.load(tmp, "cpu").predict_stored(faces), "float32")
        checks = [check]
        if check.max_abs_diff > PARITY_TOLERANCE:
            raise ExportError(f"the {spec.name} export of {what} differs from PyTorch by {check.max_abs_diff:.2e} "
                              f"(> {PARITY_TOLERANCE:g}) on {check.faces} test faces; not written")
        if options.half or options.int8:
            meta = _reduce(tmp, f32, spec, meta, options, dataset, split, idx, reference, faces, checks, say)
        meta = replace(meta, self_check={"faces": checks[-1].faces, "max_abs_diff": checks[-1].max_abs_diff,
                                         "label_agreement": checks[-1].label_agreement,
                                         "against": checks[-1].against, "precision": checks[-1].precision})
        spec.write_metadata(tmp, meta)
        for done, final in zip([tmp, *spec.sidecars(tmp)], [out, *spec.sidecars(out)]):
            done.replace(final)
    finally:
        for p in (tmp, f32):
            for q in (p, *spec.sidecars(p)):
                q.unlink(missing_ok=True)
    result = ExportResult(out, meta, checks, notes=result_notes)
    if card:
        from .card import write_model_card

        say(0.9, "writing the model card")
        result.card = write_model_card(source.path, out.parent / "MODEL_CARD.md", export=meta, export_path=out)
    say(1.0, "done")
    return result


def _reduce(tmp: Path, f32: Path, spec: ExportFormat, meta: ExportMetadata, options: ExportOptions,
            dataset, split: str, idx: np.ndarray, reference: np.ndarray, faces: np.ndarray,
            checks: list[SelfCheck], say: Progress) -> ExportMetadata:
    """Replace the float32 file `tmp` by its float16 or int8 version; checks and accuracy change."""
    from .quantize import to_float16, to_int8

    tmp.replace(f32)
    if options.half:
        say(0.6, "converting to float16")
        to_float16(f32, tmp)
        precision = "float16"
    else:
        say(0.6, f"quantising to int8 ({options.int8})")
        calib = None
        if options.int8 == "static":
            train = dataset.splits.get("train")
            source_idx = train if train is not None and len(train) else idx
            calib = dataset.images[_spread(np.asarray(source_idx), CALIBRATION_FACES)]
        to_int8(f32, tmp, options.int8, calib, batch=1 if not options.dynamic_batch else 32)
        precision = "int8"
    meta = replace(meta, precision=precision)
    spec.write_metadata(tmp, meta)
    reduced = spec.load(tmp, "cpu")
    checks.append(replace(_compare(reference, reduced.predict_stored(faces), precision)))
    if options.int8:
        say(0.75, f"int8 accuracy on the {split} split")
        labels = dataset.labels[idx]
        full = dataset.images[idx]
        fp = spec.load(f32, "cpu").predict_stored(full).argmax(1)
        q = reduced.predict_stored(full).argmax(1)
        acc32, acc8 = float((fp == labels).mean()), float((q == labels).mean())
        meta = replace(meta, int8={"mode": options.int8, "split": split, "n": int(len(idx)),
                                   "accuracy_float32": acc32, "accuracy_int8": acc8, "change": acc8 - acc32,
                                   "label_agreement": float((fp == q).mean())})
    return meta
