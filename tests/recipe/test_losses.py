"""Losses equal their formulas on hand values: focal, label smoothing, class weights, soft targets."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from fer_engine.config import ConfigError, LossConfig
from fer_engine.recipe.losses import build_loss, class_weights, focal_loss


def softmax(v):
    e = [math.exp(a) for a in v]
    return [a / sum(e) for a in e]


def test_focal_loss_equals_the_formula_on_hand_values():
    logits = [2.0, 0.0, -1.0]
    p = softmax(logits)
    expected = -((1 - p[0]) ** 2) * math.log(p[0])
    got = focal_loss(torch.tensor([logits]), torch.tensor([0]), gamma=2.0)
    assert got.item() == pytest.approx(expected, rel=1e-6)
    alpha = torch.tensor([0.25, 1.0, 1.0])
    got = focal_loss(torch.tensor([logits]), torch.tensor([0]), gamma=2.0, alpha=alpha)
    assert got.item() == pytest.approx(0.25 * expected, rel=1e-6)


def test_focal_loss_at_gamma_zero_is_cross_entropy():
    g = torch.Generator().manual_seed(0)
    logits, y = torch.randn(32, 7, generator=g), torch.randint(0, 7, (32,), generator=g)
    loss = build_loss(LossConfig(name="focal", focal_gamma=0.0), np.ones(7))
    torch.testing.assert_close(loss(logits, y), F.cross_entropy(logits, y))
    hard = build_loss(LossConfig(name="focal", focal_gamma=2.0), np.ones(7))(logits, y)
    assert hard < F.cross_entropy(logits, y)  # easy examples are down-weighted


def test_label_smoothing_gives_the_expected_loss():
    logits = [1.0, 2.0, 3.0]
    p = softmax(logits)
    q = [0.1, 0.1, 0.8]  # smoothing 0.3 over 3 classes, true class 2
    expected = -sum(qi * math.log(pi) for qi, pi in zip(q, p))
    loss = build_loss(LossConfig(label_smoothing=0.3), np.ones(3))
    assert loss(torch.tensor([logits]), torch.tensor([2])).item() == pytest.approx(expected, rel=1e-6)
    logits_b, y = torch.randn(16, 7), torch.randint(0, 7, (16,))
    torch.testing.assert_close(build_loss(LossConfig(label_smoothing=0.1), np.ones(7))(logits_b, y),
                               F.cross_entropy(logits_b, y, label_smoothing=0.1))


def test_plain_cross_entropy_shortcut_equals_the_general_formula():
    g = torch.Generator().manual_seed(1)
    logits, y = torch.randn(32, 7, generator=g), torch.randint(0, 7, (32,), generator=g)
    soft = torch.softmax(torch.randn(32, 7, generator=g), -1)
    loss = build_loss(LossConfig(label_smoothing=0.2), np.ones(7))
    torch.testing.assert_close(loss(logits, y), focal_loss(logits, y, gamma=0.0, label_smoothing=0.2))
    torch.testing.assert_close(loss(logits, soft), focal_loss(logits, soft, gamma=0.0))
    with pytest.raises(ValueError, match="do not match"):
        loss(logits, soft[:, :5])


def test_soft_targets_are_used_as_given():
    logits = torch.tensor([[0.5, -0.5, 1.0]])
    q = torch.tensor([[0.6, 0.0, 0.4]])
    expected = -(q * F.log_softmax(logits, -1)).sum()
    loss = build_loss(LossConfig(label_smoothing=0.3), np.ones(3))  # no smoothing added to soft targets
    assert loss(logits, q).item() == pytest.approx(expected.item(), rel=1e-6)


def test_class_weights_follow_the_formulas():
    counts = [100, 10, 1]
    w = class_weights(counts, "inverse")
    raw = np.array([0.01, 0.1, 1.0])
    np.testing.assert_allclose(w.numpy(), raw / raw.mean(), rtol=1e-6)
    beta = 0.9
    eff = np.array([(1 - beta) / (1 - beta**n) for n in counts])
    np.testing.assert_allclose(class_weights(counts, "effective", beta).numpy(), eff / eff.mean(), rtol=1e-6)
    assert class_weights(counts, "none") is None
    assert torch.isfinite(class_weights([5, 0, 3], "inverse")).all()
    with pytest.raises(ConfigError, match="class_weights"):
        class_weights(counts, "sqrt")


def test_weighted_loss_scales_each_sample_by_its_class_weight():
    counts = np.array([30, 10, 60])
    loss = build_loss(LossConfig(class_weights="inverse"), counts)
    logits, y = torch.randn(9, 3), torch.tensor([0, 1, 2] * 3)
    w = class_weights(counts, "inverse")
    per = F.cross_entropy(logits, y, reduction="none")
    torch.testing.assert_close(loss(logits, y), (w[y] * per).mean())


def test_focal_alpha_must_match_the_classes():
    with pytest.raises(ConfigError, match="focal_alpha has 2 values but the dataset has 7"):
        build_loss(LossConfig(name="focal", focal_alpha=[1.0, 2.0]), np.ones(7))
    with pytest.raises(ConfigError, match="loss.name"):
        build_loss(LossConfig(name="hinge"), np.ones(7))
