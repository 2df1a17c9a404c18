"""elevation_stats (one compiled call) and its hysteresis against the numpy and Python definitions it
replaced, bit for bit: gain, loss and the per-split and per-lap elevation read these numbers."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from runhub.analysis.elevation import (
    ElevationStats,
    cumulative_gain_loss,
    elevation_stats,
    hysteresis_extrema,
    smooth_time,
    turning_points,
)


def reference_extrema(x: np.ndarray, h: float) -> tuple[list[int], list[float]]:
    """Confirmed extrema and signed legs: a reversal must exceed h to confirm an extreme; the walk
    runs over the turning points only."""
    if len(x) < 2:
        return [0] if len(x) else [], []
    tp = turning_points(x)
    pts = x[tp].tolist()
    legs: list[float] = []
    ext = [int(tp[0])]
    anchor = cand = pts[0]
    ci = 0
    direction = 0
    for k, v in enumerate(pts[1:], 1):
        if direction == 0:
            if v - anchor > h:
                direction, cand, ci = 1, v, k
            elif anchor - v > h:
                direction, cand, ci = -1, v, k
        elif direction == 1:
            if v > cand:
                cand, ci = v, k
            elif cand - v > h:
                legs.append(cand - anchor)
                ext.append(int(tp[ci]))
                anchor, cand, ci, direction = cand, v, k, -1
        else:
            if v < cand:
                cand, ci = v, k
            elif v - cand > h:
                legs.append(cand - anchor)
                ext.append(int(tp[ci]))
                anchor, cand, ci, direction = cand, v, k, 1
    if direction != 0:
        legs.append(cand - anchor)
        ext.append(int(tp[ci]))
    return ext, legs


def reference_stats(
    alt: np.ndarray, t: np.ndarray, paused: np.ndarray | None, h: float, smoothing: float
) -> ElevationStats:
    """The numpy form: known samples, pause jumps removed, the timer axis, time smoothing, then the
    hysteresis legs."""
    ok = np.isfinite(alt)
    if not ok.any():
        return ElevationStats()
    stats = ElevationStats(min=float(alt[ok].min()), max=float(alt[ok].max()))
    idx = np.flatnonzero(ok)
    a = alt[idx]
    dt = np.diff(t)
    if paused is not None and len(paused):
        dt = np.where(paused, 0.0, dt)
        cp = np.concatenate(([0], np.cumsum(paused.astype(np.int64))))
        crosses = np.diff(cp[idx]) > 0
        jumps = np.where(crosses, np.diff(a), 0.0)
        a = a - np.concatenate(([0.0], np.cumsum(jumps)))
    stats.net = float(a[-1] - a[0])
    timer = np.concatenate(([0.0], np.cumsum(dt)))[idx]
    if smoothing > 0 and len(a) >= 3:
        keep = np.concatenate(([True], np.diff(timer) > 0))
        a = smooth_time(timer[keep], a[keep], smoothing)
        idx = idx[keep]
    stats.ascent = float((a - np.minimum.accumulate(a)).max())
    stats.descent = float((np.maximum.accumulate(a) - a).max())
    ext, legs = reference_extrema(a, h)
    stats.legs = legs
    stats.index = idx
    stats.cum_gain, stats.cum_loss = cumulative_gain_loss(a, ext, legs)
    ups = [v for v in legs if v > 0]
    downs = [-v for v in legs if v < 0]
    stats.gain = float(sum(ups))
    stats.loss = float(sum(downs))
    stats.max_climb = float(max(ups, default=0.0))
    stats.max_descent = float(max(downs, default=0.0))
    return stats


def _profile(rng: np.random.Generator, n: int) -> np.ndarray:
    """A climb-and-descend course with sensor noise, plateaus (repeated values) and steps."""
    course = 40.0 * np.sin(np.arange(n) / rng.uniform(20.0, 300.0)) + rng.uniform(0.0, 500.0)
    noise = rng.choice([0.0, 0.2, 1.0, 3.0]) * rng.standard_normal(n)
    return np.round(course + noise, int(rng.integers(0, 3)))


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 1500), st.integers(0, 2**32 - 1), st.sampled_from([0.0, 1.0, 5.0]))
def test_hysteresis_matches_the_python_walk(n, seed, h):
    x = _profile(np.random.default_rng(seed), n)
    ext, legs = hysteresis_extrema(x, h)
    want_ext, want_legs = reference_extrema(x, h)
    assert ext == want_ext
    assert np.array(legs).tobytes() == np.array(want_legs).tobytes()


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 1500),
    st.integers(0, 2**32 - 1),
    st.sampled_from([0.0, 2.0, 5.0]),
    st.sampled_from([0.0, 10.0, 30.0]),
    st.booleans(),
    st.floats(0.0, 0.3),
)
def test_elevation_stats_match_the_numpy_form(n, seed, h, smoothing, with_pauses, nan_share):
    rng = np.random.default_rng(seed)
    alt = _profile(rng, n)
    alt[rng.random(n) < nan_share] = np.nan
    t = np.concatenate(([0.0], np.cumsum(rng.choice([1.0, 1.0, 2.0, 0.5, 9.0], n - 1))))
    paused = (rng.random(n - 1) < 0.03) if with_pauses else None
    got = elevation_stats(alt, t, paused, hysteresis=h, smoothing=smoothing)
    want = reference_stats(alt, t, paused, h, smoothing)
    for name in ("gain", "loss", "min", "max", "max_climb", "max_descent", "ascent", "descent", "net"):
        assert getattr(got, name) == getattr(want, name), name
    assert np.array(got.legs).tobytes() == np.array(want.legs).tobytes()
    for name in ("index", "cum_gain", "cum_loss"):
        g, w = getattr(got, name), getattr(want, name)
        assert (g is None) == (w is None), name
        if g is not None:
            assert np.asarray(g).tobytes() == np.asarray(w).tobytes(), name
