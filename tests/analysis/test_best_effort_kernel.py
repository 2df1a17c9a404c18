"""The compiled best-effort sweep (best_efforts._best_effort) against the two candidate families
written out with numpy's searchsorted: every window that starts where distance starts to grow and
every window that ends where a growing step lands, the first fastest kept."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from runhub.analysis.best_efforts import best_effort


def families(t: np.ndarray, d: np.ndarray, length: float, ceiling: float | None) -> tuple | None:
    if d[-1] - d[0] < length - 1e-9:
        return None
    step = np.diff(d) > 0
    floor = length / ceiling if ceiling else -np.inf
    best = None
    s = np.flatnonzero(step)
    k = np.searchsorted(d, d[s] + length, "left")
    s, k = s[k < len(d)], k[k < len(d)]
    if len(s):
        t_end = t[k - 1] + (d[s] + length - d[k - 1]) / (d[k] - d[k - 1]) * (t[k] - t[k - 1])
        dt = np.where(t_end - t[s] < floor, np.inf, t_end - t[s])
        i = int(dt.argmin())
        if np.isfinite(dt[i]):
            best = (float(dt[i]), float(t[s[i]]), float(t_end[i]))
    e = np.flatnonzero(step) + 1
    x = d[e] - length
    e, x = e[x >= d[0]], x[x >= d[0]]
    if len(e):
        k = np.clip(np.searchsorted(d, x, "right"), 1, len(d) - 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = np.where(d[k] > d[k - 1], (x - d[k - 1]) / (d[k] - d[k - 1]), 0.0)
        t_start = t[k - 1] + frac * (t[k] - t[k - 1])
        dt = np.where(t[e] - t_start < floor, np.inf, t[e] - t_start)
        i = int(dt.argmin())
        if np.isfinite(dt[i]) and (best is None or dt[i] < best[0]):
            best = (float(dt[i]), float(t_start[i]), float(t[e[i]]))
    return best


@settings(max_examples=300, deadline=None)
@given(st.integers(2, 500), st.integers(0, 2**32 - 1), st.sampled_from([10.0, 100.0, 400.0, 1000.0]),
       st.sampled_from([None, 3.0, 11.0]), st.booleans())
def test_best_effort_matches_both_families(n, seed, length, ceiling, whole):
    rng = np.random.default_rng(seed)
    t = np.cumsum(rng.choice([1.0, 1.0, 2.0, 0.5, 30.0], n))
    steps = rng.choice([0.0, 1.0, 3.0, 3.3, 8.0, 50.0], n - 1, p=[0.2, 0.2, 0.2, 0.2, 0.15, 0.05])
    d = np.concatenate(([0.0], np.cumsum(steps)))
    if whole:
        d = np.round(d)  # equal steps: ties between windows
    assert best_effort(t, d, length, ceiling) == families(t, d, length, ceiling)
