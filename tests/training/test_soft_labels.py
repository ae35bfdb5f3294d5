"""Soft-label training: FERPlus vote distributions are the loss targets (with label smoothing and
mixup), evaluation is against the top vote, and the cross-entropy against the votes is reported."""
from __future__ import annotations

import csv
import math
import shutil

import numpy as np
import pytest
import torch

from fer_engine.data.label_maps import FERPLUS, FERPLUS_COLUMNS
from fer_engine.paths import shared_data_dir
from fer_engine.training.run import fit
from fer_engine.training.rundir import RunDir
from fer_engine.recipe import losses
from fer_engine.recipe.mixing import mix_batch, smooth_targets
from fer_engine.config import MixConfig

from training_helpers import tiny_config

_FER2013_TO_FERPLUS = {"angry": "anger", "disgust": "disgust", "fear": "fear", "happy": "happiness",
                       "sad": "sadness", "surprise": "surprise", "neutral": "neutral"}


@pytest.fixture(scope="module")
def ferplus_sample(tmp_path_factory):
    """fer2013_sample.csv as fer2013.csv with a fer2013new.csv of made-up votes: 6 for the FER2013
    label, 3 for a random other emotion, 1 unknown (discarded as noise)."""
    shared = shared_data_dir()
    sample = shared / "fer2013" / "fer2013_sample.csv" if shared else None
    if sample is None or not sample.is_file():
        pytest.skip("shared FER2013 sample CSV not available")
    from fer_engine.classes import FER2013_CLASSES

    root = tmp_path_factory.mktemp("ferplus")
    shutil.copyfile(sample, root / "fer2013.csv")
    rng = np.random.default_rng(0)
    with open(sample, newline="") as f, open(root / "fer2013new.csv", "w", newline="") as out:
        w = csv.writer(out)
        w.writerow(["Usage", "Image name", *FERPLUS_COLUMNS])
        for i, row in enumerate(csv.DictReader(f)):
            votes = [0] * 10
            votes[FERPLUS_COLUMNS.index(_FER2013_TO_FERPLUS[FER2013_CLASSES[int(row["emotion"])]])] = 6
            other = [c for c in range(7) if votes[c] == 0][rng.integers(6)]
            votes[other], votes[8] = 3, 1
            w.writerow([row["Usage"], f"fer{i:07d}.png", *votes])
    return root


def test_soft_targets_change_the_loss():
    logits = torch.tensor([[2.0, 0.5, -1.0], [0.0, 1.0, 0.0]])
    q = torch.tensor([[0.6, 0.4, 0.0], [0.0, 0.7, 0.3]])
    loss = losses.FerLoss(0.0, 0.0, None, None)
    expected = -(q * torch.log_softmax(logits, -1)).sum(-1).mean()
    assert float(loss(logits, q)) == pytest.approx(float(expected), rel=1e-5)
    assert float(loss(logits, q)) != pytest.approx(float(loss(logits, q.argmax(1))), rel=1e-3)
    s = smooth_targets(q, 0.3)
    assert torch.allclose(s, 0.7 * q + 0.1) and torch.allclose(s.sum(1), torch.ones(2))
    x = torch.rand(2, 1, 8, 8)
    pairs = torch.Generator().manual_seed(1)  # pairs row 0 with row 1 (seed 0 would pair each with itself)
    _, mixed = mix_batch(x, s, MixConfig(mixup_alpha=1.0), np.random.default_rng(1), generator=pairs)
    assert torch.allclose(mixed.sum(1), torch.ones(2)) and not torch.allclose(mixed, s)
    for row in mixed:  # each mixed target is a convex combination of the two smoothed vote rows
        lam = (row[0] - s[1, 0]) / (s[0, 0] - s[1, 0])
        assert 0 <= lam <= 1 and torch.allclose(row, lam * s[0] + (1 - lam) * s[1], atol=1e-5)


def test_ferplus_sample_trains_on_vote_distributions(ferplus_sample, runs_root, monkeypatch):
    seen: list[torch.Tensor] = []
    build = losses.build_loss

    def spying_build(cfg, counts):
        criterion = build(cfg, counts)
        forward = criterion.forward

        def spy(logits, target):
            seen.append(target.detach().clone())
            return forward(logits, target)
        criterion.forward = spy
        return criterion

    monkeypatch.setattr(losses, "build_loss", spying_build)
    cfg = tiny_config(ferplus_sample, **{"data.label_mode": "probability", "loss.label_smoothing": 0.1,
                                         "train.epochs": 1, "train.max_steps_per_epoch": 3,
                                         "train.batch_size": 16, "data.cache_dir": str(runs_root / "cache")})
    run = RunDir.create(runs_root, cfg)
    summary = fit(cfg, run, lambda e: None, lambda: False)
    assert summary["status"] == "finished", summary
    k = len(run.preprocess().class_names)
    assert len(seen) == 3 and all(t.shape == (16, k) and t.dtype == torch.float32 for t in seen)
    targets = torch.cat(seen)
    assert torch.allclose(targets.sum(1), torch.ones(len(targets)), atol=1e-5)
    # 6 and 3 votes (the unknown vote of 1 discarded), smoothed by 0.1: 0.9 * 6/9 + 0.1/k, 0.9 * 3/9 + 0.1/k
    top2 = targets.sort(1, descending=True).values[:, :2]
    assert torch.allclose(top2, torch.tensor([0.9 * 6 / 9 + 0.1 / k, 0.9 * 3 / 9 + 0.1 / k]).expand_as(top2), atol=1e-5)
    for key in ("test_acc", "test_vote_ce", "val_vote_ce"):
        value = summary[key] if key in summary else run.read_metrics()[-1][key]
        assert math.isfinite(value) and value > 0, key
    assert "FERPlus label contempt -> contempt" in FERPLUS.describe()
