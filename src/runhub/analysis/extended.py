"""Smashrun's "extended" run fields (algorithms.md section 12) and the encoded polyline (15).

* pace variability: 10-second intervals of running (timer) time, speed per interval from the
  distance integral, PV = mean |v_k - mean v| / mean v in percent; the last partial interval
  is dropped. Speed, not pace (pace explodes near a stop).
* Cooper test: a maximal 12-minute run. Detected when the activity has at least 12 minutes
  of timer time, no more than 20, and its best 12 minutes cover at least 90 % of the whole
  run's distance at an average of at least 2.5 m/s; the best 12 minutes distance is reported
  either way (and Cooper's VO2max (d - 504.9) / 44.73).
* sunrise/sunset and moon phase at the start point, with astral; polar day/night reported as
  such (astral raises ValueError); moon phase as Smashrun: astral's 0..28 days / 28
  (0.5 = full, 0 or 1 = new).
* polyline: Google's encoding via the `polyline` package (rounds absolute coordinates); the
  track is simplified with Ramer-Douglas-Peucker first (full resolution of a long activity is
  megabytes, and the package encodes in pure Python).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import polyline as polyline_codec
from astral import Observer
from astral import moon as astral_moon
from astral import sun as astral_sun

from runhub.analysis.mean_max import window_max
from runhub.analysis.timebase import TimeBase

PV_INTERVAL_S = 10.0
COOPER_S = 720.0


def pace_variability(tb: TimeBase, dist: np.ndarray, interval: float = PV_INTERVAL_S) -> float | None:
    """Percent mean absolute deviation of 10 s interval speeds around their mean (timer time)."""
    tau = tb.timer_axis()
    keep = np.concatenate((tau[1:] > tau[:-1], [True]))
    tau_k, d_k = tau[keep], dist[keep]
    n = int(np.floor((tau[-1]) / interval))
    if n < 2:
        return None
    grid = np.arange(n + 1) * interval
    v = np.diff(np.interp(grid, tau_k, d_k)) / interval
    mean = v.mean()
    if mean <= 0:
        return None
    return float(np.abs(v - mean).mean() / mean * 100.0)


def cooper(tb: TimeBase, dist: np.ndarray) -> dict[str, Any]:
    """Best 12-minute distance (elapsed time), its Cooper VO2max and whether this looks like a test."""
    tau = tb.t - tb.t[0]
    if tau[-1] < COOPER_S:
        return {"cooper_test": False, "cooper_distance": None, "cooper_vo2max": None}
    v, _ = window_max(tau, dist - dist[0], [COOPER_S])
    d12 = float(v[0] * COOPER_S)
    total = float(dist[-1] - dist[0])
    is_test = COOPER_S <= tb.timer <= 1200.0 and total > 0 and d12 >= 0.9 * total and d12 / COOPER_S >= 2.5
    return {"cooper_test": bool(is_test), "cooper_distance": d12, "cooper_vo2max": (d12 - 504.9) / 44.73}


def sun_moon(lat: float, lon: float, when: datetime, utc_offset: int = 0) -> dict[str, Any]:
    """Sunrise and sunset (UTC ISO strings) of the local date at the point, and the moon phase.
    `daylight` is "polar_day" / "polar_night" when the sun does not rise or set that day."""
    local_date = (when.astimezone(UTC) + timedelta(seconds=utc_offset)).date()
    obs = Observer(latitude=lat, longitude=lon)
    out: dict[str, Any] = {"sunrise": None, "sunset": None, "daylight": "normal"}
    try:
        out["sunrise"] = astral_sun.sunrise(obs, local_date, tzinfo=UTC).isoformat()
        out["sunset"] = astral_sun.sunset(obs, local_date, tzinfo=UTC).isoformat()
    except ValueError:
        noon = astral_sun.noon(obs, local_date, tzinfo=UTC)
        out["sunrise"] = out["sunset"] = None
        out["daylight"] = "polar_day" if astral_sun.elevation(obs, noon) > 0 else "polar_night"
    phase_days = astral_moon.phase(local_date)
    out["moon_phase_days"] = phase_days
    out["moon_phase"] = phase_days / 28.0
    return out


def _rdp(x: np.ndarray, y: np.ndarray, eps: float) -> np.ndarray:
    """Ramer-Douglas-Peucker on planar metres: indexes kept (iterative, numpy per segment)."""
    n = len(x)
    if n < 3:
        return np.arange(n)
    keep = np.zeros(n, dtype=bool)
    keep[0] = keep[-1] = True
    stack = [(0, n - 1)]
    while stack:
        i, j = stack.pop()
        if j <= i + 1:
            continue
        dx, dy = x[j] - x[i], y[j] - y[i]
        seg = np.hypot(dx, dy)
        px, py = x[i + 1 : j] - x[i], y[i + 1 : j] - y[i]
        dist = np.abs(dx * py - dy * px) / seg if seg > 0 else np.hypot(px, py)
        k = int(dist.argmax())
        if dist[k] > eps:
            m = i + 1 + k
            keep[m] = True
            stack.append((i, m))
            stack.append((m, j))
    return np.flatnonzero(keep)


def encoded_polyline(lat: np.ndarray, lon: np.ndarray, tolerance_m: float | None = None) -> str | None:
    """Google encoded polyline (precision 5) of the track; simplified when `tolerance_m` given."""
    ok = np.isfinite(lat) & np.isfinite(lon) & ~((lat == 0) & (lon == 0))
    if ok.sum() < 1:
        return None
    la, lo = lat[ok], lon[ok]
    if tolerance_m:
        r = 6371008.8
        x = np.radians(lo - lo[0]) * r * np.cos(np.radians(la.mean()))
        y = np.radians(la - la[0]) * r
        idx = _rdp(x, y, tolerance_m)
        la, lo = la[idx], lo[idx]
    return polyline_codec.encode(list(zip(la.tolist(), lo.tolist(), strict=True)), 5)
