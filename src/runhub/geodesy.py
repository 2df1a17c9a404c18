"""Distance along a GPS track on the WGS84 ellipsoid (Karney's algorithm via pyproj, vectorised).

Used only where a source has positions but no distance stream (GPX, some JSON): devices'
own distance is always preferred (algorithms.md section 13).
"""

from __future__ import annotations

import numpy as np
from pyproj import Geod

_GEOD = Geod(ellps="WGS84")


def distances(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Geodesic length (m) from each point 1 to its point 2."""
    if len(lat1) == 0:
        return np.zeros(0)
    return np.asarray(_GEOD.inv(lon1, lat1, lon2, lat2)[2], dtype=np.float64)


def step_lengths(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Geodesic length (m) of each step i -> i+1; NaN where either end has no position."""
    if len(lat) < 2:
        return np.zeros(0)
    ok = np.isfinite(lat[:-1]) & np.isfinite(lat[1:]) & np.isfinite(lon[:-1]) & np.isfinite(lon[1:])
    steps = np.full(len(lat) - 1, np.nan)
    if ok.any():
        idx = np.flatnonzero(ok)
        steps[idx] = distances(lat[idx], lon[idx], lat[idx + 1], lon[idx + 1])
    return steps


def cumulative_distance(lat: np.ndarray, lon: np.ndarray, pause_intervals: np.ndarray | None = None) -> np.ndarray:
    """Cumulative distance (m) at each sample. A step with a missing end, or across a pause,
    adds nothing (standing still with GPS on is not running); samples without a position are
    NaN, because a distance there would be invented."""
    n = len(lat)
    if n == 0:
        return np.zeros(0)
    steps = step_lengths(lat, lon)
    steps = np.where(np.isnan(steps), 0.0, steps)
    if pause_intervals is not None and len(pause_intervals):
        steps[pause_intervals] = 0.0
    dist = np.concatenate(([0.0], np.cumsum(steps)))
    dist[~(np.isfinite(lat) & np.isfinite(lon))] = np.nan
    return dist
