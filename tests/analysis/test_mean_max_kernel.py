"""The compiled mean-max search (mean_max._best_windows, _exact_windows) returns exactly what the
plain definitions return: every window evaluated, the first maximum kept. The references here are
those definitions written out in numpy, independent of the kernels' pruning."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runhub import formats
from runhub.analysis import mean_max as M
from runhub.analysis.geo import distance_stream
from runhub.analysis.timebase import time_base

CORPUS = Path(os.environ.get("RUNHUB_CORPUS") or Path(__file__).resolve().parents[3] / "shared" / "corpus")


def full_scan(g: np.ndarray, durations: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every window g[i + d] - g[i]; the largest and the first index holding it."""
    best = np.empty(len(durations))
    at = np.empty(len(durations), dtype=np.int64)
    for k, d in enumerate(durations):
        w = g[d:] - g[: len(g) - d]
        at[k] = int(np.argmax(w))
        best[k] = w[at[k]]
    return best, at


def every_candidate(tau: np.ndarray, e: np.ndarray, d: float) -> tuple[float, float]:
    """Both breakpoint families a = tau_i, tau_i - d (clipped to the axis), numpy.interp, the first
    maximum of the concatenated families."""
    t0, t1 = tau[0], tau[-1]
    a = np.concatenate((tau, tau - d))
    a = a[(a >= t0 - 1e-12) & (a <= t1 - d + 1e-12)]
    a = np.clip(a, t0, t1 - d)
    f = np.interp(a + d, tau, e) - np.interp(a, tau, e)
    i = int(f.argmax())
    return float(f[i] / d), float(a[i])


series = st.integers(2, 900).flatmap(
    lambda n: st.tuples(
        st.sampled_from(["ties", "float", "signed", "smooth"]),
        st.lists(st.integers(0, 2**31), min_size=n, max_size=n),
    )
)


def make_series(kind: str, seeds: list[int]) -> np.ndarray:
    rng = np.random.default_rng(seeds[0])
    n = len(seeds)
    if kind == "ties":  # small integers: many equal windows, the first must win
        x = rng.integers(0, 3, n).astype(float)
    elif kind == "float":  # power-like, with zeros
        x = np.where(rng.random(n) < 0.2, 0.0, rng.gamma(2.0, 120.0, n))
    elif kind == "signed":  # not monotone: the bounds must hold for any series
        x = rng.normal(0.0, 50.0, n)
    else:  # heart-rate-like: slow drift, integer steps
        x = np.round(140 + np.cumsum(rng.normal(0, 0.7, n)))
    return np.concatenate(([0.0], np.cumsum(x)))[:n]


@settings(max_examples=150, deadline=None)
@given(series, st.data())
def test_best_windows_equals_the_full_scan(case, data):
    kind, seeds = case
    g = make_series(kind, seeds)
    n = len(g)
    durs = np.array(sorted(data.draw(st.sets(st.integers(1, n - 1), min_size=1, max_size=40))), dtype=np.int64)
    if data.draw(st.booleans()):
        durs = durs[::-1].copy()  # any order (the previous duration only seeds the search)
    best, at = M._best_windows(g, durs)
    ref_best, ref_at = full_scan(g, durs)
    assert np.array_equal(best, ref_best)
    assert np.array_equal(at, ref_at)


def test_best_windows_on_the_whole_grid_with_plateaus():
    # a long constant stretch: every window inside it ties; the earliest start must be returned
    x = np.concatenate((np.full(500, 200.0), np.linspace(0, 400, 1500), np.full(2000, 250.0)))
    g = np.concatenate(([0.0], np.cumsum(x)))
    durs = M.grid_for(len(g) - 1)
    durs = durs[durs <= len(g) - 1]
    best, at = M._best_windows(g, durs)
    ref_best, ref_at = full_scan(g, durs)
    assert np.array_equal(best, ref_best)
    assert np.array_equal(at, ref_at)


