"""MODEL_CARD.md for a run or an ensemble (and the file exported from it).

Sections: the model and its input; the data and its known problems (byte-identical
duplicates and train/test leaks, conflicting labels, near-blank faces from the dataset
report); the recipe; test accuracy with 95% intervals with and without TTA; per-class
precision/recall/F1; the confusion matrix image (written beside the card); results on other
datasets when the run has them; intended use and limits. Figures come from the stored
predictions, so writing a card runs no model.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..utils.atomic import atomic_write_text
from .metadata import ExportMetadata, accuracy_with_interval, config_hash

_LIMITS = """\
- Intended use: research, teaching and prototypes that estimate the *displayed* facial
  expression of a frontal, reasonably lit face (the seven basic-emotion labels above).
- Not for: inferring anyone's inner emotional state, decisions about people (hiring,
  policing, health, education), or surveillance. Expressions are culture- and
  context-dependent; the labels are annotators' readings of posed or web photos.
- Known limits: accuracy drops on profiles, occlusions (masks, hands, glasses), low light,
  children and elderly faces, and on demographic groups under-represented in the data
  (not measured here). The face detector's misses and false boxes propagate.
- Before deploying, measure on data from the target setting; the interval above is the
  uncertainty of the test estimate only, not of performance elsewhere.
