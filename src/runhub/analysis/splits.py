"""Distance splits (km, mile) and laps with their own statistics (algorithms.md section 3).

Both are time ranges [T0, T1) over the same cumulative integrals: elapsed, moving and
weighted channel sums are piecewise linear in clock time, so a range that starts or ends
inside a sample interval is pro-rated exactly. Field names follow Strava's `Split` and `Lap`
models (SI units; dialects rename).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from runhub.activity import Activity
from runhub.analysis.elevation import ElevationStats, elevation_stats, range_gain_loss
from runhub.analysis.summary import max_speeds
from runhub.analysis.timebase import TimeBase
from runhub.jit import kernel

KM = 1000.0
MILE = 1609.344


@dataclass
class Cumulative:
    """Running integrals at each sample, evaluated at any clock time by linear interpolation."""

    t: np.ndarray
    moving: np.ndarray
    dist: np.ndarray | None
    sums: dict[str, tuple[np.ndarray, np.ndarray]]  # channel -> (sum x*w, sum w)

    @classmethod
    def build(cls, a: Activity, tb: TimeBase, dist: np.ndarray | None) -> Cumulative:
        zero = np.zeros(1)
        moving = np.concatenate((zero, np.cumsum(np.where(tb.moving, tb.dt, 0.0))))
        sums = {}
        for name in ("heart_rate", "cadence", "power"):  # what splits and laps average
            x = a.channels.get(name)
            if x is None:
                continue
            v = x[1:]
            ok = np.isfinite(v) & (tb.weights > 0)
            if name == "cadence":
                ok &= v > 0  # cadence averages leave zeros out (summary convention)
            w = np.where(ok, tb.weights, 0.0)
            sums[name] = (
                np.concatenate((zero, np.cumsum(np.where(ok, v, 0.0) * w))),
                np.concatenate((zero, np.cumsum(w))),
            )
        return cls(tb.t, moving, dist, sums)

    def at(self, arr: np.ndarray, times: np.ndarray) -> np.ndarray:
        return np.interp(times, self.t, arr)

    def mean(self, name: str, t0: np.ndarray, t1: np.ndarray) -> list[float | None]:
        if name not in self.sums:
            return [None] * len(t0)
        xs, ws = self.sums[name]
        dx = self.at(xs, t1) - self.at(xs, t0)
        dw = self.at(ws, t1) - self.at(ws, t0)
        return [x / w if w > 1e-9 else None for x, w in zip(dx.tolist(), dw.tolist(), strict=True)]


def _nums(x: np.ndarray) -> list[float | None]:
    """Finite floats of an array as Python floats, None for the rest."""
    return [v if math.isfinite(v) else None for v in x.tolist()]


def _num(x: np.ndarray | None, k: int | None = None) -> float | None:
    """A finite float out of an array (entry k) or None."""
    if x is None:
        return None
    v = float(x if k is None else x[k])
    return v if np.isfinite(v) else None


def crossing_times(t: np.ndarray, dist: np.ndarray, marks: np.ndarray) -> np.ndarray:
    """First clock time the cumulative distance reaches each mark (linear inside a step)."""
    j = np.clip(np.searchsorted(dist, marks, "left"), 1, len(dist) - 1)
    d0, d1 = dist[j - 1], dist[j]
    with np.errstate(invalid="ignore", divide="ignore"):
        f = np.where(d1 > d0, (marks - d0) / (d1 - d0), 1.0)
    return t[j - 1] + np.clip(f, 0, 1) * (t[j] - t[j - 1])


def _altitude_at(a: Activity, t: np.ndarray, times: np.ndarray) -> np.ndarray | None:
    alt = a.channels.get("altitude")
    if alt is None:
        return None
    ok = np.isfinite(alt)
    if ok.sum() < 1:
        return None
    return np.interp(times, t[ok], alt[ok])


def splits(
    a: Activity,
    tb: TimeBase,
    dist: np.ndarray,
    length: float = KM,
    cum: Cumulative | None = None,
    pace_zones: list[float] | None = None,
    elev: ElevationStats | None = None,
) -> list[dict[str, Any]]:
    """Strava `splits_metric` (length=1000) / `splits_standard` (1609.344), last split partial.

    `pace_zones`: ascending speed edges (m/s) of the athlete's pace zones; `pace_zone` is the
    1-based zone of the split's average speed (0 when the athlete has none). `elev` (the
    activity's elevation_stats) adds each split's gain and loss on the activity's smoothed
    profile (`elevation_gain`, `elevation_loss`; None without altitude)."""
    cum = cum or Cumulative.build(a, tb, dist)
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
    alt = _altitude_at(a, t, bounds)
    i0s = np.searchsorted(t, t0, "right") - 1
    i1s = np.minimum(np.searchsorted(t, t1, "left"), len(t) - 1)
    if elev is not None:
        gain, loss = (_nums(v) for v in range_gain_loss(elev, i0s, i1s))
    else:
        gain = loss = [None] * len(dists)
    # plain Python numbers once per array (a 100 km ride has 100 splits of 13 fields)
    el = (t1 - t0).tolist()
    mv = mov.tolist()
    start = (t0 - t[0]).tolist()
    diff = [None] * len(dists) if alt is None else np.diff(alt).tolist()
    i0l, i1l = i0s.tolist(), i1s.tolist()
    out = []
    for k in range(len(dists)):
        elapsed = el[k]
        moving = mv[k]
        speed = dists[k] / moving if moving > 0 else (dists[k] / elapsed if elapsed > 0 else 0.0)
        zone = int(np.searchsorted(pace_zones, speed, "right")) if pace_zones else 0
        out.append(
            {
                "split": k + 1,
                "distance": float(dists[k]),
                "elapsed_time": elapsed,
                "moving_time": moving,
                "elevation_difference": diff[k],
                "elevation_gain": gain[k],
                "elevation_loss": loss[k],
                "average_speed": speed,
                "average_heartrate": hr[k],
                "pace_zone": zone,
                "start_time": start[k],
                "start_index": i0l[k],
                "end_index": i1l[k],
            }
        )
    return out


def lap_bounds(a: Activity, tb: TimeBase, dist: np.ndarray | None) -> list[tuple[float, float]]:
    """Clock [start, end) of each lap: by end time, else end index, distance or timer; without
    laps the whole activity is one lap (as Strava reports)."""
    t = tb.t
    ends: list[float] = []
    timer = tb.timer_axis() + t[0]
    for lap in a.laps:
        if lap.end_time is not None and lap.basis == "time":
            e = t[0] + lap.end_time if lap.end_time <= t[-1] - t[0] + 1e-9 else t[-1]
        elif lap.end_index is not None:
            e = t[min(lap.end_index + 1, len(t) - 1)] if lap.end_index + 1 < len(t) else t[-1]
        elif lap.end_distance is not None and dist is not None:
            e = float(crossing_times(t, dist - dist[0], np.array([lap.end_distance]))[0])
        elif lap.end_timer is not None:
            e = float(np.interp(t[0] + lap.end_timer, timer, t))
        elif lap.end_time is not None:
            e = t[0] + lap.end_time
        else:
            continue
        ends.append(min(float(e), float(t[-1])))
    if not ends or ends[-1] < t[-1] - 1e-9:
        ends.append(float(t[-1]))
    out, start = [], float(t[0])
    for e in ends:
        if e > start:
            out.append((start, e))
            start = e
    return out


def laps(
    a: Activity,
    tb: TimeBase,
    dist: np.ndarray | None,
    cum: Cumulative | None = None,
    elev: ElevationStats | None = None,
) -> list[dict[str, Any]]:
    """Per-lap statistics recomputed from the streams (Strava `Lap` fields). With `elev` (the
    activity's elevation_stats) a lap's gain is measured on the activity's smoothed profile."""
    cum = cum or Cumulative.build(a, tb, dist)
    t = tb.t
    rng = lap_bounds(a, tb, dist)
    if not rng:
        return []
    t0 = np.array([r[0] for r in rng])
    t1 = np.array([r[1] for r in rng])
    mov = cum.at(cum.moving, t1) - cum.at(cum.moving, t0)
    dd = (cum.at(dist, t1) - cum.at(dist, t0)) if dist is not None else np.full(len(rng), np.nan)
    means = {k: cum.mean(k, t0, t1) for k in ("heart_rate", "cadence", "power")}
    alt = a.channels.get("altitude")
    hr = a.channels.get("heart_rate")
    n = len(t)
    i0s = np.searchsorted(t, t0, "left")
    i1s = np.minimum(np.searchsorted(t, t1, "left"), n - 1)
    if elev is not None:
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
        elapsed = float(t1[k] - t0[k])
        distance = None if dist is None else float(dd[k])
        gain = gains[k]
        mx = speeds[k] if i1 > i0 else None
        max_hr = max_hrs[k] if np.isfinite(max_hrs[k]) else None
        lap = a.laps[k] if k < len(a.laps) else None
        out.append(
            {
                "lap_index": k + 1,
                "split": k + 1,
                "start_time": float(t0[k] - t[0]),
                "elapsed_time": elapsed,
                "moving_time": float(mov[k]),
                "distance": distance,
                "start_index": i0,
                "end_index": i1,
                "total_elevation_gain": gain,
                "average_speed": (distance / float(mov[k])) if distance is not None and mov[k] > 0 else None,
                "max_speed": mx,
                "average_cadence": means["cadence"][k],
                "average_watts": means["power"][k],
                "average_heartrate": means["heart_rate"][k],
                "max_heartrate": max_hr,
                "lap_type": lap.lap_type if lap else "general",
                "trigger": lap.trigger if lap else None,
            }
        )
    return out


@kernel
def _range_max(x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """max of x[lo_k : hi_k + 1] ignoring NaN (NaN when none is known), for each range; ranges may
    share their end samples, which numpy's reduceat cannot express."""
    out = np.empty(len(lo))
    for r in range(len(lo)):
        m = np.nan
        for i in range(lo[r], hi[r] + 1):
            v = x[i]
            if v == v and not (m >= v):
                m = v
        out[r] = m
    return out