@settings(max_examples=80, deadline=None)
@given(st.integers(2, 300), st.integers(0, 2**31), st.data())
def test_exact_windows_equals_every_candidate(n, seed, data):
    rng = np.random.default_rng(seed)
    tau = np.cumsum(rng.choice([0.25, 0.5, 1.0, 1.3, 3.0, 7.5], n))
    tau -= tau[0]
    e = np.concatenate(([0.0], np.cumsum(rng.gamma(2.0, 100.0, n - 1) * np.diff(tau))))
    length = tau[-1]
    durs = np.array(data.draw(st.lists(st.floats(0.1, max(length, 0.1)), min_size=1, max_size=10)))
    durs = durs[durs <= length]
    if not len(durs):
        return
    vals, starts = M._exact_windows(tau, e, durs)
    for k, d in enumerate(durs):
        assert (vals[k], starts[k]) == every_candidate(tau, e, float(d))


CORPUS_FILES = ["fitparse_2019-02-17-062644-ELEMNT-297E-195-0.fit", "fitparse_nick.fit", "sweatpy_4078723797.fit"]


@pytest.mark.parametrize("name", CORPUS_FILES)
def test_best_windows_on_real_rides(name):
    path = CORPUS / "fit" / name
    if not path.exists():
        pytest.skip(f"{path} is not here (set RUNHUB_CORPUS)")
    (a, *_) = formats.decode(path.read_bytes(), filename=name)
    tb = time_base(a)
    checked = 0
    for metric in ("power", "heart_rate", "speed", "cadence"):
        x = distance_stream(a, tb) if metric == "speed" else a.channels.get(metric)
        if x is None:
            continue
        tau, e = M.axis_for(tb, metric, x)
        keep = np.concatenate((tau[1:] > tau[:-1], [True]))
        grid = np.arange(round(tau[0]), round(tau[-1]) + 1, dtype=float)
        g = np.interp(grid, tau[keep], e[keep])
        durs = M.grid_for(tau[-1] - tau[0])
        durs = durs[durs <= len(g) - 1]
        best, at = M._best_windows(g, durs)
        ref_best, ref_at = full_scan(g, durs)
        assert np.array_equal(best, ref_best), metric
        assert np.array_equal(at, ref_at), metric
        checked += 1
    assert checked >= 2


def test_a_sparse_axis_is_searched_at_its_own_instants_not_on_the_unit_grid():
    # found by fuzzing: 86,400 samples 50 s apart over 50 days (a grid of 4.3 million seconds) took
    # 15 s a curve on the grid; past 16 seconds a sample (and a day) the exact search runs,
    # whose cost follows the samples. 1,000 samples 50 s apart (14 hours) still fit the grid.
    for n, step, grid in ((86_400, 50.0, False), (1_000, 50.0, True), (86_400, 16.0, True), (86_400, 18.0, False)):
        tau = np.arange(n) * step
        g, _ = M._unit_grid(tau, tau * 3.0)
        assert (len(g) > 0) == grid, (n, step)
        if grid:  # E sampled at every whole second: linear between samples
            assert len(g) == (n - 1) * step + 1 and g[1] == 3.0


