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
    durs = np.asarray(list(durations), dtype=float)
    vals = np.full(len(durs), np.nan)
    starts = np.full(len(durs), np.nan)
    if len(tau) < 2:
        return vals, starts
    t0, length = tau[0], tau[-1] - tau[0]
    if t0 == 0 and length == len(tau) - 1 and np.array_equal(tau, np.arange(len(tau))):
        # already a plain 1 s axis (1 Hz, no gap, no pause): E is its own grid
        integral_axis, grid, g = True, tau, e
    else:
        keep = np.concatenate((tau[1:] > tau[:-1], [True]))
        tau, e = tau[keep], e[keep]
        integral_axis = np.all(np.abs(tau - np.round(tau)) < 1e-9) and length <= 50 * len(tau) + 86400
        if integral_axis:
            grid = np.arange(round(t0), round(tau[-1]) + 1, dtype=float)
            g = np.interp(grid, tau, e)
    if integral_axis:
        n = len(g)
        whole = (durs == np.floor(durs)) & (durs >= 1) & (durs <= n - 1)
        for k in np.flatnonzero(~whole & (durs > 0) & (durs <= length)).tolist():
            vals[k], starts[k] = _exact_one(tau, e, float(durs[k]))
        ks = np.flatnonzero(whole)
        best, at = _scan(g, durs[ks].astype(np.int64).tolist())
        vals[ks] = best / durs[ks]
        starts[ks] = grid[at]  # the first best window (earliest start) on ties
        return vals, starts
    for k, d in enumerate(durs):
        if 0 < d <= length:
            vals[k], starts[k] = _exact_one(tau, e, d)
    return vals, starts


def _scan(g: np.ndarray, durations: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """max_a g[a + d] - g[a] and its first argmax for each whole d (1 <= d < len(g)).

    The hot loop of every mean-max curve: one vector subtraction into a reused buffer and one
    argmax per duration, nothing else per iteration (numpy call overhead is a third of the
    time on a 1 h activity)."""
    n = len(g)
    best = np.empty(len(durations))
    at = np.empty(len(durations), dtype=np.int64)
    buf = np.empty(n)
    sub = np.subtract
    for k, d in enumerate(durations):
        m = n - d
        w = sub(g[d:], g[:m], out=buf[:m])
        i = w.argmax()
        best[k] = w[i]
        at[k] = i
    return best, at


def _exact_one(tau: np.ndarray, e: np.ndarray, d: float) -> tuple[float, float]:
    """Exact continuous-time best window on an irregular axis: candidates a = tau_i, tau_i - d."""
    t0, t1 = tau[0], tau[-1]
    a = np.concatenate((tau, tau - d))
    a = a[(a >= t0 - 1e-12) & (a <= t1 - d + 1e-12)]
    a = np.clip(a, t0, t1 - d)
    f = np.interp(a + d, tau, e) - np.interp(a, tau, e)
    i = int(f.argmax())
    return float(f[i] / d), float(a[i])


def axis_for(tb: TimeBase, metric: str, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(axis at each sample, cumulative integral at each sample) under the metric's policy.
    For speed pass the cumulative distance (NaN-free) as x."""
    if metric == "speed":
        step = np.where(tb.paused, np.minimum(tb.dt, PAUSE_BOUND), tb.dt)
        inc = np.diff(x)
        inc = np.where(tb.paused, 0.0, inc)
    elif metric == "power":
        step = np.where(tb.paused, np.minimum(tb.dt, PAUSE_BOUND), tb.dt)
        v = np.nan_to_num(x[1:], nan=0.0)
        inc = v * tb.weights
    else:
        v = x[1:]
        ok = np.isfinite(v) & (tb.weights > 0)
        step = np.where(ok, tb.weights, 0.0)
        inc = np.where(ok, v, 0.0) * step
    tau = np.concatenate(([0.0], np.cumsum(step)))
    e = np.concatenate(([0.0], np.cumsum(inc)))
    return tau, e


def mean_max(
    tb: TimeBase, metric: str, x: np.ndarray, durations: Iterable[float] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(durations, best averages, start clock seconds) of one series.

    `durations` None: the storage grid up to the axis length. Durations longer than the axis
    come back NaN (SweatStack leaves them out)."""
    tau, e = axis_for(tb, metric, x)
    durs = grid_for(tau[-1] - tau[0]) if durations is None else np.asarray(list(durations), dtype=float)
    vals, starts = window_max(tau, e, durs)
    # axis -> clock: the later sample of equal axis instants (a window starts after a pause)
    td, _, tt = _dedupe(tau, e, tb.t)
    clock = np.where(np.isfinite(starts), np.interp(np.nan_to_num(starts), td, tt), np.nan) - tb.t[0]
    return np.asarray(durs, dtype=float), vals, clock


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
