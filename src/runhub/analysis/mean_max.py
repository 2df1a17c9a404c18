"""Mean-max curves (algorithms.md section 6): the best average of a series over every duration.

Time-integrated, never sample-counted: each series becomes a cumulative integral E on a time
axis (piecewise linear between samples), and the best window of length d is the maximum of
E(a + d) - E(a). That maximum lies at a = tau_i or a = tau_i - d (section 1.3), so:

* when every axis instant is a whole second (1 Hz, smart recording, pauses: the usual case)
  E sampled on the 1 s grid holds every candidate, and a window is one vector subtraction;
* otherwise the two breakpoint families are evaluated exactly with `np.interp`.

Time base per metric (the references disagree, this is our choice, stated once):

* power: clock time, paused stretches count as zero power up to `PAUSE_BOUND` (1 h, as
  GoldenCheetah's zero-fill) each; NaN power is zero.
* speed: distance over clock time, pauses capped the same way (distance does not grow while
  paused, so a pause is zero speed), from the distance stream, never by averaging speeds.
* heart rate, cadence (and any other rate): paused time and NaN samples are removed from the
  axis (timer time).

Starts are returned as clock seconds since the activity start.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from runhub.analysis.timebase import TimeBase
from runhub.jit import kernel

PAUSE_BOUND = 3600.0

# SweatStack's default: 19 durations from 1 s to 6 h (the list itself is not published; these
# are the usual power-curve anchors).
DEFAULT_DURATIONS: tuple[int, ...] = (
    1,
    2,
    5,
    10,
    15,
    20,
    30,
    60,
    120,
    180,
    300,
    600,
    900,
    1200,
    1800,
    3600,
    7200,
    10800,
    21600,
)


def _build_grid() -> np.ndarray:
    """The fixed storage grid: SweatStack's "all" (1 s steps to 3 min, then 5, 10, 30, 60 s
    steps), continued with 300 s steps to 48 h. Contains every DEFAULT_DURATIONS entry."""
    parts = [
        np.arange(1, 181),
        np.arange(185, 601, 5),
        np.arange(610, 1801, 10),
        np.arange(1830, 3601, 30),
        np.arange(3660, 21601, 60),
        np.arange(21900, 172801, 300),
    ]
    return np.concatenate(parts).astype(np.int64)


GRID: np.ndarray = _build_grid()
ALL_LIMIT = 21600  # "all" answers the grid up to 6 h
# stored curves are NaN-padded to at least this many grid points (the 6 h grid) so that every
# activity's curve has the same width for the durations nearly all queries ask for
CURVE_MIN_LEN = int(np.searchsorted(GRID, ALL_LIMIT, "right"))


def grid_for(length: float) -> np.ndarray:
    """Grid durations an axis of `length` seconds can hold."""
    return GRID[: int(np.searchsorted(GRID, length, "right"))]


def parse_durations(spec: str | Sequence[int] | None) -> np.ndarray:
    """SweatStack's `durations` parameter: None -> defaults, "all" -> the grid, or a list."""
    if spec is None:
        return np.array(DEFAULT_DURATIONS, dtype=np.int64)
    if isinstance(spec, str):
        if spec.strip().lower() == "all":
            return GRID[GRID <= ALL_LIMIT]
        spec = [int(float(s)) for s in spec.split(",") if s.strip()]
    arr = np.array(sorted({int(d) for d in spec if int(d) > 0}), dtype=np.int64)
    return arr


