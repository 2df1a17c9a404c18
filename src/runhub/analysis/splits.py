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
from runhub.analysis.elevation import ElevationStats, elevation_stats
from runhub.analysis.summary import max_speeds
from runhub.analysis.timebase import TimeBase
from runhub.jit import kernel

KM = 1000.0
MILE = 1609.344
_AVERAGED = ("heart_rate", "cadence", "power")  # what splits and laps average
_EMPTY = np.zeros(0)


@kernel
def _running_sum(x: np.ndarray, weights: np.ndarray, drop_zero: bool) -> tuple[np.ndarray, np.ndarray]:
    """(sum of x*w, sum of w) from the start to each sample over the known samples (w > 0; with
    drop_zero also x > 0), summed in order as concatenate(([0.0], cumsum(...))) sums them."""
    n = len(weights) + 1
    xs = np.empty(n)
    ws = np.empty(n)
    xs[0] = 0.0
    ws[0] = 0.0
    for i in range(n - 1):
        v = x[i + 1]
        ok = np.isfinite(v) and weights[i] > 0 and (v > 0 or not drop_zero)
        w = weights[i] if ok else 0.0
        p = (v if ok else 0.0) * w
        # cumsum starts from the first value itself (not 0.0 + it: the sign of a zero stays)
        xs[i + 1] = xs[i] + p if i else p
        ws[i + 1] = ws[i] + w if i else w
    return xs, ws