"""


def _pct(a: dict[str, Any]) -> str:
    return f"{a['accuracy']:.2%} (95% CI {a['low']:.2%}-{a['high']:.2%}, n = {a['n']:,}, Wilson)"


def _data_problems(run, lines: list[str], with_report: bool, noted: list[str]) -> None:
    """Known problems of the training data, from the dataset report (cached per-file facts)."""
    if not with_report:
        lines.append("- Dataset report not run (`fer-studio inspect-data PATH` lists duplicates and leaks).")
        return
    from ..data.report import dataset_report

    d = run.config().data
    if d.path != "demo" and not Path(d.path).exists():
        lines.append(f"- The dataset ({d.path}) is not on this machine; its report could not be made.")
        return
    try:
        rep = dataset_report(d.path, image_size=d.image_size, channels=d.channels, val_fraction=d.val_fraction,
                             test_fraction=d.test_fraction, split_seed=d.split_seed)
    except (OSError, ValueError) as e:
        lines.append(f"- The dataset report failed: {e}")
        return
    s = rep.duplicate_summary()
    lines.append(f"- Byte-identical groups: {s['groups']:,} ({s['files']:,} files); {s['train_and_eval']:,} span "
                 f"training and validation/test (leaks); {s['conflicting_labels']:,} carry different labels.")
    imb = rep.imbalance
    if imb["ratio"]:
        lines.append(f"- Class imbalance (train): {imb['ratio']:.1f}x ({imb['largest']} vs {imb['smallest']}).")
    lines.append(f"- Near-blank images: {len(rep.near_blank):,}; unreadable files: {len(rep.unreadable):,}.")
    lines += [f"- Note: {n}" for n in rep.notes if n not in noted]


def _recipe(run) -> list[str]:
    from ..recipe.tricks import active_tricks

    cfg = run.config()
    return [f"- `{run.run_id}`: backbone `{cfg.model.backbone}` (pretrained {cfg.model.pretrained}), "
            f"{cfg.train.epochs} epoch(s), batch {cfg.train.batch_size}, optimizer {cfg.optim.name} "
            f"(lr {cfg.optim.lr:g}, weight decay {cfg.optim.weight_decay:g}), schedule {cfg.schedule.name}, "
            f"loss {cfg.loss.name}, TTA {cfg.eval.tta}; tricks: {', '.join(active_tricks(cfg)) or 'none'}; "
            f"config hash `{config_hash(run.config_path.read_text(encoding='utf-8'))[:19]}`"]


def test_predictions(run_path: Path):
    """(plain, TTA or None) test predictions: stored ones, else computed once and stored
    (an ensemble combines its members' stored predictions)."""
    from ..eval.source import open_source
    from ..scoring.predictions import load_stored

    source = open_source(run_path)
    run = source.dir
    plain = load_stored(run.predictions_path("test", False))
    if plain is None:
        plain = source.predictions("test", device="cpu")
    tta = load_stored(run.predictions_path("test", True))
    if tta is None and run.config().eval.tta != "none" and source.kind == "ensemble":
        tta = source.predictions("test", tta=True, device="cpu")
    return plain, tta


def write_model_card(run_dir: str | Path, out: str | Path, *, export: ExportMetadata | None = None,
                     export_path: str | Path | None = None, with_report: bool = True) -> Path:
    """Write the card (and `<card stem>_confusion.png` beside it); returns the card's path."""
    from ..eval.export import confusion_matrix_figure
    from ..scoring.metrics import summary
    from ..eval.source import open_source
    from ..training.rundir import RunDir

    run_path = Path(run_dir)
    head = RunDir.open(run_path)
    source = open_source(run_path)
    runs, kind = source.runs, source.describe()
    out = Path(out)
    plain, tta = test_predictions(run_path)
    names = list(plain.class_names)
    lines = [f"# Model card: {head.display_name}", "",
             f"A facial-expression classifier made with fer-studio ({kind}), source `{run_path.resolve()}`.", ""]
    lines += ["## Model", ""]
    if export is not None:
        lines.append(f"- File: `{Path(export_path).name if export_path else ''}` ({export.format}, {export.precision}"
                     f"{', opset ' + str(export.opset) if export.opset else ''}"
                     f"{', any batch size' if export.dynamic_batch else ', batch size 1'}).")
        lines.append(f"- Input: {export.input}; S = {export.image_size}, C = {export.channels}, "
                     f"face margin {export.face_margin:g} per side. Output: {export.output}.")
        if export.self_check:
            c = export.self_check
            lines.append(f"- Self-check against {c['against']} on {c['faces']} test faces: max |probability "
                         f"difference| {c['max_abs_diff']:.2e}, label agreement {c['label_agreement']:.2%}.")
        if export.int8:
            q = export.int8
            lines.append(f"- int8 ({q['mode']}): accuracy {q['accuracy_int8']:.2%} vs float32 "
                         f"{q['accuracy_float32']:.2%} on {q['n']:,} {q['split']} faces "
                         f"({100 * q['change']:+.2f} points).")
    for r in runs:
        pre = r.preprocess()
        lines.append(f"- `{pre.backbone or r.config().model.backbone}`: faces {pre.image_size}x"
                     f"{pre.image_size}x{pre.channels}, model input {pre.input_size}, mean "
                     f"{[round(float(v), 4) for v in pre.mean]}, std {[round(float(v), 4) for v in pre.std]}.")
    lines.append(f"- Classes (output order): {', '.join(names)}.")
    lines += ["", "## Data", ""]
    info = runs[0].dataset_info()
    lines.append(f"- Dataset: `{runs[0].config().data.path}` (layout {info.layout or '?'}; splits "
                 + ", ".join(f"{k} {v:,}" for k, v in info.splits.items()) + ").")
    counts = info.train_class_counts
    if counts:
        lines.append("- Training faces per class: " + ", ".join(f"{n} {c:,}" for n, c in zip(names, counts)) + ".")
    notes = list(info.notes)
    lines += [f"- Note: {n}" for n in notes]
    _data_problems(runs[0], lines, with_report, notes)
    lines += ["", "## Recipe", ""]
    for r in runs:
        lines += _recipe(r)
    lines += ["", "## Results on the test split", ""]
    known = plain.y_true >= 0
    correct = int((plain.y_pred == plain.y_true)[known].sum())
    lines.append(f"- Accuracy: {_pct(accuracy_with_interval(correct, int(known.sum())))}.")
    if tta is not None:
        k2 = tta.y_true >= 0
        lines.append(f"- Accuracy with {tta.tta} TTA: "
                     f"{_pct(accuracy_with_interval(int((tta.y_pred == tta.y_true)[k2].sum()), int(k2.sum())))}.")
    s = summary(plain)
    lines.append(f"- Macro F1 {s['macro_f1']:.3f}, balanced accuracy {s['balanced_accuracy']:.2%}.")
    lines += ["", "| class | precision | recall | F1 | support |", "|---|---:|---:|---:|---:|"]
    lines += [f"| {m['name']} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | {m['support']:,} |"
              for m in s["per_class"]]
    image = out.with_name(f"{out.stem}_confusion.png")
    confusion_matrix_figure(s["confusion_matrix"], names, image, normalized=True,
                            title=f"{head.display_name}: test split (rows: true class, normalised)")
    lines += ["", f"![Confusion matrix (rows normalised)]({image.name})", ""]
    lines += _cross_dataset(head)
    lines += ["## Intended use and limits", "", _LIMITS]
    atomic_write_text(out, "\n".join(lines) + "\n")
    return out


def _cross_dataset(run) -> list[str]:
    """Rows for predictions stored on other datasets (`predictions/<split>@<name>-<key>.npz`)."""
    from ..scoring.predictions import load_stored

    rows = []
    for path in sorted(run.predictions_dir.glob("*@*.npz")) if run.predictions_dir.is_dir() else []:
        preds = load_stored(path)
        if preds is None:
            continue
        known = preds.y_true >= 0
        if not known.any():
            continue
        acc = accuracy_with_interval(int((preds.y_pred == preds.y_true)[known].sum()), int(known.sum()))
        where = preds.meta.get("data_path") or re.sub(r"-[0-9a-f]{10}$", "", path.stem.split("@", 1)[1])
        rows.append(f"| `{where}` | {preds.split}{' + ' + preds.tta + ' TTA' if preds.tta != 'none' else ''} | "
                    f"{_pct(acc)} |")
    if not rows:
        return ["## Other datasets", "", "- None evaluated (`fer-studio evaluate RUN --data OTHER`).", ""]
    return ["## Other datasets", "", "| dataset | split | accuracy |", "|---|---|---|", *rows, ""]
