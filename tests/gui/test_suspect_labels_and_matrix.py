"""Analysis tabs: "Suspect labels" (marks -> a new label-overrides version) and "Cross-dataset"
(runs x datasets, classes outside a model's set shown)."""
import json

import numpy as np

from fer_engine.config import RunConfig
from fer_engine.eval.cross_dataset import CrossDatasetMatrix as Matrix
from fer_engine.eval.cross_dataset import MatrixCell
from fer_engine.eval.label_issues import LabelIssue, LabelIssueReport
from fer_engine.training.rundir import RunDir
from fer_studio.widgets.cross_dataset_matrix import CrossDatasetMatrix
from fer_studio.widgets.suspect_labels import SuspectLabels


def _report(run_dir):
    issues = [LabelIssue(position=i, source=f"/data/train/happy/{i}.png", split="oof", given="happy",
                         suggested=s, score=0.05 * (i + 1), flagged=True)
              for i, s in enumerate(["sad", "angry", "neutral"])]
    return LabelIssueReport(run_dir=str(run_dir), split="oof", method="cleanlab", class_names=["angry", "happy"],
                            faces=40, issues=issues)


def test_marking_suspects_writes_a_new_overrides_version(qtbot, tmp_path):
    run = RunDir.create(tmp_path / "runs", RunConfig().replace(**{"data.path": "/data"}))
    w = SuspectLabels(tmp_path / "runs")
    qtbot.addWidget(w)
    w.set_run(str(run.path))
    assert not w.save_button.isEnabled()
    w.show_report(_report(run.path), np.zeros((3, 48, 48, 1), np.uint8))
    assert w.list.count() == 3 and w.list.item(0).text().startswith("happy \u2192 sad\n0.05")
    w.list.item(0).setSelected(True)
    w.mark_selected("relabel")
    w.list.clearSelection()
    w.list.item(2).setSelected(True)
    w.mark_selected("exclude")
    assert "exclude" in w.list.item(2).text() and "relabel sad" in w.list.item(0).text()
    path = w.save()
    assert path.name == "data-v1.json" and path.parent == tmp_path / "runs" / "label-overrides"
    doc = json.loads(path.read_text())
    assert doc["relabel"] == {"/data/train/happy/0.png": "sad"} and doc["exclude"] == ["/data/train/happy/2.png"]
    assert w.save().name == "data-v2.json"  # every save is a new version; v1 stays as it was
    assert json.loads(path.read_text()) == doc


def test_cross_dataset_tab_shows_cells_and_left_out_classes(qtbot):
    w = CrossDatasetMatrix()
    qtbot.addWidget(w)
    w.add_run("/runs/a")
    w.add_dataset("/data/affectnet")
    cells = [MatrixCell("/runs/a", "own", "all", 100, 0.61, 0.55),
             MatrixCell("/runs/a", "/data/affectnet", "all", 90, 0.42, 0.31, excluded=10,
                        excluded_classes=["contempt"])]
    w.show_matrix(Matrix(["/runs/a"], ["own", "/data/affectnet"], "all", cells))
    assert w.table.rowCount() == 1 and w.table.columnCount() == 2
    assert w.table.horizontalHeaderItem(1).text() == "affectnet"
    assert w.table.item(0, 0).text() == "0.610 / 0.550"
    assert w.table.item(0, 1).text() == "0.420 / 0.310\n10 left out: contempt"
    assert "classes outside the model's set" in w.table.item(0, 1).toolTip()
