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
    ext, legs = _hysteresis(np.ascontiguousarray(x, dtype=float), float(h))
    return ext.tolist(), legs.tolist()


@kernel
def _hysteresis(x: np.ndarray, h: float) -> tuple[np.ndarray, np.ndarray]:
    """`hysteresis_extrema` on len(x) >= 2, over the turning points (`turning_points`: the first,
    the last, and the end of the last step before every change of the sign of the step).
    Compiled: on a noisy profile the turning points are a large part of the samples, and the
    Python loop over them was most of a long activity's elevation time."""
    n = len(x)
    tp = np.empty(n, dtype=np.int64)
    m = 0
    tp[m] = 0
    m += 1
    if n > 2:
        prev_sign = 0.0  # none yet (a nonzero step's sign is never 0)
        last = -1  # the last nonzero step
        for i in range(n - 1):
            d = x[i + 1] - x[i]
            if d != 0:
                sg = np.sign(d)
                # the extremum sits at the end of the last nonzero step before the change
                if prev_sign != 0.0 and sg != prev_sign and last + 1 < n - 1:
                    tp[m] = last + 1
                    m += 1
                prev_sign = sg
                last = i
    tp[m] = n - 1
    m += 1
    ext = np.empty(m, dtype=np.int64)
    legs = np.empty(m)
    ne = 0
    nl = 0
    ext[ne] = tp[0]
    ne += 1
    anchor = x[tp[0]]
    cand = anchor
    ci = 0
    direction = 0
    for k in range(1, m):
        v = x[tp[k]]
        if direction == 0:
            if v - anchor > h:
                direction, cand, ci = 1, v, k
            elif anchor - v > h:
                direction, cand, ci = -1, v, k
        elif direction == 1:
            if v > cand:
                cand, ci = v, k
            elif cand - v > h:
                legs[nl] = cand - anchor
                nl += 1
                ext[ne] = tp[ci]
                ne += 1
                anchor, cand, ci, direction = cand, v, k, -1
        else:
            if v < cand:
                cand, ci = v, k
            elif v - cand > h:
                legs[nl] = cand - anchor
                nl += 1
                ext[ne] = tp[ci]
                ne += 1
                anchor, cand, ci, direction = cand, v, k, 1
    if direction != 0:
        legs[nl] = cand - anchor
        nl += 1
        ext[ne] = tp[ci]
        ne += 1
    return ext[:ne].copy(), legs[:nl].copy()


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
    alt = np.ascontiguousarray(alt, dtype=float)
    n = len(alt)
    tt = np.arange(n, dtype=float) if t is None else np.ascontiguousarray(t, dtype=float)
    use_paused = paused is not None and len(paused) > 0
    r = _elevation(
        alt,
        tt,
        np.ascontiguousarray(paused, dtype=np.bool_) if use_paused else _NO_PAUSE,
        use_paused,
        float(hysteresis),
        float(smoothing),
    )
    found, lo, hi, net, ascent, descent, idx, legs, cum_gain, cum_loss, gain, loss, climb, drop = r
    if not found:
        return ElevationStats()
    return ElevationStats(
        gain=gain,
        loss=loss,
        min=lo,
        max=hi,
        max_climb=climb,
        max_descent=drop,
        ascent=ascent,
        descent=descent,
        net=net,
        legs=legs.tolist(),
        index=idx,
        cum_gain=cum_gain,
        cum_loss=cum_loss,
    )


_NO_PAUSE = np.zeros(0, dtype=np.bool_)


@kernel
def _elevation(
    alt: np.ndarray, t: np.ndarray, paused: np.ndarray, use_paused: bool, hysteresis: float, smoothing: float
) -> tuple:
    """`elevation_stats` in one compiled call (the numpy form: ~40 array calls and a Python loop
    over the turning points): the known samples, pause jumps removed, the timer axis, smoothing,
    ascent/descent, hysteresis legs and their running gain/loss, each value by the same
    operations in the same order as before (sums in sequence, as cumsum and Python's sum)."""
    n = len(alt)
    count = 0
    lo = np.inf
    hi = -np.inf
    for i in range(n):
        v = alt[i]
        if np.isfinite(v):
            count += 1
            lo = min(lo, v)
            hi = max(hi, v)
    empty_i = np.zeros(0, dtype=np.int64)
    empty_f = np.zeros(0)
    if count == 0:
        return False, np.nan, np.nan, 0.0, 0.0, 0.0, empty_i, empty_f, empty_f, empty_f, 0.0, 0.0, 0.0, 0.0
    idx = np.empty(count, dtype=np.int64)
    a = np.empty(count)
    k = 0
    for i in range(n):
        if np.isfinite(alt[i]):
            idx[k] = i
            a[k] = alt[i]
            k += 1
    # the timer axis at every sample (paused steps count 0), cumsum's order
    timer_all = np.empty(n)
    if n:
        timer_all[0] = 0.0
    for i in range(n - 1):
        step = 0.0 if (use_paused and paused[i]) else t[i + 1] - t[i]
        timer_all[i + 1] = timer_all[i] + step if i else step
    if use_paused:
        # a step between kept samples that spans a pause: drop its altitude change
        cp = np.empty(n, dtype=np.int64)
        cp[0] = 0
        for i in range(n - 1):
            cp[i + 1] = cp[i] + (1 if paused[i] else 0)
        acc = 0.0
        shifted = np.empty(count)
        shifted[0] = a[0] - 0.0
        for j in range(count - 1):
            jump = a[j + 1] - a[j] if cp[idx[j + 1]] - cp[idx[j]] > 0 else 0.0
            acc = acc + jump if j else jump
            shifted[j + 1] = a[j + 1] - acc
        a = shifted
    net = a[count - 1] - a[0]
    timer = np.empty(count)
    for j in range(count):
        timer[j] = timer_all[idx[j]]
    if smoothing > 0 and count >= 3:
        # drop duplicate timer instants (across pauses) so the axis strictly increases
        kept = 1
        for j in range(count - 1):
            if timer[j + 1] - timer[j] > 0:
                kept += 1
        tk = np.empty(kept)
        ak = np.empty(kept)
        ik = np.empty(kept, dtype=np.int64)
        tk[0] = timer[0]
        ak[0] = a[0]
        ik[0] = idx[0]
        q = 1
        for j in range(count - 1):
            if timer[j + 1] - timer[j] > 0:
                tk[q] = timer[j + 1]
                ak[q] = a[j + 1]
                ik[q] = idx[j + 1]
                q += 1
        a = _smooth_time(tk, ak, smoothing) if kept >= 3 else ak
        idx = ik
    m = len(a)
    ascent = -np.inf
    descent = -np.inf
    run_min = a[0]
    run_max = a[0]
    for j in range(m):
        run_min = min(run_min, a[j])
        run_max = max(run_max, a[j])
        ascent = max(ascent, a[j] - run_min)
        descent = max(descent, run_max - a[j])
    if m >= 2:
        ext, legs = _hysteresis(a, hysteresis)
    else:
        ext = np.zeros(1, dtype=np.int64)
        legs = empty_f
    if len(legs):
        cum_gain, cum_loss = _cumulative_gain_loss(a, ext, legs)
    else:
        cum_gain = np.zeros(m)
        cum_loss = np.zeros(m)
    gain = 0.0
    loss = 0.0
    climb = 0.0
    drop = 0.0
    for v in legs:
        if v > 0:
            gain += v
            climb = max(climb, v)
        elif v < 0:
            loss += -v
            drop = max(drop, -v)
    return True, lo, hi, net, ascent, descent, idx, legs, cum_gain, cum_loss, gain, loss, climb, drop
