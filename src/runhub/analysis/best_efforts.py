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
    """(elapsed seconds, start clock, end clock) of the fastest `length` metres, or None."""
    if len(d) < 2 or d[-1] - d[0] < length - 1e-9:
        return None
    step = np.diff(d) > 0
    best = None
    # family 1: windows starting at a sample where distance starts to grow
    s = np.flatnonzero(step)
    k = np.searchsorted(d, d[s] + length, "left")
    ok = k < len(d)
    s, k = s[ok], k[ok]
    if len(s):
        t_end = t[k - 1] + (d[s] + length - d[k - 1]) / (d[k] - d[k - 1]) * (t[k] - t[k - 1])
        dt1 = t_end - t[s]
        if ceiling:
            dt1 = np.where(dt1 < length / ceiling, np.inf, dt1)
        i = int(dt1.argmin())
        if np.isfinite(dt1[i]):
            best = (float(dt1[i]), float(t[s[i]]), float(t_end[i]))
    # family 2: windows ending at a sample reached by a growing step
    e = np.flatnonzero(step) + 1
    x = d[e] - length
    ok = x >= d[0]
    e, x = e[ok], x[ok]
    if len(e):
        k = np.clip(np.searchsorted(d, x, "right"), 1, len(d) - 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = np.where(d[k] > d[k - 1], (x - d[k - 1]) / (d[k] - d[k - 1]), 0.0)
        t_start = t[k - 1] + frac * (t[k] - t[k - 1])
        dt2 = t[e] - t_start
        if ceiling:
            dt2 = np.where(dt2 < length / ceiling, np.inf, dt2)
        i = int(dt2.argmin())
        if np.isfinite(dt2[i]) and (best is None or dt2[i] < best[0]):
            best = (float(dt2[i]), float(t_start[i]), float(t[e[i]]))
    return best


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
