"""`fer-studio list-backbones`: the table and --json agree with the registry."""
from __future__ import annotations

import json

from fer_engine.cli import main
from fer_engine.models import BACKBONES


def test_json_lists_every_backbone_with_metadata(capsys):
    assert main(["list-backbones", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in rows] == BACKBONES.names()
    by_name = {r["name"]: r for r in rows}
    assert by_name["fer_cnn"]["input_size"] == 48 and by_name["fer_cnn"]["family"] == "fer"
    assert by_name["resnet18"]["params_m"] == round(BACKBONES.get("resnet18").param_count(7, 3) / 1e6, 2)
    assert 10 < by_name["resnet18"]["params_m"] < 12  # ResNet18 is ~11.2M parameters
    assert by_name["swin_tiny_patch4_window7_224"]["cam_layer"] == "backbone.norm"


def test_table_has_a_row_per_backbone(capsys):
    assert main(["list-backbones", "--classes", "5", "--channels", "1"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].split()[:4] == ["name", "family", "input", "params"]
    assert [line.split()[0] for line in lines[1:]] == BACKBONES.names()


def test_bad_class_count_is_one_clear_error(capsys):
    assert main(["list-backbones", "--classes", "0"]) == 2
    assert "--classes must be at least 1" in capsys.readouterr().err
