"""Statistics of a study on synthetic predictions with known answers."""
from __future__ import annotations

import numpy as np
import pytest

from fer_engine.scoring import stats


def _base(n: int = 1000, right: int = 600) -> np.ndarray:
    c = np.zeros(n, bool)
    c[:right] = True
    return c


def _variant(base: np.ndarray, gain: int, lose: int) -> np.ndarray:
    v = base.copy()
    wrong = np.flatnonzero(~base)
    v[wrong[:gain]] = True
    v[np.flatnonzero(base)[:lose]] = False
    return v


def _verdicts(effects: list[stats.Effect], seeds: int = 2) -> list[str]:
    adjusted = stats.holm([e.p for e in effects])
    return [stats.verdict(e.effect, p, seeds) for e, p in zip(effects, adjusted)]


def test_identical_predictions_have_no_detectable_effect():
    b = np.stack([_base(), _base()])
    e = stats.paired_bootstrap(b, b.copy())
    assert e.effect == 0 and e.interval.contains(0) and e.p == 1.0
    assert _verdicts([e]) == [stats.NO_EFFECT]
    assert stats.mcnemar(b[0], b[0]) == 1.0


def test_right_on_five_percent_more_of_the_same_faces_helps():
    base = _base()
    better = _variant(base, gain=50, lose=0)
    e = stats.paired_bootstrap(np.stack([base, base]), np.stack([better, better]))
    assert e.effect == pytest.approx(0.05)
    assert e.interval.low > 0 and e.interval.contains(0.05)
    assert _verdicts([e]) == [stats.HELPS]
    worse = stats.paired_bootstrap(np.stack([better, better]), np.stack([base, base]))
    assert _verdicts([worse]) == [stats.HURTS] and worse.interval.high < 0
    assert stats.mcnemar(base, better) < 1e-10


def test_holm_turns_a_borderline_effect_into_no_detectable_effect():
    base = _base()
    b = np.stack([base, base])
    borderline = stats.paired_bootstrap(b, np.stack([_variant(base, 18, 7)] * 2))
    assert 0.025 < borderline.p < 0.05 and borderline.interval.low > 0
    assert _verdicts([borderline]) == [stats.HELPS]
    null = stats.paired_bootstrap(b, b.copy())
    assert _verdicts([borderline, null]) == [stats.NO_EFFECT, stats.NO_EFFECT]


def test_holm_matches_the_textbook_example():
    p = [0.01, 0.04, 0.03, 0.005]
    assert stats.holm(p) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert np.isnan(stats.holm([0.01, np.nan])[1]) and stats.holm([0.01, np.nan])[0] == 0.01


def test_seed_spread_widens_the_interval():
    """Two seeds that disagree by 4 points: the effect interval must be wider than with agreeing seeds."""
    base = _base()
    steady = stats.paired_bootstrap(np.stack([base, base]), np.stack([_variant(base, 30, 0)] * 2))
    spread = stats.paired_bootstrap(np.stack([base, base]),
                                    np.stack([_variant(base, 10, 0), _variant(base, 50, 0)]))
    assert steady.effect == pytest.approx(spread.effect)
    width = lambda e: e.interval.high - e.interval.low  # noqa: E731
    assert width(spread) > 1.5 * width(steady)


def test_one_seed_cannot_be_told_from_noise():
    base = _base()
    e = stats.paired_bootstrap(base[None], _variant(base, 50, 0)[None])
    assert stats.verdict(e.effect, e.p, seeds=1) == stats.ONE_SEED


def test_wilson_interval_of_fer2013_private_test():
    iv = stats.accuracy_interval(2300, 3589)  # 64.1% of PrivateTest: about +-1.6 points
    assert iv.low == pytest.approx(0.6250, abs=1e-4) and iv.high == pytest.approx(0.6564, abs=1e-4)
    assert stats.accuracy_interval(0, 10).low == 0 and stats.accuracy_interval(10, 10).high == 1
    with pytest.raises(ValueError, match="0 <= k <= n"):
        stats.accuracy_interval(11, 10)


def test_compare_two_runs_on_the_same_split():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 7, 500)
    a = np.where(rng.random(500) < 0.6, y, (y + 1) % 7)
    b = np.where(rng.random(500) < 0.2, y, a)  # b fixes a fifth of a's mistakes
    c = stats.compare(y, a, y, b)
    assert c.accuracy_b > c.accuracy_a and c.significant and c.difference_interval.low > 0
    assert not stats.compare(y, a, y, a).significant
    with pytest.raises(ValueError, match="same faces"):
        stats.compare(y, a, y[::-1], b)