def reference_window_max(tau: np.ndarray, e: np.ndarray, durs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """window_max as numpy glue around the two searches (before it was one compiled call): the last
    of equal instants kept, whole durations on the unit grid, the others exactly."""
    vals = np.full(len(durs), np.nan)
    starts = np.full(len(durs), np.nan)
    if len(tau) < 2:
        return vals, starts
    length = tau[-1] - tau[0]
    rising = tau[1:] > tau[:-1]
    if not rising.all():
        keep = np.append(rising, True)
        tau, e = tau[keep], e[keep]
    g, g0 = M._unit_grid(tau, e)
    if len(g):
        n = len(g)
        whole = (durs == np.floor(durs)) & (durs >= 1) & (durs <= n - 1)
        other = np.flatnonzero(~whole & (durs > 0) & (durs <= length))
        if len(other):
            vals[other], starts[other] = M._exact_windows(tau, e, durs[other])
        ks = np.flatnonzero(whole)
        if len(ks):
            best, at = M._best_windows(g, durs[ks].astype(np.int64))
            vals[ks] = best / durs[ks]
            starts[ks] = g0 + at
        return vals, starts
    ks = np.flatnonzero((durs > 0) & (durs <= length))
    if len(ks):
        vals[ks], starts[ks] = M._exact_windows(tau, e, durs[ks])
    return vals, starts


def reference_mean_max(tb, metric: str, x: np.ndarray, durations) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """mean_max as numpy glue: the axis, the grid up to its length, window_max, starts to clock."""
    tau, e = M.axis_for(tb, metric, x)
    durs = M.grid_for(tau[-1] - tau[0]) if durations is None else np.array(list(durations), dtype=float)
    vals, starts = reference_window_max(tau, e, durs)
    keep = np.concatenate((tau[1:] > tau[:-1], [True]))
    td, tt = tau[keep], tb.t[keep]
    clock = np.where(np.isfinite(starts), np.interp(np.nan_to_num(starts), td, tt), np.nan) - tb.t[0]
    return np.asarray(durs, dtype=float), vals, clock


@settings(max_examples=150, deadline=None)
@given(
    st.integers(2, 1200),
    st.integers(0, 2**31),
    st.sampled_from(["power", "heart_rate", "speed", "cadence"]),
    st.sampled_from(["grid", "whole", "fractional"]),
    st.booleans(),
)
def test_mean_max_equals_its_numpy_glue(n, seed, metric, durations, irregular):
    from datetime import UTC, datetime

    from runhub.activity import Activity

    rng = np.random.default_rng(seed)
    steps = rng.choice([1.0, 1.0, 2.0, 0.5, 4.0, 30.0], n - 1) if irregular else np.ones(n - 1)
    t = np.concatenate(([0.0], np.cumsum(steps)))
    ch = {"time": t, "distance": np.concatenate(([0.0], np.cumsum(rng.choice([0.0, 2.0, 3.1, 4.5], n - 1))))}
    x = rng.gamma(2.0, 120.0, n).round() if metric != "heart_rate" else np.round(140 + np.cumsum(rng.normal(0, 1, n)))
    x[rng.random(n) < 0.05] = np.nan
    ch[metric if metric != "speed" else "power"] = x
    a = Activity(start=datetime(2024, 5, 1, 8, tzinfo=UTC), channels=ch)
    if n > 4 and rng.random() < 0.5:
        a.pauses = sorted({int(i) for i in rng.integers(1, n, size=2)})
    tb = time_base(a)
    series = distance_stream(a, tb) if metric == "speed" else ch[metric]
    durs = None
    if durations == "whole":
        durs = sorted({int(d) for d in rng.integers(1, max(2, int(t[-1]) + 5), 12)})
    elif durations == "fractional":
        durs = sorted(set(np.round(rng.uniform(0.2, t[-1] + 3.0, 8), 2).tolist()))
    got = M.mean_max(tb, metric, series, durs)
    want = reference_mean_max(tb, metric, series, durs)
    for k in range(3):
        assert got[k].tobytes() == want[k].tobytes(), ("durations", "values", "starts")[k]


def test_a_window_of_a_whole_range_whose_end_minus_width_rounds_below_its_start() -> None:
    """Found by fuzzing: a range [t0, t1] with w = t1 - t0, where t1 - w rounds just below t0
    (0.001 on the clock 0.5, 0.501: t0 = 0.0010000000000000009 on the timer axis of the laps below),
    sent the search left of its range onto a paused (zero-length) interval: a ZeroDivisionError out
    of the upload. Lap 1 runs 1 ms over 3 m (distances in km): its best rate is 3 m / 1 ms."""
    from runhub import ingest

    upload = (b'{"startDateTimeLocal": "2020-05-25T01:26:14Z", "activityType": "running", '
              b'"recordingKeys": ["clock", "distance"], "recordingValues": [[0.5, 0.501, 1.5015, 3.8471789, 4.847179], '
              b'[0.0, 0.003, 0.0061234, 0.0061235, 0.006124]], "pauseIndexes": [2, 3], '
              b'"laps": [{"endDuration": 0}, {"endDuration": 4.27461017044315}]}')
    (step,) = ingest.analyse_upload(upload, filename="r.json")
    assert isinstance(step, ingest.Analysed)
    assert step.products["laps"][0]["max_speed"] == pytest.approx(3.0 / 0.001)