def _dedupe(tau: np.ndarray, e: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keep the last of equal axis instants (after a removed pause) so the axis increases."""
    keep = np.concatenate((tau[1:] > tau[:-1], [True]))
    return tau[keep], e[keep], t[keep]


def window_max(tau: np.ndarray, e: np.ndarray, durations: Iterable[float]) -> tuple[np.ndarray, np.ndarray]:
    """For each duration d: max over a of (E(a+d) - E(a)) / d and its argmax a (axis units).
    E piecewise linear through (tau, e); tau non-decreasing. NaN where d exceeds the axis."""
    durs = np.array(durations if isinstance(durations, np.ndarray) else list(durations), dtype=float)
    return _window_max(np.ascontiguousarray(tau, dtype=float), np.ascontiguousarray(e, dtype=float), durs)


# ---------------------------------------------------------------------------- kernels
# Compiled (runhub.jit) because the exact search is a loop per duration that numpy can only run as
# one vector pass over the whole series per duration (624 durations x n samples: ~30 ms of a 4 h
# ride, half of its analysis). Compiled, the search skips most windows with bounds that are
# provably no larger than the best window of their block, so it reads a small part of the series
# per duration and returns exactly what the full scan returns (tests/analysis/test_mean_max_kernel.py
# checks it against the full scan, ties and rounding included).

BLOCK_COARSE = 128  # starts per coarse block; measured best of 32..256 on the corpus's long rides
BLOCK_FINE = 16


@kernel
def _window_bounds(g: np.ndarray, x: np.ndarray, block: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-block arrays for the bounds of `_best_windows` (blocks of `block` starts, aligned):
    gmax[p] = max g[p : p + block], gmin[j] = min g[j*block : (j+1)*block],
    xmax[p] = max x[p : p + block - 1], xmin[j] = min x[j*block : j*block + block - 1]
    (windows clipped at the end; an empty one is -inf / +inf)."""
    n = len(g)
    nb = (n + block - 1) // block
    gmax = np.empty(n)
    xmax = np.empty(n)
    gmin = np.empty(nb)
    xmin = np.empty(nb)
    for j in range(nb):
        lo = j * block
        m = np.inf
        for i in range(lo, min(lo + block, n)):
            m = min(m, g[i])
        gmin[j] = m
        m = np.inf
        for i in range(lo, min(lo + block - 1, n - 1)):
            m = min(m, x[i])
        xmin[j] = m
    _sliding_max(g, block, gmax)
    _sliding_max(x, block - 1, xmax)
    xmax[n - 1] = -np.inf
    return gmax, gmin, xmax, xmin


@kernel
def _sliding_max(v: np.ndarray, w: int, out: np.ndarray) -> None:
    """out[p] = max v[p : p + w] for p < len(v) (clipped at the end), in O(len(v)): per aligned
    chunk of w, a running max from the left and one from the right; a window meets at most two
    chunks, the right part of one and the left part of the next."""
    n = len(v)
    pre = np.empty(n)
    suf = np.empty(n)
    for lo in range(0, n, w):
        hi = min(lo + w, n)
        m = -np.inf
        for i in range(lo, hi):
            m = max(m, v[i])
            pre[i] = m
        m = -np.inf
        for i in range(hi - 1, lo - 1, -1):
            m = max(m, v[i])
            suf[i] = m
    for p in range(n):
        q = min(p + w - 1, n - 1)
        m = suf[p]
        if q // w != p // w:
            m = max(m, pre[q])
        out[p] = m


@kernel
def _block_bound(
    g: np.ndarray,
    gmax: np.ndarray,
    gmin: np.ndarray,
    xmax: np.ndarray,
    xmin: np.ndarray,
    k: int,
    d: int,
    block: int,
    margin: float,
) -> float:
    """An upper bound of g[i + d] - g[i] over the starts i in [k, k + block) (k aligned), the
    smaller of two:
    * the largest end value minus the smallest start value;
    * the first window plus (block - 1) times the largest rise of the series between a start
      increment and an end increment: g[i+d] - g[i] = g[k+d] - g[k] + sum over m in [k, i) of
      (x[m+d] - x[m]), x the increments; `margin` covers the rounding of that sum.
    The first is tight for short windows, the second for smooth series (heart rate)."""
    u = gmax[k + d] - gmin[k // block]
    r = xmax[k + d] - xmin[k // block]
    if r < 0.0:
        r = 0.0
    v = g[k + d] - g[k] + (block - 1) * r + margin
    return min(u, v)


@kernel
def _best_windows(g: np.ndarray, durations: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """max over i of g[i + d] - g[i] and its first argmax, for each whole d (1 <= d < len(g)).

    Exact branch and bound: for each duration the best start of the previous one gives a first
    candidate; a block of starts whose bound (`_block_bound`) cannot beat the best so far (or
    only tie it later in the series) is skipped, coarse blocks first, then fine blocks inside the
    survivors; only surviving fine blocks are evaluated window by window, with the same
    subtraction the full scan makes."""
    n = len(g)
    best = np.empty(len(durations))
    at = np.empty(len(durations), dtype=np.int64)
    if len(durations) < 8:  # the bounds cost a few passes over g: only worth it for many durations
        for kd in range(len(durations)):
            d = durations[kd]
            b = -np.inf
            for i in range(n - d):
                v = g[i + d] - g[i]
                if v > b:
                    b = v
                    at[kd] = i
            best[kd] = b
        return best, at
    x = np.empty(max(n - 1, 1))
    for i in range(n - 1):
        x[i] = g[i + 1] - g[i]
    scale = 0.0
    for i in range(n):
        scale = max(scale, abs(g[i]))
    c1, c2 = BLOCK_COARSE, BLOCK_FINE
    gmax1, gmin1, xmax1, xmin1 = _window_bounds(g, x, c1)
    gmax2, gmin2, xmax2, xmin2 = _window_bounds(g, x, c2)
    # rounding of g[k+d] - g[k] + sum of block - 1 increment differences, each within an ulp of
    # the scale: a few hundred ulps, a bound far above it (2**-52 = 2.2e-16)
    m1 = 1e-13 * scale * (c1 + 8)
    m2 = 1e-13 * scale * (c2 + 8)
    # a third bound for short windows: d times the largest increment the block's windows can hold
    # (x over [k, k + block + d - 2]); tight where the other two are loosest
    short1, short2 = 32, 16
    xwin1 = np.empty(n)
    xwin2 = np.empty(n)
    _sliding_max(x[: n - 1], c1 + short1 - 1, xwin1)
    _sliding_max(x[: n - 1], c2 + short2 - 1, xwin2)
    prev = 0
    for kd in range(len(durations)):
        d = durations[kd]
        last = n - 1 - d  # the last start with a whole window
        # first candidates: the previous duration's best window stretched to the right, to the
        # left, or both ways (the new best usually contains the old one)
        step = d - durations[kd - 1] if kd else 0
        bi = min(prev, last)
        b = g[bi + d] - g[bi]
        for c in (prev - step // 2, prev - step):
            c = min(max(c, 0), last)
            v = g[c + d] - g[c]
            if v > b or (v == b and c < bi):
                b = v
                bi = c
        for big in range(0, last + 1, c1):
            u = _block_bound(g, gmax1, gmin1, xmax1, xmin1, big, d, c1, m1)
            if d <= short1:
                u = min(u, d * xwin1[big] + m1)
            if u < b or (u == b and big >= bi):
                continue
            for k in range(big, min(big + c1, last + 1), c2):
                u = _block_bound(g, gmax2, gmin2, xmax2, xmin2, k, d, c2, m2)
                if d <= short2:
                    u = min(u, d * xwin2[k] + m2)
                if u < b or (u == b and k >= bi):
                    continue
                for i in range(k, min(k + c2, last + 1)):
                    v = g[i + d] - g[i]
                    if v > b or (v == b and i < bi):
                        b = v
                        bi = i
        best[kd] = b
        at[kd] = bi
        prev = bi
    return best, at


@kernel
def _interp(xp: np.ndarray, fp: np.ndarray, x: float, j: int) -> tuple[float, int]:
    """numpy.interp's value at x (same arithmetic, so the same bits), with j a search hint that
    only moves forward; returns (value, j). xp strictly increasing."""
    n = len(xp)
    if x < xp[0]:
        return fp[0], j
    if x >= xp[n - 1]:
        return fp[n - 1], j
    while j + 1 < n and xp[j + 1] <= x:
        j += 1
    while j > 0 and xp[j] > x:
        j -= 1
    if xp[j] == x:
        return fp[j], j
    slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j])
    return slope * (x - xp[j]) + fp[j], j


# The unit grid is searched when it holds at most this many seconds per sample (and a day more).
# On a grid of linear stretches (samples 50 s apart, interpolated) nearly every window ties with
# its neighbours to the last bits, the search can skip none, and a curve costs grid x durations:
# 86,400 samples 50 s apart over 50 days (an 864 KB FIT file, found by fuzzing) took 15 s a curve
# on the grid at 50 seconds per sample, and 1.6 s searched exactly at the samples' own instants.
SPARSE_STEPS = 16


@kernel
def _unit_grid(tau: np.ndarray, e: np.ndarray) -> tuple[np.ndarray, float]:
    """E on the whole seconds of the axis (numpy.interp's values) when every axis instant is a
    whole second (1 Hz, smart recording, pauses: the usual case), so that every candidate window
    of a whole duration starts on the grid; an empty array otherwise, or when the grid would be
    absurdly sparse. Returns (E on the grid, the grid's first second). tau strictly increasing."""
    n = len(tau)
    for i in range(n):
        if not abs(tau[i] - np.floor(tau[i] + 0.5)) < 1e-9:
            return np.empty(0), 0.0
    if tau[n - 1] - tau[0] > SPARSE_STEPS * n + 86400:
        return np.empty(0), 0.0
    first = np.floor(tau[0] + 0.5)
    g = np.empty(int(np.floor(tau[n - 1] + 0.5) - first) + 1)
    j = 0
    for q in range(len(g)):
        g[q], j = _interp(tau, e, first + q, j)
    return g, first


@kernel
def _exact_windows(tau: np.ndarray, e: np.ndarray, durations: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact continuous-time best window on an irregular axis (tau strictly increasing), for
    each duration: the maximum of E(a + d) - E(a) lies at a = tau_i or a = tau_i - d, so both
    families are evaluated (in that order; the first maximum wins), a clipped to
    [tau_0, tau_last - d]. Returns (best / d, a)."""
    n = len(tau)
    t0, t1 = tau[0], tau[n - 1]
    vals = np.empty(len(durations))
    starts = np.empty(len(durations))
    for kd in range(len(durations)):
        d = durations[kd]
        hi = t1 - d
        best = -np.inf
        best_a = t0
        for family in range(2):
            ja = 0
            jb = 0
            for i in range(n):
                a = tau[i] - d if family else tau[i]
                if a < t0 - 1e-12 or a > hi + 1e-12:
                    continue
                a = min(max(a, t0), hi)
                eb, jb = _interp(tau, e, a + d, jb)
                ea, ja = _interp(tau, e, a, ja)
                f = eb - ea
                if f > best:
                    best = f
                    best_a = a
        vals[kd] = best / d
        starts[kd] = best_a
    return vals, starts


_POLICY = {"speed": 0, "power": 1}  # any other metric: a rate (2)
GRID_SECONDS = GRID.astype(float)


def axis_for(tb: TimeBase, metric: str, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(axis at each sample, cumulative integral at each sample) under the metric's policy.
    For speed pass the cumulative distance (NaN-free) as x."""
    return _axis(_POLICY.get(metric, 2), tb.dt, tb.paused, tb.weights, np.ascontiguousarray(x, dtype=float))


@kernel
def _axis(policy: int, dt: np.ndarray, paused: np.ndarray, weights: np.ndarray, x: np.ndarray) -> tuple:
    """The three policies of the module docstring in one pass (sequential sums, as np.cumsum):
    speed (0) and power (1) run on clock time with pauses capped at PAUSE_BOUND, zero while
    paused (speed: x is the cumulative distance; power: NaN counts as zero); a rate (2) runs on
    the time its known samples stand for."""
    n = len(x)
    tau = np.empty(n)
    e = np.empty(n)
    if n == 0:
        return tau, e
    tau[0] = 0.0
    e[0] = 0.0
    for i in range(n - 1):
        if policy == 2:
            v = x[i + 1]
            ok = np.isfinite(v) and weights[i] > 0
            step = weights[i] if ok else 0.0
            inc = (v if ok else 0.0) * step
        else:
            step = min(dt[i], PAUSE_BOUND) if paused[i] else dt[i]
            if policy == 0:
                inc = 0.0 if paused[i] else x[i + 1] - x[i]
            else:
                v = x[i + 1]
                inc = (0.0 if np.isnan(v) else v) * weights[i]
        tau[i + 1] = tau[i] + step
        e[i + 1] = e[i] + inc
    return tau, e


@kernel
def _last_of_equal(tau: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(tau, v) with only the last of equal axis instants (a removed pause leaves several): an
    axis that strictly increases. The arrays themselves when it does already."""
    n = len(tau)
    kept = 0
    for i in range(n):
        if i == n - 1 or tau[i + 1] > tau[i]:
            kept += 1
    if kept == n:
        return tau, v
    tk = np.empty(kept)
    vk = np.empty(kept)
    k = 0
    for i in range(n):
        if i == n - 1 or tau[i + 1] > tau[i]:
            tk[k] = tau[i]
            vk[k] = v[i]
            k += 1
    return tk, vk


@kernel
def _window_max(tau: np.ndarray, e: np.ndarray, durs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`window_max`: the last of equal axis instants kept, then the whole durations searched on
    the unit grid (`_best_windows`) when there is one, every other duration exactly
    (`_exact_windows`). One compiled call: the numpy glue around the two searches cost ~15 array
    calls per curve, four curves per activity."""
    m = len(durs)
    vals = np.full(m, np.nan)
    starts = np.full(m, np.nan)
    n0 = len(tau)
    if n0 < 2:
        return vals, starts
    length = tau[n0 - 1] - tau[0]
    tau, e = _last_of_equal(tau, e)
    g, g0 = _unit_grid(tau, e)
    n = len(g)
    whole = np.zeros(m, dtype=np.bool_)
    if n:
        for k in range(m):
            d = durs[k]
            whole[k] = d == np.floor(d) and d >= 1 and d <= n - 1
    other = 0
    for k in range(m):
        if not whole[k] and durs[k] > 0 and durs[k] <= length:
            other += 1
    if other:
        idx = np.empty(other, dtype=np.int64)
        j = 0
        for k in range(m):
            if not whole[k] and durs[k] > 0 and durs[k] <= length:
                idx[j] = k
                j += 1
        ov, os = _exact_windows(tau, e, durs[idx])
        for j in range(other):
            vals[idx[j]] = ov[j]
            starts[idx[j]] = os[j]
    nw = 0
    for k in range(m):
        if whole[k]:
            nw += 1
    if nw:
        idx = np.empty(nw, dtype=np.int64)
        dk = np.empty(nw, dtype=np.int64)
        j = 0
        for k in range(m):
            if whole[k]:
                idx[j] = k
                dk[j] = np.int64(durs[k])
                j += 1
        best, at = _best_windows(g, dk)
        for j in range(nw):
            vals[idx[j]] = best[j] / durs[idx[j]]
            starts[idx[j]] = g0 + at[j]  # the first best window (earliest start) on ties
    return vals, starts


@kernel
def _mean_max(
    policy: int,
    dt: np.ndarray,
    paused: np.ndarray,
    weights: np.ndarray,
    x: np.ndarray,
    t: np.ndarray,
    durs: np.ndarray,
    up_to_length: bool,
) -> tuple[int, np.ndarray, np.ndarray]:
    """`mean_max` in one compiled call: the axis, the durations up to its length (`grid_for`,
    when `up_to_length`: durs is the grid), `_window_max`, and the starts mapped to clock
    seconds. Returns (durations used, values, starts)."""
    tau, e = _axis(policy, dt, paused, weights, x)
    n = len(tau)
    if n == 0:
        raise IndexError("mean_max of an empty series")
    count = len(durs)
    if up_to_length:
        count = np.searchsorted(durs, tau[n - 1] - tau[0], side="right")
    vals, starts = _window_max(tau, e, durs[:count])
    # axis -> clock: the later sample of equal axis instants (a window starts after a pause)
    td, tt = _last_of_equal(tau, t)
    clock = np.empty(count)
    for k in range(count):
        a = starts[k]
        clock[k] = _interp_at(td, tt, a) - t[0] if np.isfinite(a) else np.nan
    return count, vals, clock


@kernel
def _interp_at(xp: np.ndarray, fp: np.ndarray, x: float) -> float:
    """numpy.interp at one finite x (the same arithmetic, so the same bits), by bisection; xp
    strictly increasing."""
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


def mean_max(
    tb: TimeBase, metric: str, x: np.ndarray, durations: Iterable[float] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(durations, best averages, start clock seconds) of one series.

    `durations` None: the storage grid up to the axis length. Durations longer than the axis
    come back NaN (SweatStack leaves them out)."""
    grid = durations is None
    durs = GRID_SECONDS if grid else np.array(list(durations), dtype=float)
    count, vals, clock = _mean_max(
        _POLICY.get(metric, 2),
        tb.dt,
        tb.paused,
        tb.weights,
        np.ascontiguousarray(x, dtype=float),
        np.ascontiguousarray(tb.t, dtype=float),
        durs,
        grid,
    )
    return (durs[:count].copy() if grid else durs), vals, clock


def best_rates(tau: np.ndarray, e: np.ndarray, lo: np.ndarray, hi: np.ndarray, window: float) -> np.ndarray:
    """For each sample range [lo_k, hi_k]: the best (E(a + w) - E(a)) / w over the windows inside
    it, w = min(window, the range's length) (E linear through (tau, e), tau non-decreasing); NaN
    for a range of no length. One pass per range: max speed of an activity and of each lap."""
    return _best_rates(
        np.ascontiguousarray(tau, dtype=float),
        np.ascontiguousarray(e, dtype=float),
        np.asarray(lo, dtype=np.int64),
        np.asarray(hi, dtype=np.int64),
        float(window),
    )


def paused_rates(
    paused: np.ndarray, dt: np.ndarray, x: np.ndarray, lo: np.ndarray, hi: np.ndarray, window: float
) -> np.ndarray:
    """`best_rates` of the cumulative `x` on the timer axis (paused intervals cut out of both the
    axis and x): the max speed of an activity and of its laps."""
    return _paused_rates(paused, dt, x, lo.astype(np.int64), hi.astype(np.int64), float(window))


@kernel
def _paused_rates(
    paused: np.ndarray, dt: np.ndarray, x: np.ndarray, lo: np.ndarray, hi: np.ndarray, window: float
) -> np.ndarray:
    """The axis and integral as concatenate(([0.0], cumsum(where(paused, 0.0, step)))) make them
    (same sums, in order), then `_best_rates`; compiled, one call instead of eight array passes."""
    n = len(x)
    tau = np.empty(n)
    e = np.empty(n)
    if n:
        tau[0] = 0.0
        e[0] = 0.0
    for i in range(n - 1):
        s = 0.0 if paused[i] else dt[i]
        v = 0.0 if paused[i] else x[i + 1] - x[i]
        # cumsum starts from the first value itself (not 0.0 + it: the sign of a zero stays)
        tau[i + 1] = tau[i] + s if i else s
        e[i + 1] = e[i] + v if i else v
    return _best_rates(tau, e, lo, hi, window)


@kernel
def _best_rates(tau: np.ndarray, e: np.ndarray, lo: np.ndarray, hi: np.ndarray, window: float) -> np.ndarray:
    """Exact, as `_exact_windows` (breakpoints a = tau_i and tau_i - w), on each range; equal
    instants (a removed pause) count once, the last, as `_dedupe` keeps them."""
    out = np.empty(len(lo))
    for r in range(len(lo)):
        i0, i1 = lo[r], hi[r]
        t0, t1 = tau[i0], tau[i1]
        w = min(window, t1 - t0)
        if w <= 0:
            out[r] = np.nan
            continue
        best = -np.inf
        for family in range(2):
            ja = i0
            jb = i0
            for i in range(i0, i1 + 1):
                a = tau[i] - w if family else tau[i]
                if a < t0 - 1e-12 or a > t1 - w + 1e-12:
                    continue
                # t1 - w may round to just below t0 (w = t1 - t0): a stays on the range
                a = max(min(a, t1 - w), t0)
                eb, jb = _interp_range(tau, e, a + w, jb, i1)
                ea, ja = _interp_range(tau, e, a, ja, i1)
                best = max(best, eb - ea)
        out[r] = best / w
    return out


@kernel
def _interp_range(xp: np.ndarray, fp: np.ndarray, x: float, j: int, end: int) -> tuple[float, int]:
    """`_interp` on xp[:end + 1] from a hint j inside it; equal instants resolve to the last."""
    if x >= xp[end]:
        return fp[end], j
    while j + 1 <= end and xp[j + 1] <= x:
        j += 1
    if xp[j] == x:
        return fp[j], j
    slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j])
    return slope * (x - xp[j]) + fp[j], j


def window_min(tau: np.ndarray, e: np.ndarray, durations: Iterable[float]) -> tuple[np.ndarray, np.ndarray]:
    """The lowest average over each duration (e.g. the least time for a distance when E is time
    on a distance axis; Runalyze's sub-segment minimisation) and its start: window_max of -E."""
    vals, starts = window_max(tau, -np.asarray(e, dtype=float), durations)
    return -vals, starts


def best_intervals(
    tb: TimeBase, metric: str, x: np.ndarray, duration: float, number: int, gap: float = 0.0
) -> list[tuple[float, float]]:
    """The `number` best non-overlapping windows of `duration` s, best first, as (start clock s
    since the activity start, average): the best window, then the best one that neither overlaps
    it nor comes closer than `gap` s, and so on (sweatpy's multiple_best_intervals keeps one
    sample between intervals: gap = 1 s at 1 Hz). Same time base per metric as `mean_max`.

    Exact: f(a) = E(a + d) - E(a) is piecewise linear with breakpoints at axis instants and
    instants - d, so under the exclusion zones its maximum is at a breakpoint or a zone edge;
    both families are evaluated."""
    tau, e = axis_for(tb, metric, x)
    td, ed, tt = _dedupe(tau, e, tb.t)
    d = float(duration)
    lo, hi = td[0], td[-1] - d
    if hi < lo:
        return []
    cand = np.concatenate((td, td - d))
    cand = np.unique(cand[(cand >= lo) & (cand <= hi)])
    blocked: list[tuple[float, float]] = []
    out: list[tuple[float, float]] = []
    for _ in range(number):
        if blocked:  # zone edges are candidates too
            edges = np.array([v for b in blocked for v in b])
            cand = np.unique(np.concatenate((cand, edges[(edges >= lo) & (edges <= hi)])))
        ok = np.ones(len(cand), dtype=bool)
        for b0, b1 in blocked:
            ok &= (cand <= b0) | (cand >= b1)
        if not ok.any():
            break
        a = cand[ok]
        f = np.interp(a + d, td, ed) - np.interp(a, td, ed)
        i = int(f.argmax())
        start = float(a[i])
        out.append((float(np.interp(start, td, tt) - tb.t[0]), float(f[i] / d)))
        blocked.append((start - d - gap, start + d + gap))
    return out
