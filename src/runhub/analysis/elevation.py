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
    n = len(x)
    up = np.zeros(n)
    down = np.zeros(n)
    if not legs:
        return up, down
    e = np.asarray(ext)
    lg = np.asarray(legs)
    vs = x[e[:-1]]
    lens = np.diff(e)
    seg = np.repeat(np.arange(len(lg)), lens)
    pos = np.arange(e[0] + 1, e[-1] + 1)
    lo = np.repeat(np.minimum(vs, vs + lg), lens)
    hi = np.repeat(np.maximum(vs, vs + lg), lens)
    sgn = np.sign(lg)[seg]
    prog = (np.clip(x[pos], lo, hi) - vs[seg]) * sgn  # in [0, |leg|]
    # segmented running max: offset each leg above every earlier one
    big = float(np.abs(lg).max()) + 1.0
    prog = np.maximum.accumulate(prog + seg * big) - seg * big
    before_up = np.concatenate(([0.0], np.cumsum(np.where(lg > 0, lg, 0.0))))[seg]
    before_down = np.concatenate(([0.0], np.cumsum(np.where(lg < 0, -lg, 0.0))))[seg]
    up[pos] = before_up + np.where(sgn > 0, prog, 0.0)
    down[pos] = before_down + np.where(sgn < 0, prog, 0.0)
    up[e[-1] + 1 :] = up[e[-1]]
    down[e[-1] + 1 :] = down[e[-1]]
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
    n = len(x)
    if window <= 0 or n < 3:
        return x.copy()
    dt = np.diff(t)
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = np.diff(x) / dt
    area = np.concatenate(([0.0], np.cumsum(0.5 * (x[1:] + x[:-1]) * dt)))
    regular = bool(np.all(dt == 1.0))

    def area_at(u: np.ndarray) -> np.ndarray:
        # exact integral from t[0] to u (quadratic inside a step); on a 1 s axis the step holding
        # u is floor(u - t0), the index searchsorted would find, without the search
        k = np.floor(u - t[0]).astype(np.intp) if regular else np.searchsorted(t, u, "right") - 1
        k = np.clip(k, 0, n - 2)
        h = u - t[k]
        return area[k] + x[k] * h + 0.5 * slope[k] * h * h

    lo = np.maximum(t - window / 2, t[0])
    hi = np.minimum(t + window / 2, t[-1])
    span = hi - lo
    ok = span > 0
    if ok.all():
        return (area_at(hi) - area_at(lo)) / span
    out = x.copy()
    out[ok] = (area_at(hi[ok]) - area_at(lo[ok])) / span[ok]
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
