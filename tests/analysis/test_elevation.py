"""algorithms.md V16 (Runalyze ThresholdTest / Elevation CalculatorTest) and section 14."""

from __future__ import annotations

import numpy as np
import pytest

from runhub.analysis.elevation import elevation_stats, hysteresis_legs, threshold_points

PROFILE = np.array([0, 2, 4, 6, 5, 7, 4, 8, 10, 0], dtype=float)


def gain_loss(x, h):
    legs = hysteresis_legs(np.asarray(x, dtype=float), h)
    return sum(v for v in legs if v > 0), -sum(v for v in legs if v < 0)


@pytest.mark.parametrize(("eps", "kept"), [(0, [0, 3, 4, 5, 6, 8, 9]), (1, [0, 6, 4, 10, 0]), (2, [0, 6, 10, 0])])
def test_runalyze_threshold_strategy(eps, kept):
    idx = threshold_points(PROFILE, eps)
    if eps == 0:
        assert idx.tolist() == kept
    else:
        assert PROFILE[idx].tolist() == kept


def test_runalyze_threshold_2_gives_10_up_10_down():
    pts = PROFILE[threshold_points(PROFILE, 2)]
    d = np.diff(pts)
    assert (d[d > 0].sum(), -d[d < 0].sum()) == (10, 10)


def test_extrema_hysteresis_on_runalyze_profile():
    # algorithms.md 14.3 [measured]: extrema hysteresis h=3 -> 10/10 (matches Runalyze thr 2); h=2 -> 13/13
    assert gain_loss(PROFILE, 3) == (10, 10)
    assert gain_loss(PROFILE, 2) == (13, 13)


@pytest.mark.parametrize(
    ("x", "up", "down"),
    [
        ([0, 10, 17, 14, 20, 3, 11, 0], 31, 31),
        ([0, 10, 17, 20, 35], 35, 0),
        ([0, -10, -17, -20, -35], 0, 35),
    ],
)
def test_runalyze_unsmoothed_cases(x, up, down):
    assert gain_loss(x, 0) == (up, down)
    s = elevation_stats(np.asarray(x, dtype=float), smoothing=0, hysteresis=0)
    assert (s.gain, s.loss) == (up, down)


def test_gc_ramp_not_undercounted():
    # GoldenCheetah's jumping reference gives 8 m for a 0->10 m ramp at h=3 (14.1); extrema: 10
    assert gain_loss(np.arange(11.0), 3) == (10, 0)


def test_max_climb_and_descent():
    s = elevation_stats(np.array([0, 10, 17, 14, 20, 3, 11, 0.0]), smoothing=0, hysteresis=0)
    assert (s.max_climb, s.max_descent, s.net) == (17, 17, 0)
    # min 0 -> max after it 20; max 20 -> min after it 0
    assert (s.ascent, s.descent) == (20, 20)


def test_range_gain_loss_partitions_add_up():
    # no smoothing, h = 2: legs 0 -> 10 (+10), 10 -> 5 (-5), 5 -> 20 (+15), 20 -> 0 (-20);
    # the 1 m dip 8 -> 7 -> 9 is below the hysteresis and is not counted twice
    from runhub.analysis.elevation import range_gain_loss

    x = np.array([0, 5, 8, 7, 9, 10, 5, 12, 20, 10, 0], dtype=float)
    ev = elevation_stats(x, smoothing=0, hysteresis=2)
    assert (ev.gain, ev.loss) == (25, 25)
    g, loss = range_gain_loss(ev, np.array([0, 3, 6]), np.array([3, 6, 10]))
    # 0..3: 0 -> 8 (running max, the dip to 7 does not lower it); 3..6: 8 -> 10 then 10 -> 5;
    # 6..10: 5 -> 20 -> 0
    assert g.tolist() == [8, 2, 15]
    assert loss.tolist() == [0, 5, 20]
    assert g.sum() == ev.gain and loss.sum() == ev.loss
