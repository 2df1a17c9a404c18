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

import numpy as np

from runhub.activity import Activity, Summary
from runhub.analysis.elevation import ElevationStats, elevation_stats
from runhub.analysis.geo import distance_stream, endpoints
from runhub.analysis.mean_max import best_rates
from runhub.analysis.timebase import TimeBase, time_base, weighted_mean

MAX_SPEED_WINDOW_S = 3.0


def _stats(tb: TimeBase, x: np.ndarray | None, *, drop_zero: bool = False) -> tuple:
    """(time-weighted mean, min, max) of a channel; None when it has no known value."""
    if x is None:
        return None, None, None
    v, w = tb.weighted(x)
    if drop_zero:
        keep = v > 0
        v, w = v[keep], w[keep]
    known = x[np.isfinite(x)]
    if drop_zero:
        known = known[known > 0]
    if len(known) == 0:
        return None, None, None
    return weighted_mean(v, w), float(known.min()), float(known.max())


def max_speeds(
    tb: TimeBase, dist: np.ndarray, lo: np.ndarray, hi: np.ndarray, window: float = MAX_SPEED_WINDOW_S
) -> list[float | None]:
    """Best mean speed over `window` seconds of non-paused time (the distance integral) inside
    each sample range [lo_k, hi_k] (the activity, or its laps); None for a range with no time."""
    tau = np.concatenate(([0.0], np.cumsum(np.where(tb.paused, 0.0, tb.dt))))
    e = np.concatenate(([0.0], np.cumsum(np.where(tb.paused, 0.0, np.diff(dist)))))
    return [v if np.isfinite(v) else None for v in best_rates(tau, e, lo, hi, window).tolist()]


def max_speed(tb: TimeBase, dist: np.ndarray, window: float = MAX_SPEED_WINDOW_S) -> float | None:
    """Best mean speed over `window` seconds of non-paused time (the distance integral)."""
    return max_speeds(tb, dist, np.array([0]), np.array([len(dist) - 1]), window)[0]


def summarize(a: Activity, tb: TimeBase | None = None, elevation: ElevationStats | None = None) -> Summary:
    """Every field of `Summary` from the channels of an activity with streams."""
    tb = tb or time_base(a)
    ch = a.channels
    s = Summary()
    s.elapsed_time = tb.elapsed
    s.timer_time = tb.timer
    s.moving_time = tb.moving_time
    dist = distance_stream(a, tb)
    if dist is not None:
        s.distance = float(dist[-1] - dist[0])
        if s.moving_time and s.moving_time > 0:
            s.average_speed = s.distance / s.moving_time
        s.max_speed = max_speed(tb, dist)
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
