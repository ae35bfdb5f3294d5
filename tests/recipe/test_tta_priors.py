"""TTA returns the mean (or majority) of its views; prior correction favours rare classes."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from fer_engine.recipe.priors import prior_correct
from fer_engine.recipe.tta import combine_views, tta_predict, tta_views


def test_flip_and_ten_crop_views():
    x = torch.rand(2, 1, 20, 20)
    assert torch.equal(tta_views(x, "none")[0], x)
    flip = tta_views(x, "flip")
    assert flip.shape == (2, 2, 1, 20, 20) and torch.equal(flip[1], x.flip(-1))
    ten = tta_views(x, "tencrop")
    assert ten.shape == (10, 2, 1, 20, 20)
    up = lambda c: F.interpolate(c, size=(20, 20), mode="bilinear", align_corners=False)  # noqa: E731
    torch.testing.assert_close(ten[0], up(x[..., :18, :18]))  # top-left corner at 90%
    torch.testing.assert_close(ten[3], up(x[..., 2:, 2:]))  # bottom-right
    torch.testing.assert_close(ten[4], up(x[..., 1:19, 1:19]))  # centre
    torch.testing.assert_close(ten[5:], ten[:5].flip(-1))  # and their mirrors
    torch.testing.assert_close(tta_views(x.contiguous(memory_format=torch.channels_last), "tencrop"), ten)
    with pytest.raises(ValueError, match="TTA mode"):
        tta_views(x, "fivecrop")


def test_ten_crop_soft_tta_is_the_mean_of_ten_views():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 5))
    x = torch.rand(3, 1, 8, 8)
    probs = tta_predict(model, x, "tencrop", "soft")
    expected = torch.stack([model(v).softmax(-1) for v in tta_views(x, "tencrop")]).mean(0)
    torch.testing.assert_close(probs, expected)
    assert not torch.allclose(probs, model(x).softmax(-1))  # the views really differ


def test_hard_vote_is_the_majority_and_ties_go_to_the_mean_probability():
    # 6 views weakly say class 0, 4 views strongly say class 2: soft picks 2, hard picks 0
    weak, strong = torch.tensor([0.5, 0.2, 0.3]), torch.tensor([0.0, 0.0, 1.0])
    view_probs = torch.stack([weak] * 6 + [strong] * 4).unsqueeze(1)
    assert combine_views(view_probs, "soft").argmax().item() == 2
    hard = combine_views(view_probs, "hard")
    assert hard.argmax().item() == 0 and hard.sum().item() == pytest.approx(1.0)
    tie = torch.stack([torch.tensor([0.6, 0.4])] * 1 + [torch.tensor([0.1, 0.9])]).unsqueeze(1)
    assert combine_views(tie, "hard").argmax().item() == 1  # 1-1 vote, higher mean probability


def test_tta_predict_hard_counts_votes_of_the_forward():
    calls = []

    def forward(v):  # the first flip view votes class 1, the mirror class 0
        calls.append(v)
        return torch.tensor([[0.0, 5.0]]) if len(calls) == 1 else torch.tensor([[1.0, 0.0]])

    probs = tta_predict(forward, torch.rand(1, 1, 4, 4), "flip", "hard")
    assert len(calls) == 2 and probs.argmax().item() == 1  # tie broken by the confident view


def test_prior_correction_is_the_formula_and_shifts_toward_rare_classes():
    counts = [900, 100]
    logits = np.array([[0.0, 0.0], [1.5, 0.0], [3.0, 0.0]])
    corrected = prior_correct(logits, counts)
    np.testing.assert_allclose(corrected, logits - np.log([0.9, 0.1]) + np.log([0.5, 0.5]))
    assert list(logits.argmax(1)) == [0, 0, 0] and list(corrected.argmax(1)) == [1, 1, 0]
    t = prior_correct(torch.tensor(logits, dtype=torch.float32), counts, tau=0.5)
    assert t.dtype == torch.float32
    np.testing.assert_allclose(t.numpy(), logits - 0.5 * np.log([0.9, 0.1]) + 0.5 * np.log(0.5), rtol=1e-6)
    same = prior_correct(logits, counts, target=[9, 1])  # target = train prior: nothing changes
    np.testing.assert_allclose(same, logits, atol=1e-12)
    with pytest.raises(ValueError, match="3 classes"):
        prior_correct(logits, [1, 2, 3])


@pytest.mark.parametrize("mode", ["none", "flip", "tencrop"])
def test_views_counts_what_tta_views_makes(mode):
    import torch

    from fer_engine.recipe.tta import VIEWS, tta_views

    assert tta_views(torch.zeros(2, 1, 48, 48), mode).shape[0] == VIEWS[mode]
