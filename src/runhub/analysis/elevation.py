"""Elevation gain/loss (algorithms.md section 14): smooth, then extrema-tracking hysteresis.

Summing positive differences turns 1 m of noise into thousands of metres; GoldenCheetah's
jumping-reference hysteresis loses up to h metres per climb. Here a leg is committed only when
the profile reverses by more than h from the running extreme, and a leg is measured extreme to
extreme, so nothing is lost. Altitude changes across a pause are removed (drift while standing
still is not climbing).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

DEFAULT_HYSTERESIS_M = 2.0  # after smoothing (1 m suits barometric, 3-5 m raw GPS)
DEFAULT_SMOOTHING_S = 15.0  # centred moving average window, seconds


@dataclass
class ElevationStats:
    gain: float = 0.0
    loss: float = 0.0
    min: float | None = None
    max: float | None = None
    max_climb: float = 0.0  # largest single confirmed ascent (trough -> peak)
    max_descent: float = 0.0
    ascent: float = 0.0  # Smashrun: minimum elevation to the maximum following it
    descent: float = 0.0  # maximum elevation to the minimum following it
    net: float = 0.0  # last - first, pause jumps excluded
    legs: list[float] = field(default_factory=list)  # signed legs, in order


def turning_points(x: np.ndarray) -> np.ndarray:
    """Indexes of the first, last and every strict local extremum (plateaus kept once)."""
    n = len(x)
    if n <= 2:
        return np.arange(n)
    d = np.diff(x)
    nz = np.flatnonzero(d != 0)
    if len(nz) == 0:
        return np.array([0, n - 1])
    s = np.sign(d[nz])
    change = np.flatnonzero(s[1:] != s[:-1])
    # the extremum sits at the end of the last step before the sign change
    idx = nz[change] + 1
    return np.unique(np.concatenate(([0], idx, [n - 1])))


def hysteresis_legs(x: np.ndarray, h: float) -> list[float]:
    """Signed legs between confirmed extrema: a reversal must exceed h to confirm an extreme."""
    if len(x) < 2:
        return []
    pts = x[turning_points(x)].tolist()  # extrema only: the loop runs over few points
    legs: list[float] = []
    anchor = cand = pts[0]
    direction = 0
    for v in pts[1:]:
        if direction == 0:
            if v - anchor > h:
                direction, cand = 1, v
            elif anchor - v > h:
                direction, cand = -1, v
        elif direction == 1:
            if v > cand:
                cand = v
            elif cand - v > h:
                legs.append(cand - anchor)
                anchor, cand, direction = cand, v, -1
        else:
            if v < cand:
                cand = v
            elif v - cand > h:
                legs.append(cand - anchor)
                anchor, cand, direction = cand, v, 1
    if direction != 0:
        legs.append(cand - anchor)
    return legs


def threshold_points(x: np.ndarray, eps: float) -> np.ndarray:
    """Runalyze's "treshold" strategy, for comparison: keep turning points that differ from the
    last kept point by more than eps (first and last always kept); returns kept indexes."""
    tp = turning_points(x)
    kept = [int(tp[0])]
    for i in tp[1:-1]:
        if abs(x[i] - x[kept[-1]]) > eps:
            kept.append(int(i))
    kept.append(int(tp[-1]))
    return np.array(kept)


def _area_at(u: np.ndarray, t: np.ndarray, x: np.ndarray, area: np.ndarray) -> np.ndarray:
    """Exact integral of the piecewise-linear profile from t[0] to u (quadratic inside a step)."""
    k = np.clip(np.searchsorted(t, u, "right") - 1, 0, len(t) - 2)
    h = u - t[k]
    slope = (x[k + 1] - x[k]) / (t[k + 1] - t[k])
    return area[k] + x[k] * h + 0.5 * slope * h * h


def smooth_time(t: np.ndarray, x: np.ndarray, window: float) -> np.ndarray:
    """Centred moving average over `window` seconds on an irregular time axis: the mean of the
    piecewise-linear profile over [t - w/2, t + w/2] (clipped at the ends), via its integral."""
    if window <= 0 or len(x) < 3:
        return x.copy()
    area = np.concatenate(([0.0], np.cumsum(0.5 * (x[1:] + x[:-1]) * np.diff(t))))
    lo = np.maximum(t - window / 2, t[0])
    hi = np.minimum(t + window / 2, t[-1])
    span = hi - lo
    out = x.copy()
    ok = span > 0
    out[ok] = (_area_at(hi[ok], t, x, area) - _area_at(lo[ok], t, x, area)) / span[ok]
    return out


def elevation_stats(
    alt: np.ndarray,
    t: np.ndarray | None = None,
    paused: np.ndarray | None = None,
    *,
    hysteresis: float = DEFAULT_HYSTERESIS_M,
    smoothing: float = DEFAULT_SMOOTHING_S,
) -> ElevationStats:
    """Gain, loss, min, max and legs of an altitude series.

    `paused` (length n-1) marks intervals whose altitude change is dropped; `t` is the clock
    (default: one sample per second) for the time-based smoothing, which runs on the timer axis.
    Min/max are of the recorded altitude, as devices report them.
    """
    alt = np.asarray(alt, dtype=float)
    n = len(alt)
    if t is None:
        t = np.arange(n, dtype=float)
    ok = np.isfinite(alt)
    if not ok.any():
        return ElevationStats()
    stats = ElevationStats(min=float(alt[ok].min()), max=float(alt[ok].max()))
    idx = np.flatnonzero(ok)
    a = alt[idx]
    tt = np.asarray(t, dtype=float)
    dt = np.diff(tt)
    if paused is not None and len(paused):
        dt = np.where(paused, 0.0, dt)
        # a step between kept samples that spans a pause: drop its altitude change
        cp = np.concatenate(([0], np.cumsum(paused.astype(np.int64))))
        crosses = np.diff(cp[idx]) > 0
        jumps = np.where(crosses, np.diff(a), 0.0)
        a = a - np.concatenate(([0.0], np.cumsum(jumps)))
    stats.net = float(a[-1] - a[0])
    timer = np.concatenate(([0.0], np.cumsum(dt)))[idx]
    if smoothing > 0 and len(a) >= 3:
        # drop duplicate timer instants (across pauses) so the axis strictly increases
        keep = np.concatenate(([True], np.diff(timer) > 0))
        a = smooth_time(timer[keep], a[keep], smoothing)
    stats.ascent = float((a - np.minimum.accumulate(a)).max())
    stats.descent = float((np.maximum.accumulate(a) - a).max())
    legs = hysteresis_legs(a, hysteresis)
    stats.legs = legs
    ups = [v for v in legs if v > 0]
    downs = [-v for v in legs if v < 0]
    stats.gain = float(sum(ups))
    stats.loss = float(sum(downs))
    stats.max_climb = float(max(ups, default=0.0))
    stats.max_descent = float(max(downs, default=0.0))
    return stats
