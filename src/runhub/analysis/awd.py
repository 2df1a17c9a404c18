"""Accumulated work duration (SweatStack AWD, algorithms.md section 8): the time spent at or
above each intensity, AWD(v) = sum of w_i over samples with x_i >= v (pauses excluded).

Per activity: exact, from the samples sorted by intensity (`awd_exact`), or from the stored
time histogram (`awd_from_hist`, exact at every bin edge). Longitudinal (`longitudinal_awd`):
daily AWD = the sum of that day's activity histograms, then per intensity level:

* max    = the highest daily AWD (SweatStack's definition);
* hard   = the 90th percentile of daily AWD over the days that had training;
* medium = the median (50th percentile) of those days;
* easy   = the 25th percentile of those days.

SweatStack leaves hard/medium/easy undefined; ours are quantiles over training days (days
without a matching activity are not counted as zero), with numpy's default linear interpolation
between the ordered daily values, so "hard" is what a hard day of this athlete sustains and
"easy" an easy one. Durations are rounded to whole seconds. Documented for API users in
docs/metrics.md section 3.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

import numpy as np

LEVEL_QUANTILES = {"hard": 0.90, "medium": 0.50, "easy": 0.25}


def awd_exact(values: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(intensity levels descending, seconds at or above each level) from samples."""
    ok = np.isfinite(values) & (weights > 0)
    v, w = values[ok], weights[ok]
    order = np.argsort(-v, kind="stable")
    v, w = v[order], w[order]
    cum = np.cumsum(w)
    # one row per distinct level: time at or above it includes every tie
    last = np.concatenate((v[1:] != v[:-1], [True])) if len(v) else np.zeros(0, dtype=bool)
    return v[last], cum[last]


def awd_from_hist(hist: np.ndarray, bin_width: float) -> tuple[np.ndarray, np.ndarray]:
    """(levels k * bin_width ascending, seconds at or above each level)."""
    above = np.cumsum(hist[::-1])[::-1]
    return np.arange(len(hist)) * bin_width, above


def longitudinal_awd(rows: Iterable[tuple[int, date, np.ndarray]], bin_width: float) -> dict[str, Any]:
    """rows: (activity_id, local date, time histogram). Returns levels and max/hard/medium/easy
    AWD (seconds, int) per level, computed over daily sums."""
    days: dict[date, np.ndarray] = {}
    for _aid, day, hist in rows:
        h = np.asarray(hist, dtype=float)
        cur = days.get(day)
        if cur is None:
            days[day] = h.copy()
        else:
            n = max(len(cur), len(h))
            s = np.zeros(n)
            s[: len(cur)] += cur
            s[: len(h)] += h
            days[day] = s
    if not days:
        return {"levels": [], "max": [], "hard": [], "medium": [], "easy": []}
    n = max(len(h) for h in days.values())
    mat = np.zeros((len(days), n))
    for i, h in enumerate(days.values()):
        mat[i, : len(h)] = h
    above = np.cumsum(mat[:, ::-1], axis=1)[:, ::-1]  # daily AWD per level
    out: dict[str, Any] = {"levels": (np.arange(n) * bin_width).tolist()}
    out["max"] = np.rint(above.max(axis=0)).astype(int).tolist()
    for name, q in LEVEL_QUANTILES.items():
        out[name] = np.rint(np.quantile(above, q, axis=0)).astype(int).tolist()
    return out
