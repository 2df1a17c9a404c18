"""Distance along a GPS track on the WGS84 ellipsoid (Karney's algorithm via pyproj, vectorised).

The one cumulative-distance algorithm, used wherever a source has positions but no distance
stream (GPX, TCX without DistanceMeters, OpenTracks CSV, Smashrun JSON, analysis): devices' own
distance is always preferred (algorithms.md section 13).
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


def cumulative_distance(lat: np.ndarray, lon: np.ndarray, paused_steps: np.ndarray | list[int] | None = None
                        ) -> np.ndarray:
    """Cumulative distance (m) at each sample, from fix to fix.

    A sample without a position does not break the track: the step runs from the last fix to the
    next one (a dropped GPS sample did not teleport the runner), and the distance there holds the
    last fix's value, since it is known that far. Before the first fix it is NaN (nothing is known).
    `paused_steps` are the intervals i -> i+1 that are pauses (activity.pause_mask); a fix-to-fix
    step spanning one adds nothing: a resume somewhere else is not a distance run.
    """
    lat = np.asarray(lat, dtype=np.float64)
    lon = np.asarray(lon, dtype=np.float64)
    n = len(lat)
    out = np.full(n, np.nan)
    fix = np.isfinite(lat) & np.isfinite(lon)
    ok = np.flatnonzero(fix)
    if len(ok) == 0:
        return out
    steps = np.zeros(len(ok))
    if len(ok) > 1:
        a, b = ok[:-1], ok[1:]
        steps[1:] = distances(lat[a], lon[a], lat[b], lon[b])
        if paused_steps is not None and len(paused_steps):
            p = np.sort(np.asarray(paused_steps, dtype=np.int64))
            # a paused interval j (j -> j+1) lies between fixes a < b when a <= j < b
            crossed = np.searchsorted(p, b, side="left") > np.searchsorted(p, a, side="left")
            steps[1:][crossed] = 0.0
    out[ok] = np.cumsum(steps)
    last = np.maximum.accumulate(np.where(fix, np.arange(n), -1))
    held = last >= 0
    out[held] = out[last[held]]
    return out


def pause_steps(pauses: list[int]) -> np.ndarray:
    """Pause indexes (the samples that follow a pause) as paused intervals i -> i+1."""
    return np.asarray(pauses, dtype=np.int64) - 1