@kernel
def _cumulative(
    dt: np.ndarray, moving: np.ndarray, weights: np.ndarray, hr: np.ndarray, cad: np.ndarray, power: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """`Cumulative.build`'s integrals (moving time; sum and weight of heart rate, cadence without
    its zeros, power; empty for an absent channel) in one compiled call instead of ~30 array
    passes."""
    n = len(dt) + 1
    mov = np.empty(n)
    mov[0] = 0.0
    for i in range(n - 1):
        v = dt[i] if moving[i] else 0.0
        mov[i + 1] = mov[i] + v if i else v
    h = _running_sum(hr, weights, False) if len(hr) else (_EMPTY_K, _EMPTY_K)
    c = _running_sum(cad, weights, True) if len(cad) else (_EMPTY_K, _EMPTY_K)
    p = _running_sum(power, weights, False) if len(power) else (_EMPTY_K, _EMPTY_K)
    return mov, h[0], h[1], c[0], c[1], p[0], p[1]


_EMPTY_K = np.zeros(0)  # a global array is a constant inside a kernel


@dataclass
class Cumulative:
    """Running integrals at each sample, evaluated at any clock time by linear interpolation."""

    t: np.ndarray
    moving: np.ndarray
    dist: np.ndarray | None
    sums: dict[str, tuple[np.ndarray, np.ndarray]]  # channel -> (sum x*w, sum w)

    @classmethod
    def build(cls, a: Activity, tb: TimeBase, dist: np.ndarray | None) -> Cumulative:
        chans = [a.channels.get(name) for name in _AVERAGED]
        moving, *sums = _cumulative(
            tb.dt,
            tb.moving,
            tb.weights,
            *(_EMPTY if x is None else np.ascontiguousarray(x, dtype=float) for x in chans),
        )
        pairs = {
            name: (sums[2 * k], sums[2 * k + 1]) for k, name in enumerate(_AVERAGED) if chans[k] is not None
        }
        return cls(tb.t, moving, dist, pairs)

    def at(self, arr: np.ndarray, times: np.ndarray) -> np.ndarray:
        return np.interp(times, self.t, arr)

    def mean(self, name: str, t0: np.ndarray, t1: np.ndarray) -> list[float | None]:
        if name not in self.sums:
            return [None] * len(t0)
        xs, ws = self.sums[name]
        dx = self.at(xs, t1) - self.at(xs, t0)
        dw = self.at(ws, t1) - self.at(ws, t0)
        return [x / w if w > 1e-9 else None for x, w in zip(dx.tolist(), dw.tolist(), strict=True)]


def crossing_times(t: np.ndarray, dist: np.ndarray, marks: np.ndarray) -> np.ndarray:
    """First clock time the cumulative distance reaches each mark (linear inside a step)."""
    j = np.clip(np.searchsorted(dist, marks, "left"), 1, len(dist) - 1)
    d0, d1 = dist[j - 1], dist[j]
    with np.errstate(invalid="ignore", divide="ignore"):
        f = np.where(d1 > d0, (marks - d0) / (d1 - d0), 1.0)
    return t[j - 1] + np.clip(f, 0, 1) * (t[j] - t[j - 1])


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
    return split_lists(a, tb, dist, (length,), cum, pace_zones, elev)[0]


def split_lists(
    a: Activity,
    tb: TimeBase,
    dist: np.ndarray,
    lengths: tuple[float, ...] = (KM, MILE),
    cum: Cumulative | None = None,
    pace_zones: list[float] | None = None,
    elev: ElevationStats | None = None,
) -> list[list[dict[str, Any]]]:
    """`splits` for several lengths (km and mile at import) from one compiled pass (`_split_rows`):
    the numpy form cost ~40 array calls per length, most of a short run's splits."""
    cum = cum or Cumulative.build(a, tb, dist)
    t = np.ascontiguousarray(tb.t, dtype=float)
    alt = a.channels.get("altitude")
    if alt is not None:
        ok = np.isfinite(alt)
        alt_t, alt_v = t[ok], np.asarray(alt, dtype=float)[ok]
    else:
        alt_t = alt_v = _EMPTY
    hr = cum.sums.get("heart_rate")
    has_elev = _has_turning_points(elev)
    rows, counts = _split_rows(
        t,
        np.ascontiguousarray(dist, dtype=float),
        np.asarray(lengths, dtype=float),
        cum.moving,
        _EMPTY if hr is None else hr[0],
        _EMPTY if hr is None else hr[1],
        alt_t,
        alt_v,
        elev.index.astype(np.int64) if has_elev else _NO_INDEX,  # type: ignore[union-attr]
        elev.cum_gain if has_elev else _EMPTY,  # type: ignore[union-attr]
        elev.cum_loss if has_elev else _EMPTY,  # type: ignore[union-attr]
    )
    no_alt = len(alt_v) == 0
    first = float(t[0])
    out = []
    r0 = 0
    for count in counts.tolist():
        splits_: list[dict[str, Any]] = []
        # plain Python numbers once per table (a 100 km ride has 100 splits of 13 fields)
        for k, (t0, t1, moving, hx, hw, diff, i0, i1, gain, loss, d) in enumerate(rows[r0 : r0 + count].tolist()):
            elapsed = t1 - t0
            speed = d / moving if moving > 0 else (d / elapsed if elapsed > 0 else 0.0)
            zone = int(np.searchsorted(pace_zones, speed, "right")) if pace_zones else 0
            splits_.append(
                {
                    "split": k + 1,
                    "distance": d,
                    "elapsed_time": elapsed,
                    "moving_time": moving,
                    "elevation_difference": None if no_alt else diff,
                    "elevation_gain": gain if math.isfinite(gain) else None,
                    "elevation_loss": loss if math.isfinite(loss) else None,
                    "average_speed": speed,
                    "average_heartrate": hx / hw if hr is not None and hw > 1e-9 else None,
                    "pace_zone": zone,
                    "start_time": t0 - first,
                    "start_index": int(i0),
                    "end_index": int(i1),
                }
            )
        out.append(splits_)
        r0 += count
    return out


_NO_INDEX = np.zeros(0, dtype=np.int64)


@kernel
def _split_rows(
    t: np.ndarray,
    dist: np.ndarray,
    lengths: np.ndarray,
    moving: np.ndarray,
    hr_x: np.ndarray,
    hr_w: np.ndarray,
    alt_t: np.ndarray,
    alt_v: np.ndarray,
    ev_index: np.ndarray,
    ev_gain: np.ndarray,
    ev_loss: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The splits of each length, one row per split: start and end clock, moving time, heart-rate
    sum and weight, altitude difference, start and end index, gain, loss, distance (NaN where
    unknown); and the number of rows per length. Every value by the arithmetic the numpy form
    used (crossing_times, np.interp, range_gain_loss), so the same bits."""
    n = len(t)
    total = dist[n - 1] - dist[0]
    counts = np.zeros(len(lengths), dtype=np.int64)
    if not total > 0:
        return np.empty((0, 11)), counts
    nrows = 0
    for q in range(len(lengths)):
        full = int(np.floor(total / lengths[q] + 1e-9))
        counts[q] = full + (1 if total - full * lengths[q] > 1e-6 else 0)
        nrows += counts[q]
    rows = np.empty((nrows, 11))
    r = 0
    for q in range(len(lengths)):
        length = lengths[q]
        full = int(np.floor(total / length + 1e-9))
        t0 = t[0]
        for k in range(counts[q]):
            if k < full:
                mark = (k + 1) * length
                j = np.searchsorted(dist, dist[0] + mark)
                # crossing_times on d = dist - dist[0]: the first sample with d >= mark
                j = min(max(_first_at_least(dist, mark, j), 1), n - 1)
                d0 = dist[j - 1] - dist[0]
                d1 = dist[j] - dist[0]
                f = (mark - d0) / (d1 - d0) if d1 > d0 else 1.0
                if f < 0.0:
                    f = 0.0
                elif f > 1.0:
                    f = 1.0
                t1 = t[j - 1] + f * (t[j] - t[j - 1])
                d = length
            else:
                t1 = t[n - 1]
                d = total - full * length
            rows[r, 0] = t0
            rows[r, 1] = t1
            rows[r, 2] = _interp_at(t, moving, t1) - _interp_at(t, moving, t0)
            if len(hr_x):
                rows[r, 3] = _interp_at(t, hr_x, t1) - _interp_at(t, hr_x, t0)
                rows[r, 4] = _interp_at(t, hr_w, t1) - _interp_at(t, hr_w, t0)
            else:
                rows[r, 3] = np.nan
                rows[r, 4] = np.nan
            if len(alt_v):
                rows[r, 5] = _interp_at(alt_t, alt_v, t1) - _interp_at(alt_t, alt_v, t0)
            else:
                rows[r, 5] = np.nan
            i0 = np.searchsorted(t, t0, side="right") - 1
            i1 = min(np.searchsorted(t, t1), n - 1)
            rows[r, 6] = i0
            rows[r, 7] = i1
            rows[r, 8] = _profile_change(ev_index, ev_gain, i0, i1)
            rows[r, 9] = _profile_change(ev_index, ev_loss, i0, i1)
            rows[r, 10] = d
            t0 = t1
            r += 1
    return rows, counts


@kernel
def _first_at_least(dist: np.ndarray, mark: float, j: int) -> int:
    """The first index with dist[i] - dist[0] >= mark (searchsorted 'left' on the shifted
    distance, whose rounding may differ from dist >= dist[0] + mark), from the guess j."""
    n = len(dist)
    while j > 0 and dist[j - 1] - dist[0] >= mark:
        j -= 1
    while j < n and dist[j] - dist[0] < mark:
        j += 1
    return j


@kernel
def _profile_change(ev_index: np.ndarray, cum: np.ndarray, i0: int, i1: int) -> float:
    """The gain (or loss: `cum` the cumulative gain or loss at the profile's points) between samples
    i0 and i1, as `elevation.range_gain_loss` computes it (the same bits); NaN without a profile."""
    if len(ev_index) == 0:
        return np.nan
    k0 = np.searchsorted(ev_index, i0, side="right") - 1
    k1 = np.searchsorted(ev_index, i1, side="right") - 1
    return (cum[k1] if k1 >= 0 else 0.0) - (cum[k0] if k0 >= 0 else 0.0)


def _has_turning_points(elev: ElevationStats | None) -> bool:
    """The elevation stats carry the cumulative gain and loss at turning points a split can read."""
    return (
        elev is not None
        and elev.index is not None
        and elev.cum_gain is not None
        and elev.cum_loss is not None
        and len(elev.index) > 0
    )


# The same kernel as mean_max._interp_at, kept per module on purpose: numba's on-disk cache does not
# see a change to a kernel defined in another file (see runhub.jit).
@kernel
def _interp_at(xp: np.ndarray, fp: np.ndarray, x: float) -> float:
    """numpy.interp at one x (the same arithmetic, so the same bits), by bisection; xp strictly
    increasing, x not NaN."""
    n = len(xp)
    if x < xp[0]:
        return fp[0]
    if x >= xp[n - 1]:
        return fp[n - 1]
    j = np.searchsorted(xp, x, side="right") - 1
    if xp[j] == x:
        return fp[j]
    slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j])
    return slope * (x - xp[j]) + fp[j]


def lap_bounds(a: Activity, tb: TimeBase, dist: np.ndarray | None) -> list[tuple[float, float]]:
    """Clock [start, end) of each lap: by end time, else end index, distance or timer; without
    laps the whole activity is one lap (as Strava reports)."""
    t = tb.t
    ends: list[float] = []
    timer = None  # the timer axis, built only for a lap that ends by timer
    for lap in a.laps:
        if lap.end_time is not None and lap.basis == "time":
            e = t[0] + lap.end_time if lap.end_time <= t[-1] - t[0] + 1e-9 else t[-1]
        elif lap.end_index is not None:
            e = t[min(lap.end_index + 1, len(t) - 1)] if lap.end_index + 1 < len(t) else t[-1]
        elif lap.end_distance is not None and dist is not None:
            e = float(crossing_times(t, dist - dist[0], np.array([lap.end_distance]))[0])
        elif lap.end_timer is not None:
            if timer is None:
                timer = tb.timer_axis() + t[0]
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
    t = np.ascontiguousarray(tb.t, dtype=float)
    rng = lap_bounds(a, tb, dist)
    if not rng:
        return []
    t0 = np.array([r[0] for r in rng])
    t1 = np.array([r[1] for r in rng])
    hr = a.channels.get("heart_rate")
    has_elev = _has_turning_points(elev)
    sums = [cum.sums.get(name, (_EMPTY, _EMPTY)) for name in _AVERAGED]
    # one compiled pass for the interpolated integrals and indexes (the numpy form: ~30 array calls)
    rows = _lap_rows(
        t,
        t0,
        t1,
        cum.moving,
        _EMPTY if dist is None else np.ascontiguousarray(dist, dtype=float),
        *(arr for pair in sums for arr in pair),
        elev.index.astype(np.int64) if has_elev else _NO_INDEX,  # type: ignore[union-attr]
        elev.cum_gain if has_elev else _EMPTY,  # type: ignore[union-attr]
    )
    i0s = rows[:, 9].astype(np.int64)
    i1s = rows[:, 10].astype(np.int64)
    if elev is not None:
        gains = [v if math.isfinite(v) else None for v in rows[:, 11].tolist()]
    else:
        alt = a.channels.get("altitude")
        gains = []
        for i0, i1 in zip(i0s.tolist(), i1s.tolist(), strict=True):
            seg = None if alt is None else alt[i0 : i1 + 1]
            ok = seg is not None and np.isfinite(seg).any()
            gains.append(elevation_stats(seg, t[i0 : i1 + 1], tb.paused[i0:i1]).gain if ok else None)
    speeds = max_speeds(tb, dist, i0s, i1s) if dist is not None else [None] * len(rng)
    max_hrs = _range_max(hr, i0s, i1s).tolist() if hr is not None else [np.nan] * len(rng)
    first = float(t[0])
    out = []
    for k, row in enumerate(rows.tolist()):
        mov, dd, hx, hw, cx, cw, px, pw, _, i0f, i1f, _ = row
        i0, i1 = int(i0f), int(i1f)
        elapsed = t1[k] - t0[k]
        distance = None if dist is None else dd
        means = [x / w if name in cum.sums and w > 1e-9 else None
                 for name, x, w in zip(_AVERAGED, (hx, cx, px), (hw, cw, pw), strict=True)]
        lap = a.laps[k] if k < len(a.laps) else None
        out.append(
            {
                "lap_index": k + 1,
                "split": k + 1,
                "start_time": float(t0[k]) - first,
                "elapsed_time": float(elapsed),
                "moving_time": mov,
                "distance": distance,
                "start_index": i0,
                "end_index": i1,
                "total_elevation_gain": gains[k],
                "average_speed": (distance / mov) if distance is not None and mov > 0 else None,
                "max_speed": speeds[k] if i1 > i0 else None,
                "average_cadence": means[1],
                "average_watts": means[2],
                "average_heartrate": means[0],
                "max_heartrate": max_hrs[k] if np.isfinite(max_hrs[k]) else None,
                "lap_type": lap.lap_type if lap else "general",
                "trigger": lap.trigger if lap else None,
            }
        )
    return out


@kernel
def _lap_rows(
    t: np.ndarray,
    t0s: np.ndarray,
    t1s: np.ndarray,
    moving: np.ndarray,
    dist: np.ndarray,
    hr_x: np.ndarray,
    hr_w: np.ndarray,
    cad_x: np.ndarray,
    cad_w: np.ndarray,
    pw_x: np.ndarray,
    pw_w: np.ndarray,
    ev_index: np.ndarray,
    ev_gain: np.ndarray,
) -> np.ndarray:
    """One row per lap [t0, t1): moving time, distance, (sum, weight) of heart rate, cadence and
    power, a spare column, start index (first sample at or after t0), end index, gain (NaN where
    unknown); by np.interp's and range_gain_loss's arithmetic, so the same bits."""
    n = len(t)
    rows = np.empty((len(t0s), 12))
    for r in range(len(t0s)):
        t0 = t0s[r]
        t1 = t1s[r]
        rows[r, 0] = _interp_at(t, moving, t1) - _interp_at(t, moving, t0)
        rows[r, 1] = _interp_at(t, dist, t1) - _interp_at(t, dist, t0) if len(dist) else np.nan
        for c in range(3):
            xs = hr_x if c == 0 else (cad_x if c == 1 else pw_x)
            ws = hr_w if c == 0 else (cad_w if c == 1 else pw_w)
            if len(xs):
                rows[r, 2 + 2 * c] = _interp_at(t, xs, t1) - _interp_at(t, xs, t0)
                rows[r, 3 + 2 * c] = _interp_at(t, ws, t1) - _interp_at(t, ws, t0)
            else:
                rows[r, 2 + 2 * c] = np.nan
                rows[r, 3 + 2 * c] = np.nan
        rows[r, 8] = np.nan
        i0 = np.searchsorted(t, t0)
        i1 = min(np.searchsorted(t, t1), n - 1)
        rows[r, 9] = i0
        rows[r, 10] = i1
        rows[r, 11] = _profile_change(ev_index, ev_gain, i0, i1)
    return rows


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
