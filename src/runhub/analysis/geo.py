"""Which distance an activity has (algorithms.md section 13): the device's distance stream when
recorded, else the WGS84 geodesic along the GPS track (pyproj, Karney; the receiver's jumps
left out, geodesy.gps_jumps), else the speed channel
integrated over the time base. Positions: start/end points and bounding box."""

from __future__ import annotations

import numpy as np

from runhub import sports
from runhub.activity import Activity
from runhub.analysis.timebase import TimeBase
from runhub.geodesy import track_distance


def distance_stream(a: Activity, tb: TimeBase) -> np.ndarray | None:
    """Cumulative distance (m) at every sample, NaN-free and non-decreasing, or None.

    Missing device samples are interpolated in time between known ones: cumulative distance
    is an integral, so the interpolation adds no distance, it only places it."""
    t = tb.t
    d = a.channels.get("distance")
    if d is None or np.isfinite(d).sum() < 2:
        lat, lon = a.channels.get("latitude"), a.channels.get("longitude")
        if lat is not None and lon is not None and np.isfinite(lat).sum() >= 2:
            d, _ = track_distance(lat, lon, t, sports.max_speed(a.sport), np.flatnonzero(tb.paused))
        else:
            s = a.channels.get("speed")
            if s is None or not np.isfinite(s[1:]).any():
                return None
            inc = np.nan_to_num(s[1:]) * tb.weights
            return np.concatenate(([0.0], np.cumsum(inc)))
    ok = np.isfinite(d)
    if ok.sum() < 2:
        return None
    out = np.interp(t, t[ok], d[ok])
    return np.maximum.accumulate(out)


def endpoints(a: Activity) -> tuple[tuple[float, float] | None, tuple[float, float] | None, tuple | None]:
    """(start (lat, lon), end (lat, lon), bbox (min_lat, min_lon, max_lat, max_lon)) of the track."""
    lat, lon = a.channels.get("latitude"), a.channels.get("longitude")
    if lat is None or lon is None:
        return None, None, None
    ok = np.flatnonzero(np.isfinite(lat) & np.isfinite(lon) & ~((lat == 0) & (lon == 0)))
    if len(ok) == 0:
        return None, None, None
    la, lo = lat[ok], lon[ok]
    start = (float(la[0]), float(lo[0]))
    end = (float(la[-1]), float(lo[-1]))
    return start, end, (float(la.min()), float(lo.min()), float(la.max()), float(lo.max()))
