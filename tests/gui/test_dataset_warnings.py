"""Data warnings are actionable: each identical-image group lists its files relative to the dataset,
with thumbnails once opened, and the tree says how to drop them from training."""
from __future__ import annotations

import numpy as np
from PIL import Image

from fer_engine.data.report import Finding
from fer_studio.report_view import _warning_rows
from fer_studio.widgets.dataset_warnings import DROP_HINT, DatasetWarnings, count_text


def test_groups_list_their_files_relative_to_the_dataset_with_thumbnails(qtbot, tmp_path):
    root = tmp_path / "faces"
    for rel in ("train/happy/a.png", "test/happy/b.png", "train/sad/blank.png"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.random.default_rng(0).integers(0, 255, (48, 48), dtype=np.uint8)).save(root / rel)
    findings = {"duplicates_across_splits": [Finding([str(root / "train/happy/a.png"), str(root / "test/happy/b.png")],
                                                     "train:happy, test:happy")],
                "near_blank": [Finding([str(root / "train/sad/blank.png")])]}
    warnings = _warning_rows(findings, str(root))
    tree = DatasetWarnings()
    qtbot.addWidget(tree)
    tree.set_warnings(warnings)
    assert tree.kinds() == {"Identical images in more than one split (leakage) (1 group)": 1,
                            "Near-blank images (1 file)": 1}
    leak = tree.topLevelItem(0)
    group = leak.child(0)
    assert group.text(0) == "train/happy/a.png, test/happy/b.png"
    assert [group.child(i).text(0) for i in range(group.childCount())] == ["train/happy/a.png", "test/happy/b.png"]
    assert group.child(0).icon(0).isNull()  # nothing decoded before the group is opened
    tree.expandItem(leak)
    tree.expandItem(group)
    assert all(not group.child(i).icon(0).isNull() for i in range(group.childCount()))
    blank = tree.topLevelItem(1)
    tree.expandItem(blank)
    assert blank.child(0).text(0) == "train/sad/blank.png" and not blank.child(0).icon(0).isNull()
    assert tree.topLevelItem(tree.topLevelItemCount() - 1).text(0) == DROP_HINT
    assert count_text(warnings)[0] == "Warnings (2 problems)"
