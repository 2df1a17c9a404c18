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
  (0.5 = full, 0 or 1 = new). `night`: Runalyze's detector (the middle instant vs sunrise and
  sunset).
* polyline: Google's encoding (rounds absolute coordinates, algorithms.md 15), vectorised here
  and checked against the `polyline` package in the tests; the summary track is simplified
  with Ramer-Douglas-Peucker first (Strava's summary_polyline).
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
from astral import Observer
from astral import moon as astral_moon
from astral import sun as astral_sun

from runhub.analysis.mean_max import best_rates
from runhub.analysis.timebase import TimeBase
from runhub.jit import kernel

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
    v = best_rates(tau, dist - dist[0], np.array([0]), np.array([len(tau) - 1]), COOPER_S)
    d12 = float(v[0] * COOPER_S)
    total = float(dist[-1] - dist[0])
    is_test = COOPER_S <= tb.timer <= 1200.0 and total > 0 and d12 >= 0.9 * total and d12 / COOPER_S >= 2.5
    return {"cooper_test": bool(is_test), "cooper_distance": d12, "cooper_vo2max": (d12 - 504.9) / 44.73}


@functools.lru_cache(maxsize=512)
def _sun_day(lat: float, lon: float, local_date: date) -> tuple[str, datetime | None, datetime | None]:
    """("normal", sunrise, sunset) in UTC of a local date at a point, or ("polar_day" |
    "polar_night", None, None) when the sun does not rise or set. Cached: the summary and the
    night detector ask for the same day, and an import asks again for every run from home."""
    obs = Observer(latitude=lat, longitude=lon)
    try:
        return "normal", astral_sun.sunrise(obs, local_date, tzinfo=UTC), astral_sun.sunset(obs, local_date, tzinfo=UTC)
    except ValueError:
        noon = astral_sun.noon(obs, local_date, tzinfo=UTC)
        return ("polar_day" if astral_sun.elevation(obs, noon) > 0 else "polar_night"), None, None


def sun_moon(lat: float, lon: float, when: datetime, utc_offset: int = 0) -> dict[str, Any]:
    """Sunrise and sunset (UTC ISO strings) of the local date at the point, and the moon phase.
    `daylight` is "polar_day" / "polar_night" when the sun does not rise or set that day."""
    local_date = (when.astimezone(UTC) + timedelta(seconds=utc_offset)).date()
    daylight, rise, sset = _sun_day(lat, lon, local_date)
    out: dict[str, Any] = {
        "sunrise": rise.isoformat() if rise else None,
        "sunset": sset.isoformat() if sset else None,
        "daylight": daylight,
    }
    phase_days = astral_moon.phase(local_date)
    out["moon_phase_days"] = phase_days
    out["moon_phase"] = phase_days / 28.0
    return out


def is_night(lat: float, lon: float, start: datetime, duration_s: float = 0.0, utc_offset: int = 0) -> bool:
    """Runalyze's night detector (NightDetector.php): night when the activity's middle instant
    lies before sunrise or after sunset (sun 0.833 degrees below the horizon, astral's default,
    PHP's zenith 90.833) of its local date at the start point; polar night is night, polar day
    is not."""
    mid = start.astimezone(UTC) + timedelta(seconds=duration_s / 2.0)
    local_date = (mid + timedelta(seconds=utc_offset)).date()
    daylight, rise, sset = _sun_day(lat, lon, local_date)
    if rise is None or sset is None:
        return daylight == "polar_night"
    return bool(mid < rise or mid > sset)


@kernel
def _rdp(x: np.ndarray, y: np.ndarray, eps: float) -> np.ndarray:
    """Ramer-Douglas-Peucker on planar metres: indexes kept, in order.

    Compiled (runhub.jit) with an explicit stack of open segments: the work is one pass over each
    segment per recursion level, and no library offers RDP with the first-on-ties rule and
    metric projection used here. A segment is split at its farthest point (the first on ties)
    when that point lies more than eps off the chord (off the start point when the segment
    closes on itself)."""
    n = len(x)
    keep = np.zeros(n, dtype=np.bool_)
    if n < 3:
        keep[:] = True
        return np.flatnonzero(keep)
    keep[0] = True
    keep[n - 1] = True
    stack = np.empty(2 * n, dtype=np.int64)
    top = 0
    stack[0] = 0
    stack[1] = n - 1
    top = 2
    while top:
        j = stack[top - 1]
        i = stack[top - 2]
        top -= 2
        if j - i < 2:
            continue
        dx = x[j] - x[i]
        dy = y[j] - y[i]
        chord = np.hypot(dx, dy)
        best = -1.0
        at = i
        for p in range(i + 1, j):
            px = x[p] - x[i]
            py = y[p] - y[i]
            dist = np.hypot(px, py) if chord == 0 else abs(dx * py - dy * px) / chord
            if dist > best:
                best = dist
                at = p
        if best > eps:
            keep[at] = True
            stack[top] = at
            stack[top + 1] = j
            stack[top + 2] = i
            stack[top + 3] = at
            top += 4
    return np.flatnonzero(keep)


def polyline_encode(lat: np.ndarray, lon: np.ndarray, precision: int = 5) -> str:
    """Google's encoded polyline of (lat, lon) arrays, byte for byte what `polyline.encode` gives.

    Compiled (the package loops in Python: ~6 ms per 3,000 points; a numpy form costs ~20 array
    passes, most of a short track's time); tests check it against the package. Absolute
    coordinates are rounded half away from zero, then differenced (no accumulated drift),
    zig-zag signed, 5-bit chunks + 63."""
    if len(lat) == 0:
        return ""
    lat = np.ascontiguousarray(lat, dtype=float)
    lon = np.ascontiguousarray(lon, dtype=float)
    return _polyline_bytes(lat, lon, float(10**precision)).tobytes().decode("ascii")


@kernel
def _polyline_bytes(lat: np.ndarray, lon: np.ndarray, factor: float) -> np.ndarray:
    out = np.empty(2 * len(lat) * 13, dtype=np.uint8)  # at most 13 chunks of 5 bits per int64
    n = 0
    prev = np.zeros(2, dtype=np.int64)
    for i in range(len(lat)):
        for c in range(2):
            r = (lat[i] if c == 0 else lon[i]) * factor
            q = np.int64(np.copysign(np.floor(np.abs(r) + 0.5), r))
            d = q - prev[c]
            prev[c] = q
            v = ~(d << 1) if d < 0 else d << 1
            while v >= 0x20:
                out[n] = (v & 0x1F) + 0x20 + 63
                n += 1
                v >>= 5
            out[n] = v + 63
            n += 1
    return out[:n]


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
    return polyline_encode(la, lo)
