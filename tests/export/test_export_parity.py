"""ONNX and TorchScript exports of runs and an ensemble reproduce the app's own predictions."""
from __future__ import annotations

import json

import numpy as np
import pytest

from export_runs import make_run
from fer_engine.eval.predictor import load_predictor
from fer_engine.export.build import PARITY_TOLERANCE, export_model
from fer_engine.export.formats import EXPORTS, ExportOptions
from fer_engine.export.metadata import config_hash
from fer_engine.export.source import open_model


def _parity(exported, reference, faces) -> float:
    ours, theirs = exported.predict_faces(faces), reference.predict_faces(faces)
    assert ours.shape == theirs.shape == (len(faces), 7)
    assert (ours.argmax(1) == theirs.argmax(1)).all()
    return float(np.abs(ours - theirs).max())


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
@pytest.mark.parametrize("backbone", ["fer_cnn_tiny", "resnet18_48"])
def test_run_export_matches_the_run(runs_root, tmp_path, demo_faces, backbone, fmt):
    run = make_run(runs_root, backbone, mean=(0.4,), std=(0.3,))
    out = tmp_path / f"model{EXPORTS.get(fmt).suffix}"
    faces = 256 if backbone == "fer_cnn_tiny" else 24  # a ResNet18 at 48x48 is slow on a shared CPU
    result = export_model(run, out, fmt, ExportOptions(dynamic_batch=backbone == "fer_cnn_tiny"), card=False,
                          check_faces=faces)
    assert result.checks[0].faces == faces
    assert result.checks[0].max_abs_diff <= PARITY_TOLERANCE and result.checks[0].label_agreement == 1.0
    assert _parity(open_model(out, "cpu"), load_predictor(run, "cpu"), demo_faces[:16]) <= PARITY_TOLERANCE
    assert [p.name for p in tmp_path.iterdir()] == [out.name] + (["model.json"] if fmt == "torchscript" else [])


def test_metadata_round_trip(tiny_run, tmp_path):
    from fer_engine.eval.store import load_stored
    from fer_engine.training.rundir import RunDir

    out = tmp_path / "tiny.onnx"
    export_model(tiny_run, out, "onnx", card=False)
    meta = EXPORTS.get("onnx").read_metadata(out)
    run = RunDir.open(tiny_run)
    pre = run.preprocess()
    assert meta.class_names == pre.class_names and (meta.image_size, meta.channels) == (48, 1)
    assert (meta.mean, meta.std, meta.input_size) == ([0.5], [0.25], 48)
    assert meta.face_margin == 0.1 and meta.kind == "run" and meta.dataset["path"] == "demo"
    assert meta.config_hash == config_hash(run.config_path.read_text())
    preds = load_stored(run.predictions_path("test", False))
    acc = meta.test_accuracy
    assert acc["accuracy"] == pytest.approx((preds.y_pred == preds.y_true).mean()) and acc["n"] == 350
    assert acc["low"] < acc["accuracy"] < acc["high"]
    assert meta.self_check["faces"] == 256 and meta.self_check["max_abs_diff"] <= PARITY_TOLERANCE
    import onnx

    props = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    assert props["class_names"] == ",".join(pre.class_names)
    assert json.loads(props["fer_studio"])["class_names"] == pre.class_names


def test_two_member_ensemble_with_different_preprocessing(runs_root, tmp_path, demo_faces):
    """A gray and an RGB member with their own mean/std: one graph, gray computed inside it."""
    from fer_engine.eval.ensemble import create_ensemble

    gray = make_run(runs_root, "fer_cnn_tiny", channels=1, seed=1, mean=(0.5,), std=(0.25,))
    rgb = make_run(runs_root, "fer_cnn_tiny", channels=3, seed=2, mean=(0.4, 0.5, 0.6), std=(0.2, 0.3, 0.25))
    ens = create_ensemble([gray, rgb], "soft", tmp_path / "ens").path
    for fmt in ("onnx", "torchscript"):
        out = tmp_path / f"ens{EXPORTS.get(fmt).suffix}"
        result = export_model(ens, out, fmt, ExportOptions(dynamic_batch=True), card=False)
        meta = result.metadata
        assert meta.kind == "ensemble" and meta.channels == 3 and [m.channels for m in meta.members] == [1, 3]
        assert _parity(open_model(out, "cpu"), load_predictor(ens, "cpu"), demo_faces) <= PARITY_TOLERANCE


def test_int8_and_half_report_their_change(tiny_run, tmp_path):
    q = export_model(tiny_run, tmp_path / "q.onnx", "onnx", ExportOptions(int8="static"), card=False)
    assert q.metadata.precision == "int8" and [c.precision for c in q.checks] == ["float32", "int8"]
    info = q.metadata.int8
    assert info["n"] == 350 and info["change"] == pytest.approx(info["accuracy_int8"] - info["accuracy_float32"])
    assert any("int8 (static) accuracy on the test split (350 faces)" in line for line in q.lines())
    import onnx

    ops = {n.op_type for n in onnx.load(str(tmp_path / "q.onnx")).graph.node}
    assert "QuantizeLinear" in ops and "DequantizeLinear" in ops
    h = export_model(tiny_run, tmp_path / "h.onnx", "onnx", ExportOptions(half=True), card=False)
    assert h.metadata.precision == "float16" and h.checks[1].label_agreement >= 0.9
    assert h.checks[1].max_abs_diff < 0.01


def test_unexportable_backbone_names_the_op_and_leaves_no_file(runs_root, tmp_path, monkeypatch):
    import dataclasses

    import torch

    from fer_engine.models.backbones import BACKBONES
    from fer_engine.models.fer_cnn import FerCNN

    class ErfinvCNN(FerCNN):
        def forward(self, x):
            return super().forward(torch.erfinv(x.clamp(-0.9, 0.9)))

    spec = dataclasses.replace(BACKBONES.get("fer_cnn_tiny"), name="erfinv_cnn",
                               build=lambda in_chans, size, weights, **kw: ErfinvCNN(
                                   in_chans=in_chans, channels=(8, 16, 16, 16), fc_dims=(32, 32)))
    monkeypatch.setitem(BACKBONES._entries, "erfinv_cnn", spec)
    run = make_run(runs_root, "erfinv_cnn")
    with pytest.raises(ValueError, match=r"backbone erfinv_cnn does not export to ONNX \(opset 17\): "
                                         r"operator aten::erfinv is not supported"):
        export_model(run, tmp_path / "bad.onnx", "onnx", card=False)
    assert list(tmp_path.iterdir()) == []


def test_bad_inputs_get_one_line_messages(tiny_run, tmp_path, capsys):
    from fer_engine.cli import main

    cases = [
        (["export", str(tiny_run), "--out", str(tmp_path / "m.onnx"), "--format", "torchscript"], "must end in .pt"),
        (["export", str(tiny_run), "--out", str(tmp_path / "m.pt"), "--format", "torchscript", "--int8"],
         "--int8 is not available for torchscript"),
        (["export", str(tmp_path / "nope"), "--out", str(tmp_path / "m.onnx")], "not a run or ensemble directory"),
        (["export", str(tiny_run), "--out", str(tmp_path / "no" / "m.onnx")], "output folder does not exist"),
    ]
    for argv, message in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, (argv, err)
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"not a model")
    with pytest.raises(ValueError, match="not a readable ONNX model"):
        open_model(garbage, "cpu")
    with pytest.raises(ValueError, match="not a run, an ensemble or an exported model"):
        open_model(tmp_path / "garbage.onnx.txt" if (tmp_path / "garbage.onnx.txt").write_text("x") else "", "cpu")
