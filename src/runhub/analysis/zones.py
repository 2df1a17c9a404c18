"""Time in zones (algorithms.md section 5), from a stored time histogram.

Per activity we store a histogram of time (backward weights, pauses and NaN out) per unit bin:
1 bpm for heart rate, 1 W for power, 0.01 m/s for speed. Zones depend on athlete settings that
change (max/resting HR, FTP), so zone times are recomputed from the histogram at read time
without the streams; the same histograms give AWD (awd.py) and TRIMP (load.py).

Boundary convention: a value belongs to zone k when lo_k <= x < hi_k (GoldenCheetah's "the end
of the range is in the next zone"); `zone_index(..., closed="right")` reproduces sweatpy's
pd.cut (lo, hi] for comparison.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from runhub.jit import kernel

HIST_BINS: dict[str, float] = {"heart_rate": 1.0, "power": 1.0, "speed": 0.01, "cadence": 1.0}

# Heart-rate zones by heart-rate reserve (Karvonen) when the resting HR is known: 60/70/80/90 %
# HRR; otherwise by % of max HR: 60/70/80/90 % (five zones either way; zone 1 starts at 0).
HRR_FRACTIONS = (0.6, 0.7, 0.8, 0.9)
HRMAX_FRACTIONS = (0.6, 0.7, 0.8, 0.9)
# Coggan's seven power levels by FTP (the same edges as sweatpy's defaults).
FTP_FRACTIONS = (0.55, 0.75, 0.90, 1.05, 1.20, 1.50)


def histogram(values: np.ndarray, weights: np.ndarray, bin_width: float, max_bins: int = 20000) -> np.ndarray:
    """Seconds per bin floor(x / bin_width), trailing empty bins trimmed (float64)."""
    v = np.ascontiguousarray(values, dtype=float)
    return _histogram(v, np.ascontiguousarray(weights, dtype=float), float(bin_width), int(max_bins))


def speed_histogram(dist: np.ndarray, dt: np.ndarray, weights: np.ndarray, bin_width: float) -> np.ndarray:
    """`histogram` of the interval speeds diff(dist) / dt (an interval of no time has none)."""
    return _speed_histogram(np.ascontiguousarray(dist, dtype=float), dt, weights, float(bin_width), 20000)


@kernel
def _histogram(values: np.ndarray, weights: np.ndarray, bin_width: float, max_bins: int) -> np.ndarray:
    """Two passes (the top bin, then np.bincount's order of addition) instead of ~10 array calls
    per channel; the bin of a value: floor(x / bin_width + 1e-9), the last bin holds everything
    above. A bin of weights > 0 is never zero, so the top bin is the last nonzero one."""
    bins = np.empty(len(values), dtype=np.int64)
    top = -1
    for i in range(len(values)):
        v = values[i]
        bins[i] = -1
        if np.isfinite(v) and weights[i] > 0 and v >= 0:
            f = np.floor(v / bin_width + 1e-9)
            k = max_bins - 1 if f >= max_bins - 1 else int(f)
            bins[i] = k
            top = max(top, k)
    h = np.zeros(top + 1)
    for i in range(len(values)):
        if bins[i] >= 0:
            h[bins[i]] += weights[i]
    return h


@kernel
def _speed_histogram(
    dist: np.ndarray, dt: np.ndarray, weights: np.ndarray, bin_width: float, max_bins: int
) -> np.ndarray:
    values = np.empty(len(dt))
    for i in range(len(dt)):
        values[i] = (dist[i + 1] - dist[i]) / dt[i] if dt[i] != 0 else np.nan
    return _histogram(values, weights, bin_width, max_bins)


def hr_zone_edges(max_hr: float, resting_hr: float | None = None, custom: Sequence[float] | None = None) -> list[int]:
    """Lower edges (bpm) of the HR zones, first edge 0."""
    if custom:
        return [0] + [int(round(e)) for e in custom if e > 0]
    if resting_hr:
        return [0] + [int(round(resting_hr + f * (max_hr - resting_hr))) for f in HRR_FRACTIONS]
    return [0] + [int(round(f * max_hr)) for f in HRMAX_FRACTIONS]


def power_zone_edges(ftp: float, custom: Sequence[float] | None = None) -> list[int]:
    """Lower edges (W) of the power zones, first edge 0."""
    if custom:
        return [0] + [int(round(e)) for e in custom if e > 0]
    return [0] + [int(round(f * ftp)) for f in FTP_FRACTIONS]


def time_in_zones(hist: np.ndarray, edges: Sequence[float], bin_width: float = 1.0) -> list[float]:
    """Seconds in each zone [edge_k, edge_{k+1}) (last zone open) from a histogram."""
    cum = np.concatenate(([0.0], np.cumsum(hist)))
    idx = [min(int(round(e / bin_width)), len(hist)) for e in edges] + [len(hist)]
    return [float(cum[max(idx[k + 1], idx[k])] - cum[idx[k]]) for k in range(len(edges))]


def distribution_buckets(hist: np.ndarray, edges: Sequence[float], bin_width: float = 1.0) -> list[dict[str, Any]]:
    """Strava `distribution_buckets`: integer, non-overlapping {min, max, time}; last max -1."""
    times = time_in_zones(hist, edges, bin_width)
    out = []
    for k, e in enumerate(edges):
        hi = -1 if k == len(edges) - 1 else (edges[k + 1] - 1 if bin_width == 1.0 else edges[k + 1])
        out.append({"min": e, "max": hi, "time": times[k]})
    return out


def power_buckets(hist: np.ndarray, width: int = 50) -> list[dict[str, Any]]:
    """Strava's power distribution: a 0-0 bucket (no pedalling), then fixed `width` W bands."""
    if len(hist) == 0:
        return []
    out = [{"min": 0, "max": 0, "time": float(hist[0])}]
    top = len(hist)
    lo = 1
    while lo < top:
        hi = (lo // width + 1) * width
        out.append({"min": lo if lo > 1 else 0, "max": hi, "time": float(hist[lo:hi].sum())})
        lo = hi
    out[-1]["max"] = -1
    return out


def zone_index(x: np.ndarray, edges: Sequence[float], closed: str = "left") -> np.ndarray:
    """1-based zone of each value for explicit edges (edge_0 < ... < edge_K)."""
    side = "right" if closed == "left" else "left"
    return np.searchsorted(np.asarray(edges, dtype=float), x, side)
