"""The dataset report on the real FER2013 folders finds exactly what shared/data/README.md lists."""
from __future__ import annotations

import pytest

from fer_engine.data.report import dataset_report

CLASSES = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
README_COUNTS = {  # Usage -> per class, from shared/data/README.md
    "train": [3995, 436, 4097, 7215, 4830, 3171, 4965],  # Training
    "val": [467, 56, 496, 895, 653, 415, 607],  # PublicTest
    "test": [491, 55, 528, 879, 594, 416, 626],  # PrivateTest
}


@pytest.mark.realdata
@pytest.mark.slow
def test_fer2013_report_matches_the_readme(fer2013_dir):
    r = dataset_report(str(fer2013_dir))  # one report; about a minute on 2 cores without a cache
    assert r.layout == "kaggle_fer2013"
    assert r.class_names == CLASSES
    assert {s: [c[n] for n in CLASSES] for s, c in r.counts.items()} == README_COUNTS
    s = r.duplicate_summary()
    assert (s["groups"], s["files"]) == (1516, 3369)
    assert s["train_and_eval"] == 531  # groups spanning train/ and test/
    assert s["conflicting_labels"] == 57
    assert len(r.near_blank) == 13 and all(std < 1 for _, std in r.near_blank)
    assert r.unreadable == []
    assert r.sizes == {"48x48": 35887} and r.modes == {"L": 35887}
    assert any("PublicTest" in n for n in r.notes)
