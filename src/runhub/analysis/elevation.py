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

from runhub.jit import kernel

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
    # sample index of each point of the smoothed profile and the gain/loss from the start up to
    # it along the legs, so that laps and splits take their ranges from the same legs
    index: np.ndarray | None = field(default=None, repr=False)
    cum_gain: np.ndarray | None = field(default=None, repr=False)
    cum_loss: np.ndarray | None = field(default=None, repr=False)


def range_gain_loss(ev: ElevationStats, i0: np.ndarray | int, i1: np.ndarray | int) -> tuple[np.ndarray, np.ndarray]:
    """Gain and loss between samples i0 and i1 along the activity's own hysteresis legs (one
    smoothing for the whole activity, so a lap or split is not smoothed against its cut edges;
    ranges that partition the activity add up to its gain and loss). NaN without altitude."""
    i0, i1 = np.asarray(i0), np.asarray(i1)
    if ev.index is None or ev.cum_gain is None or ev.cum_loss is None or len(ev.index) == 0:
        return np.full(i0.shape, np.nan), np.full(i1.shape, np.nan)
    # the profile point at or before each sample (before the first point: nothing yet)
    k0 = np.searchsorted(ev.index, i0, "right") - 1
    k1 = np.searchsorted(ev.index, i1, "right") - 1
    g = np.concatenate(([0.0], ev.cum_gain))
    ls = np.concatenate(([0.0], ev.cum_loss))
    return g[k1 + 1] - g[k0 + 1], ls[k1 + 1] - ls[k0 + 1]


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
    idx = nz[change] + 1  # ascending, in 1 .. n - 1
    return np.concatenate(([0], idx[idx < n - 1], [n - 1]))


def hysteresis_extrema(x: np.ndarray, h: float) -> tuple[list[int], list[float]]:
    """Confirmed extrema (indexes into x, the first sample first) and the signed legs between
    them: a reversal must exceed h to confirm an extreme; the last leg runs to the last extreme."""
    if len(x) < 2:
        return [0] if len(x) else [], []
    tp = turning_points(x)  # extrema only: the loop runs over few points
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


def hysteresis_legs(x: np.ndarray, h: float) -> list[float]:
    """Signed legs between confirmed extrema: a reversal must exceed h to confirm an extreme."""
    return hysteresis_extrema(x, h)[1]


def cumulative_gain_loss(x: np.ndarray, ext: list[int], legs: list[float]) -> tuple[np.ndarray, np.ndarray]:
    """Gain and loss from the start up to each point of x, along the hysteresis legs.

    Inside a leg the progress is the running extreme of x clipped to the leg (monotone, never
    counts a wiggle below the hysteresis twice); before the first and after the last extreme
    nothing is counted. So any range's gain is a difference of two values, and the ranges of a
    partition (splits, laps) add up to the activity's gain exactly."""
    if not legs:
        return np.zeros(len(x)), np.zeros(len(x))
    return _cumulative_gain_loss(
        np.ascontiguousarray(x, dtype=float), np.asarray(ext, dtype=np.int64), np.asarray(legs, dtype=float)
    )


@kernel
def _cumulative_gain_loss(x: np.ndarray, ext: np.ndarray, legs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One walk along the legs (compiled: a running maximum that restarts at every leg)."""
    n = len(x)
    up = np.zeros(n)
    down = np.zeros(n)
    gained = 0.0
    lost = 0.0
    for s in range(len(legs)):
        v0 = x[ext[s]]
        leg = legs[s]
        lo = min(v0, v0 + leg)
        hi = max(v0, v0 + leg)
        prog = 0.0
        for i in range(ext[s] + 1, ext[s + 1] + 1):
            p = (min(max(x[i], lo), hi) - v0) * (1.0 if leg > 0 else -1.0 if leg < 0 else 0.0)
            prog = max(prog, p) if i > ext[s] + 1 else p
            up[i] = gained + (prog if leg > 0 else 0.0)
            down[i] = lost + (prog if leg < 0 else 0.0)
        if leg > 0:
            gained += leg
        elif leg < 0:
            lost -= leg
    last = ext[len(ext) - 1]
    for i in range(last + 1, n):
        up[i] = up[last]
        down[i] = down[last]
    return up, down


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


def smooth_time(t: np.ndarray, x: np.ndarray, window: float) -> np.ndarray:
    """Centred moving average over `window` seconds on an irregular time axis: the mean of the
    piecewise-linear profile over [t - w/2, t + w/2] (clipped at the ends), via its integral."""
    if window <= 0 or len(x) < 3:
        return x.copy()
    return _smooth_time(np.ascontiguousarray(t, dtype=float), np.ascontiguousarray(x, dtype=float), float(window))


@kernel
def _smooth_time(t: np.ndarray, x: np.ndarray, window: float) -> np.ndarray:
    """The exact integral of the profile from t[0] (quadratic inside a step) at both ends of every
    sample's window; the ends only move forward, so the step holding each is found by walking.
    Compiled: a window per sample is a loop numpy runs as a dozen whole-array passes."""
    n = len(x)
    area = np.empty(n)
    slope = np.empty(n - 1)
    area[0] = 0.0
    for i in range(n - 1):
        dt = t[i + 1] - t[i]
        slope[i] = (x[i + 1] - x[i]) / dt
        area[i + 1] = area[i] + 0.5 * (x[i + 1] + x[i]) * dt
    out = np.empty(n)
    klo = 0
    khi = 0
    for i in range(n):
        lo = max(t[i] - window / 2, t[0])
        hi = min(t[i] + window / 2, t[n - 1])
        span = hi - lo
        if not span > 0:
            out[i] = x[i]
            continue
        while klo + 1 < n - 1 and t[klo + 1] <= lo:
            klo += 1
        while khi + 1 < n - 1 and t[khi + 1] <= hi:
            khi += 1
        h = lo - t[klo]
        a_lo = area[klo] + x[klo] * h + 0.5 * slope[klo] * h * h
        h = hi - t[khi]
        a_hi = area[khi] + x[khi] * h + 0.5 * slope[khi] * h * h
        out[i] = (a_hi - a_lo) / span
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
        idx = idx[keep]
    stats.ascent = float((a - np.minimum.accumulate(a)).max())
    stats.descent = float((np.maximum.accumulate(a) - a).max())
    ext, legs = hysteresis_extrema(a, hysteresis)
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
