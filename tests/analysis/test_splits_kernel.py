"""Splits and laps (compiled rows) against the numpy definitions they replaced, field by field and
bit for bit: stored split and lap products, and every dialect that serves them, read these."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from runhub.activity import Activity, Lap
from runhub.analysis.elevation import elevation_stats, range_gain_loss
from runhub.analysis.geo import distance_stream
from runhub.analysis.splits import KM, MILE, Cumulative, _range_max, crossing_times, lap_bounds, laps, split_lists
from runhub.analysis.summary import max_speeds
from runhub.analysis.timebase import TimeBase, time_base


def ref_cumulative(a: Activity, tb: TimeBase) -> Cumulative:
    """Cumulative.build in numpy (the running integrals; reading them, `at` and `mean`, is
    unchanged numpy in Cumulative itself)."""
    zero = np.zeros(1)
    moving = np.concatenate((zero, np.cumsum(np.where(tb.moving, tb.dt, 0.0))))
    sums = {}
    for name in ("heart_rate", "cadence", "power"):
        x = a.channels.get(name)
        if x is None:
            continue
        v = x[1:]
        ok = np.isfinite(v) & (tb.weights > 0)
        if name == "cadence":
            ok &= v > 0
        w = np.where(ok, tb.weights, 0.0)
        sums[name] = (
            np.concatenate((zero, np.cumsum(np.where(ok, v, 0.0) * w))),
            np.concatenate((zero, np.cumsum(w))),
        )
    return Cumulative(tb.t, moving, None, sums)


def _nums(x: np.ndarray) -> list[float | None]:
    return [v if math.isfinite(v) else None for v in x.tolist()]


def ref_splits(a: Activity, tb: TimeBase, dist: np.ndarray, length: float, elev: Any) -> list[dict[str, Any]]:
    cum = ref_cumulative(a, tb)
    t = tb.t
    d = dist - dist[0]
    total = float(d[-1])
    if total <= 0:
        return []
    full = int(np.floor(total / length + 1e-9))
    marks = np.arange(1, full + 1) * length
    bounds = np.concatenate(([t[0]], crossing_times(t, d, marks)))
    dists = [length] * full
    if total - full * length > 1e-6:
        bounds = np.append(bounds, t[-1])
        dists.append(total - full * length)
    t0, t1 = bounds[:-1], bounds[1:]
    mov = cum.at(cum.moving, t1) - cum.at(cum.moving, t0)
    hr = cum.mean("heart_rate", t0, t1)
    alt_ch = a.channels.get("altitude")
    alt = None
    if alt_ch is not None and np.isfinite(alt_ch).sum() >= 1:
        ok = np.isfinite(alt_ch)
        alt = np.interp(bounds, t[ok], alt_ch[ok])
    i0s = np.searchsorted(t, t0, "right") - 1
    i1s = np.minimum(np.searchsorted(t, t1, "left"), len(t) - 1)
    if elev is not None and elev.index is not None and len(elev.index):
        gain, loss = (_nums(v) for v in range_gain_loss(elev, i0s, i1s))
    else:
        gain = loss = [None] * len(dists)
    diff = [None] * len(dists) if alt is None else np.diff(alt).tolist()
    out = []
    for k in range(len(dists)):
        elapsed = float(t1[k] - t0[k])
        moving = float(mov[k])
        speed = dists[k] / moving if moving > 0 else (dists[k] / elapsed if elapsed > 0 else 0.0)
        out.append({
            "split": k + 1, "distance": float(dists[k]), "elapsed_time": elapsed, "moving_time": moving,
            "elevation_difference": diff[k], "elevation_gain": gain[k], "elevation_loss": loss[k],
            "average_speed": speed, "average_heartrate": hr[k], "pace_zone": 0,
            "start_time": float(t0[k] - t[0]), "start_index": int(i0s[k]), "end_index": int(i1s[k]),
        })
    return out


def ref_laps(a: Activity, tb: TimeBase, dist: np.ndarray | None, elev: Any) -> list[dict[str, Any]]:
    cum = ref_cumulative(a, tb)
    t = tb.t
    rng = lap_bounds(a, tb, dist)
    t0 = np.array([r[0] for r in rng])
    t1 = np.array([r[1] for r in rng])
    mov = cum.at(cum.moving, t1) - cum.at(cum.moving, t0)
    dd = (cum.at(dist, t1) - cum.at(dist, t0)) if dist is not None else np.full(len(rng), np.nan)
    means = {k: cum.mean(k, t0, t1) for k in ("heart_rate", "cadence", "power")}
    alt = a.channels.get("altitude")
    hr = a.channels.get("heart_rate")
    i0s = np.searchsorted(t, t0, "left")
    i1s = np.minimum(np.searchsorted(t, t1, "left"), len(t) - 1)
    if elev is not None and elev.index is not None and len(elev.index):
        gains = _nums(range_gain_loss(elev, i0s, i1s)[0])
    else:
        gains = []
        for i0, i1 in zip(i0s.tolist(), i1s.tolist(), strict=True):
            seg = None if alt is None else alt[i0 : i1 + 1]
            ok = seg is not None and np.isfinite(seg).any()
            gains.append(elevation_stats(seg, t[i0 : i1 + 1], tb.paused[i0:i1]).gain if ok else None)
    speeds = max_speeds(tb, dist, i0s, i1s) if dist is not None else [None] * len(rng)
    max_hrs = _range_max(hr, i0s, i1s).tolist() if hr is not None else [np.nan] * len(rng)
    out = []
    for k in range(len(rng)):
        i0, i1 = int(i0s[k]), int(i1s[k])
        distance = None if dist is None else float(dd[k])
        lap = a.laps[k] if k < len(a.laps) else None
        out.append({
            "lap_index": k + 1, "split": k + 1, "start_time": float(t0[k] - t[0]),
            "elapsed_time": float(t1[k] - t0[k]), "moving_time": float(mov[k]), "distance": distance,
            "start_index": i0, "end_index": i1, "total_elevation_gain": gains[k],
            "average_speed": (distance / float(mov[k])) if distance is not None and mov[k] > 0 else None,
            "max_speed": speeds[k] if i1 > i0 else None, "average_cadence": means["cadence"][k],
            "average_watts": means["power"][k], "average_heartrate": means["heart_rate"][k],
            "max_heartrate": max_hrs[k] if np.isfinite(max_hrs[k]) else None,
            "lap_type": lap.lap_type if lap else "general", "trigger": lap.trigger if lap else None,
        })
    return out


def _same(got: list[dict[str, Any]], want: list[dict[str, Any]]) -> None:
    assert len(got) == len(want)
    for k, (g, w) in enumerate(zip(got, want, strict=True)):
        for key, value in w.items():
            assert key in g, (k, key)
            have = g[key]
            if isinstance(value, float) and isinstance(have, float):
                assert have == value or (math.isnan(have) and math.isnan(value)), (k, key, have, value)
            else:
                assert have == value, (k, key, have, value)


def _activity(rng: np.random.Generator, n: int, with_alt: bool, lap_kind: str) -> Activity:
    steps = rng.choice([1.0, 1.0, 1.0, 2.0, 0.5, 5.0, 40.0], n - 1)
    t = np.concatenate(([0.0], np.cumsum(steps)))
    d = np.concatenate(([0.0], np.cumsum(rng.choice([0.0, 1.5, 2.8, 3.3, 4.0, 12.0], n - 1))))
    ch = {"time": t, "distance": d}
    hr = rng.uniform(90, 185, n).round()
    hr[rng.random(n) < 0.05] = np.nan
    ch["heart_rate"] = hr
    if rng.random() < 0.7:
        cad = rng.choice([0.0, 80.0, 85.0, 90.0, np.nan], n)
        ch["cadence"] = cad
    if rng.random() < 0.5:
        ch["power"] = rng.uniform(0, 400, n).round()
    if with_alt:
        alt = 30 * np.sin(np.arange(n) / 80.0) + rng.normal(0, 0.8, n) + 120
        alt[rng.random(n) < 0.05] = np.nan
        ch["altitude"] = alt
    a = Activity(start=datetime(2024, 5, 1, 8, tzinfo=UTC), channels=ch)
    if n > 3 and rng.random() < 0.5:
        a.pauses = sorted({int(i) for i in rng.integers(1, n, size=2)})
    span = float(t[-1] - t[0])
    if lap_kind == "time":
        a.laps = [Lap(end_time=float(e), basis="time") for e in np.sort(rng.uniform(0, span, 3))]
    elif lap_kind == "index":
        a.laps = [Lap(end_index=int(i), basis="time") for i in np.sort(rng.integers(0, n, 3))]
    elif lap_kind == "distance":
        a.laps = [Lap(end_distance=float(e), basis="distance", lap_type="work", trigger="distance")
                  for e in np.sort(rng.uniform(0, float(d[-1]) + 50, 3))]
    elif lap_kind == "timer":
        a.laps = [Lap(end_timer=float(e), basis="timer", trigger="manual") for e in np.sort(rng.uniform(0, span, 3))]
    return a


@settings(max_examples=150, deadline=None)
@given(
    st.integers(2, 1500),
    st.integers(0, 2**32 - 1),
    st.booleans(),
    st.sampled_from(["none", "time", "index", "distance", "timer"]),
)
def test_splits_and_laps_match_the_numpy_form(n, seed, with_alt, lap_kind):
    rng = np.random.default_rng(seed)
    a = _activity(rng, n, with_alt, lap_kind)
    tb = time_base(a)
    dist = distance_stream(a, tb)
    alt = a.channels.get("altitude")
    elev = elevation_stats(alt, tb.t, tb.paused) if alt is not None and np.isfinite(alt).any() else None
    cum = Cumulative.build(a, tb, dist)
    if dist[-1] > dist[0]:
        km, mi = split_lists(a, tb, dist, (KM, MILE), cum, elev=elev)
        _same(km, ref_splits(a, tb, dist, KM, elev))
        _same(mi, ref_splits(a, tb, dist, MILE, elev))
    _same(laps(a, tb, dist, cum, elev), ref_laps(a, tb, dist, elev))
    # laps without a profile to read: each lap's own elevation_stats
    _same(laps(a, tb, dist, cum, None), ref_laps(a, tb, dist, None))
