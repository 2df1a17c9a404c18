"""The per-activity summary (algorithms.md section 2), derived from the channels.

Every average is weighted by the time each sample stands for (timebase conventions), never by
sample count, and leaves paused time out. Choices the references leave open, stated here:

* average speed = distance / moving time (Strava); max speed = the best 3 s time-based mean of
  the distance stream (raw GPS speed spikes; section 2 suggests 3-5 s).
* power average counts zeros (coasting is part of the ride); cadence average/min leave zeros
  out (devices' usual cadence averages, and stopping is not a cadence of 0 rpm).
* elevation: section 14 (smoothing + extrema hysteresis), min/max of the recorded altitude.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from runhub.activity import Activity, Summary
from runhub.analysis.elevation import ElevationStats, elevation_stats
from runhub.analysis.geo import distance_stream, endpoints
from runhub.analysis.mean_max import paused_rates
from runhub.analysis.timebase import TimeBase, time_base
from runhub.jit import kernel

MAX_SPEED_WINDOW_S = 3.0


def _stats(tb: TimeBase, x: np.ndarray | None, *, drop_zero: bool = False) -> tuple:
    """(time-weighted mean, min, max) of a channel; None when it has no known value."""
    if x is None:
        return None, None, None
    known, mean, lo, hi = _channel_stats(np.ascontiguousarray(x, dtype=float), tb.weights, drop_zero)
    if known == 0:
        return None, None, None
    return (mean if known == 2 else None), lo, hi


@kernel
def _block_sum(a: np.ndarray, lo: int, n: int) -> float:
    """numpy's pairwise summation of a[lo : lo + n] for n <= 128: 8 accumulators, combined as a
    tree, then the rest one by one (fewer than 8 values: one by one)."""
    if n < 8:
        res = 0.0
        for i in range(lo, lo + n):
            res += a[i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    i = 8
    end = n - n % 8
    while i < end:
        r0 += a[lo + i]
        r1 += a[lo + i + 1]
        r2 += a[lo + i + 2]
        r3 += a[lo + i + 3]
        r4 += a[lo + i + 4]
        r5 += a[lo + i + 5]
        r6 += a[lo + i + 6]
        r7 += a[lo + i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@kernel
def _pairwise_sum(a: np.ndarray, lo: int, n: int) -> float:
    """numpy's pairwise summation of a[lo : lo + n] (`_block_sum` up to 128 values, above that
    the sum of both halves, split at a multiple of 8), so that a compiled sum has the bits
    `ndarray.sum()` has. The recursion runs on an explicit stack: numba's on-disk cache crashes
    on a recursive kernel called by another one."""
    if n <= 128:
        return _block_sum(a, lo, n)
    los = np.empty(64, dtype=np.int64)
    ns = np.empty(64, dtype=np.int64)
    right = np.zeros(64, dtype=np.bool_)  # the frame is its parent's right half
    left = np.empty(64)  # a parent's left half, once summed
    top = 0
    los[0] = lo
    ns[0] = n
    while True:
        while ns[top] > 128:  # down the left halves
            h = ns[top] // 2
            h -= h % 8
            los[top + 1] = los[top]
            ns[top + 1] = h
            right[top + 1] = False
            top += 1
        val = _block_sum(a, los[top], ns[top])
        while True:  # up: store a left half and go right, or add a right half to its left
            if top == 0:
                return val
            parent = top - 1
            if not right[top]:
                left[parent] = val
                h = ns[parent] // 2
                h -= h % 8
                los[top] = los[parent] + h
                ns[top] = ns[parent] - h
                right[top] = True
                break
            val = left[parent] + val
            top = parent


@kernel
def _channel_stats(x: np.ndarray, weights: np.ndarray, drop_zero: bool) -> tuple[int, float, float, float]:
    """(known, mean, min, max) of a channel: the time-weighted mean of the intervals whose sample
    is known (`TimeBase.weighted`, then sum(x w) / sum(w), both sums pairwise as numpy's; the
    numpy form is in tests/analysis/test_summary_kernels.py), held within the min/max of its known
    samples, and those. known: 0 when no sample is known, 1 when no time is (no mean), else 2.
    Compiled: the numpy form is ~15 array calls per channel, four channels per activity."""
    n = len(x)
    count = 0
    lo = np.inf
    hi = -np.inf
    for i in range(n):
        v = x[i]
        if np.isfinite(v) and (v > 0 or not drop_zero):
            count += 1
            lo = min(lo, v)
            hi = max(hi, v)
    if count == 0:
        return 0, np.nan, np.nan, np.nan
    m = len(weights)
    ws = np.empty(m)
    xs = np.empty(m)
    k = 0
    for i in range(m):
        v = x[i + 1]
        w = weights[i]
        if np.isfinite(v) and w > 0 and (v > 0 or not drop_zero):
            ws[k] = w
            xs[k] = v * w
            k += 1
    tot = 0.0 + _pairwise_sum(ws, 0, k)  # numpy adds the pairwise sum to its identity, 0.0
    if tot <= 0:
        return 1, np.nan, lo, hi
    # a mean lies between the smallest and the largest value; the rounding of each v * w can put
    # the quotient an ulp outside (260 bpm throughout gave 260.00000000000006, which validation
    # then refused as past the channel's bound)
    return 2, min(max((0.0 + _pairwise_sum(xs, 0, k)) / tot, lo), hi), lo, hi


def max_speeds(
    tb: TimeBase, dist: np.ndarray, lo: np.ndarray, hi: np.ndarray, window: float = MAX_SPEED_WINDOW_S
) -> list[float | None]:
    """Best mean speed over `window` seconds of non-paused time (the distance integral) inside
    each sample range [lo_k, hi_k] (the activity, or its laps); None for a range with no time."""
    rates = paused_rates(
        tb.paused, tb.dt, np.ascontiguousarray(dist, dtype=float), np.asarray(lo), np.asarray(hi), window
    )
    return [v if np.isfinite(v) else None for v in rates.tolist()]


def max_speed(tb: TimeBase, dist: np.ndarray, window: float = MAX_SPEED_WINDOW_S) -> float | None:
    """Best mean speed over `window` seconds of non-paused time (the distance integral)."""
    return max_speeds(tb, dist, np.array([0]), np.array([len(dist) - 1]), window)[0]


def summarize(
    a: Activity, tb: TimeBase | None = None, elevation: ElevationStats | None = None, dist: Any = ...
) -> Summary:
    """Every field of `Summary` from the channels of an activity with streams. `dist`: the
    activity's `distance_stream` when the caller has it (None: it has none), so that a GPS
    track's geodesic distance is computed once."""
    tb = tb or time_base(a)
    ch = a.channels
    s = Summary()
    s.elapsed_time = tb.elapsed
    s.timer_time = tb.timer
    s.moving_time = tb.moving_time
    if dist is ...:
        dist = distance_stream(a, tb)
    if dist is not None:
        s.distance = float(dist[-1] - dist[0])
        if s.moving_time and s.moving_time > 0:
            s.average_speed = s.distance / s.moving_time
        s.max_speed = max_speed(tb, dist)
    elif a.summary.distance:  # no distance in the samples: the file's own total (a treadmill's session)
        s.distance = a.summary.distance
        if s.moving_time and s.moving_time > 0:
            s.average_speed = s.distance / s.moving_time
    s.heart_rate_average, s.heart_rate_min, s.heart_rate_max = _stats(tb, ch.get("heart_rate"))
    s.cadence_average, s.cadence_min, s.cadence_max = _stats(tb, ch.get("cadence"), drop_zero=True)
    s.power_average, _, s.power_max = _stats(tb, ch.get("power"))
    s.temperature_average, _, _ = _stats(tb, ch.get("temperature"))
    alt = ch.get("altitude")
    if alt is not None and np.isfinite(alt).any():
        ev = elevation or elevation_stats(alt, tb.t, tb.paused)
        s.elevation_gain, s.elevation_loss = ev.gain, ev.loss
        s.elevation_min, s.elevation_max = ev.min, ev.max
    start, end, bbox = endpoints(a)
    if start is not None and end is not None:
        s.start_latitude, s.start_longitude = start
        s.end_latitude, s.end_longitude = end
        s.bbox = bbox
    return s
