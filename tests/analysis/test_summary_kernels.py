"""The compiled channel stats, sums and histograms against the numpy definitions they replace,
bit for bit: stored summaries and products must not change with the implementation."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from runhub.analysis.summary import _channel_stats, _pairwise_sum
from runhub.analysis.zones import histogram, speed_histogram

# lengths around numpy's pairwise blocks: 8 accumulators, 128-value leaves, halves split at x8
LENGTHS = [0, 1, 7, 8, 9, 15, 16, 127, 128, 129, 136, 255, 256, 257, 1000, 1031, 4097, 10_007]


def _values(rng: np.random.Generator, n: int) -> np.ndarray:
    """Magnitudes from 1e-3 to 1e6 and both signs, so that a different order of addition shows."""
    return rng.standard_normal(n) * 10.0 ** rng.integers(-3, 7, n)


def test_pairwise_sum_has_the_bits_of_numpy_sum():
    rng = np.random.default_rng(7)
    for n in LENGTHS:
        a = _values(rng, n + 40)
        for lo in (0, 3, 40):
            part = a[lo : lo + n]
            assert _pairwise_sum(a, lo, len(part)) == part.sum(), (n, lo)
    # and the order matters on these values: a plain left-to-right sum differs somewhere
    a = _values(rng, 10_007)
    assert any(float(np.cumsum(a[:n])[-1]) != a[:n].sum() for n in LENGTHS if n > 128)


Stats = tuple[float | None, float | None, float | None]


def _reference_stats(x: np.ndarray, weights: np.ndarray, drop_zero: bool) -> Stats:
    """summary._stats before it was compiled: TimeBase.weighted, then weighted_mean, and the min and
    max of the known samples."""
    v = x[1:]
    ok = np.isfinite(v) & (weights > 0)
    v, w = v[ok], weights[ok]
    if drop_zero:
        keep = v > 0
        v, w = v[keep], w[keep]
    known = x[np.isfinite(x)]
    if drop_zero:
        known = known[known > 0]
    if len(known) == 0:
        return None, None, None
    tot = float(w.sum())
    lo, hi = float(known.min()), float(known.max())
    mean = None if tot <= 0 else min(max(float((v * w).sum() / tot), lo), hi)  # held within the values
    return mean, lo, hi


@settings(max_examples=150, deadline=None)
@given(
    st.integers(1, 3000),
    st.integers(0, 2**32 - 1),
    st.floats(0.0, 0.5),
    st.floats(0.0, 0.3),
    st.booleans(),
)
def test_channel_stats_match_the_numpy_form(n, seed, nan_share, zero_share, drop_zero):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 400.0, n)
    x[rng.random(n) < nan_share] = np.nan
    x[rng.random(n) < zero_share] = 0.0
    weights = rng.choice([0.0, 0.5, 1.0, 1.0, 1.0, 2.0, 15.0], size=n - 1)
    known, mean, lo, hi = _channel_stats(x, weights, drop_zero)
    ref_mean, ref_lo, ref_hi = _reference_stats(x, weights, drop_zero)
    if ref_lo is None:
        assert known == 0
        return
    assert (lo, hi) == (ref_lo, ref_hi)
    assert (mean if known == 2 else None) == ref_mean


def test_a_mean_lies_within_its_values():
    # each v * w rounds: (260 * 2.27 + 260 * 4.66) / (2.27 + 4.66) is 260.00000000000006 in float64
    assert (260.0 * 2.27 + 260.0 * 4.66) / (2.27 + 4.66) > 260.0
    assert _channel_stats(np.full(3, 260.0), np.array([2.27, 4.66]), False)[1] == 260.0


def test_a_run_at_a_channels_bound_throughout_is_imported():
    # 260 bpm is heart rate's upper bound (activity.CHANNEL_BOUNDS): a run held there, sampled at 0,
    # 2.27 and 6.93 s, was refused for an average heart rate of 260.00000000000006
    from runhub.activity import CHANNEL_BOUNDS
    from runhub.ingest import Analysed, analyse_upload

    assert CHANNEL_BOUNDS["heart_rate"][1] == 260
    csv = (b"timestamp,heart_rate\n2024-05-01T07:00:00+00:00,260\n2024-05-01T07:00:02.27+00:00,260\n"
           b"2024-05-01T07:00:06.93+00:00,260\n")
    (result,) = analyse_upload(csv, filename="bound.csv", sport="running")
    assert isinstance(result, Analysed), result.error  # not a failed result
    assert result.activity.summary.heart_rate_average == 260.0


def _reference_histogram(values: np.ndarray, weights: np.ndarray, width: float, max_bins: int = 20000) -> np.ndarray:
    """zones.histogram before it was compiled."""
    ok = np.isfinite(values) & (weights > 0) & (values >= 0)
    if not ok.any():
        return np.zeros(0)
    k = np.minimum(np.floor(values[ok] / width + 1e-9).astype(np.int64), max_bins - 1)
    h = np.bincount(k, weights=weights[ok])
    nz = np.flatnonzero(h)
    return h[: nz[-1] + 1] if len(nz) else np.zeros(0)


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 3000), st.integers(0, 2**32 - 1), st.sampled_from([1.0, 0.01, 5.0]))
def test_histograms_match_the_numpy_form(n, seed, width):
    rng = np.random.default_rng(seed)
    values = rng.uniform(-5.0, 260.0, n) * (0.05 if width == 0.01 else 1.0)
    values[rng.random(n) < 0.1] = np.nan
    values[rng.random(n) < 0.01] = 1e9  # beyond the last bin: counted in it
    weights = rng.choice([0.0, 1.0, 1.0, 0.25, 3.0], size=n)
    got = histogram(values, weights, width)
    want = _reference_histogram(values, weights, width)
    assert got.tobytes() == want.tobytes()
    # speeds from a distance stream: intervals of no time carry no speed
    dist = np.concatenate(([0.0], np.cumsum(rng.uniform(0.0, 6.0, n))))
    dt = rng.choice([0.0, 1.0, 1.0, 2.0], size=n)
    with np.errstate(divide="ignore", invalid="ignore"):
        speeds = np.where(dt != 0, np.diff(dist) / np.where(dt != 0, dt, 1.0), np.nan)
    assert speed_histogram(dist, dt, weights, 0.01).tobytes() == _reference_histogram(speeds, weights, 0.01).tobytes()
