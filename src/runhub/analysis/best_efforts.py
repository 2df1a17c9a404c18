"""Best efforts: the fastest time over each standard distance (algorithms.md section 4).

Exact, no overshoot bias: with cumulative distance D piecewise linear in clock time, the time
to cover L starting at distance x, g(x) = T_first(x + L) - T_last(x), is piecewise linear in x
with breakpoints at x = D_i and x = D_j - L; both families are evaluated, vectorised. Elapsed
time, as Strava ("best efforts are always based on elapsed time"): a stop inside the window is
charged, a stop before its start is not.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from runhub.jit import kernel

# (Strava name, metres). Strava returns 805 / 1609 / 3219 rounded; we search the exact distance.
STANDARD_DISTANCES: tuple[tuple[str, float], ...] = (
    ("400m", 400.0),
    ("1/2 mile", 804.672),
    ("1K", 1000.0),
    ("1 mile", 1609.344),
    ("2 mile", 3218.688),
    ("5K", 5000.0),
    ("10K", 10000.0),
    ("15K", 15000.0),
    ("10 mile", 16093.44),
    ("20K", 20000.0),
    ("Half-Marathon", 21097.5),
    ("Marathon", 42195.0),
)

# Efforts faster than this average speed (m/s) are GPS artefacts, not running (world-record
# 400 m pace is ~9.3 m/s); they are not candidates.
SPEED_CEILING: dict[str, float] = {"running": 11.0, "walking": 11.0, "hiking": 11.0}


def best_effort(t: np.ndarray, d: np.ndarray, length: float, ceiling: float | None = None) -> tuple | None:
    """(elapsed seconds, start clock, end clock) of the fastest `length` metres, or None.
    `d` non-decreasing (cumulative distance)."""
    if len(d) < 2 or d[-1] - d[0] < length - 1e-9:
        return None
    el, a, b = _best_effort(np.ascontiguousarray(t, dtype=float), np.ascontiguousarray(d, dtype=float),
                            float(length), float(ceiling or 0.0))
    return None if not np.isfinite(el) else (el, a, b)


@kernel
def _best_effort(t: np.ndarray, d: np.ndarray, length: float, ceiling: float) -> tuple[float, float, float]:
    """Both families of candidate windows in one forward sweep each (d does not decrease, so the
    crossing searched for moves forward only); the first fastest window of family 1, replaced by
    a strictly faster one of family 2. A window faster than `ceiling` (m/s, 0: none) is no
    candidate. (nan, nan, nan) when none."""
    n = len(d)
    floor_time = length / ceiling if ceiling > 0 else -np.inf
    best, best_a, best_b = np.inf, np.nan, np.nan
    # family 1: windows starting at a sample where distance starts to grow; the end is where
    # distance first reaches d[s] + length (linear inside the step)
    k = 0
    for s in range(n - 1):
        if not d[s + 1] > d[s]:
            continue
        target = d[s] + length
        while k < n and d[k] < target:
            k += 1
        if k >= n:
            break
        t_end = t[k - 1] + (target - d[k - 1]) / (d[k] - d[k - 1]) * (t[k] - t[k - 1])
        dt = t_end - t[s]
        if dt < floor_time:
            dt = np.inf
        if dt < best:
            best, best_a, best_b = dt, t[s], t_end
    # family 2: windows ending at a sample reached by a growing step; the start is where distance
    # last stood at d[e] - length
    best2, a2, b2 = np.inf, np.nan, np.nan
    k = 1
    for e in range(1, n):
        if not d[e] > d[e - 1]:
            continue
        x = d[e] - length
        if x < d[0]:
            continue
        while k < n - 1 and d[k] <= x:
            k += 1
        frac = (x - d[k - 1]) / (d[k] - d[k - 1]) if d[k] > d[k - 1] else 0.0
        t_start = t[k - 1] + frac * (t[k] - t[k - 1])
        dt = t[e] - t_start
        if dt < floor_time:
            dt = np.inf
        if dt < best2:
            best2, a2, b2 = dt, t_start, t[e]
    if best2 < best:
        return best2, a2, b2
    if best < np.inf:
        return best, best_a, best_b
    return np.nan, np.nan, np.nan


def best_efforts(
    t: np.ndarray,
    dist: np.ndarray,
    sport: str = "running",
    moving_cum: np.ndarray | None = None,
    distances: tuple[tuple[str, float], ...] = STANDARD_DISTANCES,
) -> list[dict[str, Any]]:
    """Every standard distance the activity covers: name, distance, elapsed and moving time,
    start/end clock offsets and the enclosing sample indexes (Strava's start_index/end_index)."""
    ceiling = SPEED_CEILING.get(sport.split(".")[0])
    d = np.maximum.accumulate(dist)
    out = []
    for name, length in distances:
        r = best_effort(t, d, length, ceiling)
        if r is None:
            continue
        el, a, b = r
        i0 = int(np.searchsorted(t, a + 1e-9, "right") - 1)
        i1 = int(min(np.searchsorted(t, b - 1e-9, "left"), len(t) - 1))
        moving = float(np.interp(b, t, moving_cum) - np.interp(a, t, moving_cum)) if moving_cum is not None else None
        out.append(
            {
                "name": name,
                "distance": length,
                "elapsed_time": el,
                "moving_time": moving,
                "start_time": a - float(t[0]),
                "end_time": b - float(t[0]),
                "start_index": i0,
                "end_index": i1,
            }
        )
    return out
