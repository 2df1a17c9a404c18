"""Sample runs that runhub makes itself, so a new install has something to show (and the
benchmarks something to chew on): 1 Hz recordings with GPS, heart rate, cadence, altitude,
a pause at a traffic light and laps, seeded so every install sees the same runs."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np

from runhub.activity import Activity, Lap

# A park loop in Amsterdam's Vondelpark area; the track circles around it.
CENTER_LAT, CENTER_LON = 52.3580, 4.8686
EARTH_M_PER_DEG = 111_320.0


def make_run(
    seed: int,
    start: datetime,
    *,
    minutes: float = 40.0,
    pace_s_per_km: float = 330.0,
    pause_at: float | None = 0.45,
    pause_seconds: int = 45,
    utc_offset: int = 3600,
    channels: tuple[str, ...] = ("distance", "latitude", "longitude", "altitude", "heart_rate", "cadence"),
) -> Activity:
    """One run: 1 Hz clock, a pause (no samples while stopped) and a lap every kilometre."""
    rng = np.random.default_rng(seed)
    n_moving = int(minutes * 60)
    t = np.arange(n_moving, dtype=np.float64)
    pauses: list[int] = []
    if pause_at is not None:
        k = int(n_moving * pause_at)
        t[k:] += pause_seconds
        pauses = [k]
    base_speed = 1000.0 / pace_s_per_km
    speed = base_speed * (1 + 0.04 * np.sin(t / 97.0) + 0.02 * rng.standard_normal(n_moving))
    speed = np.clip(speed, 0.5, None)
    steps = speed.copy()
    steps[0] = 0.0
    if pauses:
        steps[pauses[0]] = 0.0  # standing at the light: no distance across the pause
    dist = np.cumsum(steps)
    radius = 600.0
    angle = dist / radius
    lat = CENTER_LAT + (radius * np.sin(angle)) / EARTH_M_PER_DEG + 2e-6 * rng.standard_normal(n_moving)
    lon = CENTER_LON + (radius * (1 - np.cos(angle))) / (EARTH_M_PER_DEG * math.cos(math.radians(CENTER_LAT)))
    alt = 2.0 + 4.0 * np.sin(angle) + 0.2 * rng.standard_normal(n_moving)
    effort = np.minimum(t / 600.0, 1.0)
    hr = np.round(105 + 45 * effort + 8 * np.sin(t / 300.0) + 1.5 * rng.standard_normal(n_moving))
    cad = np.round(84 + 3 * np.sin(t / 50.0) + rng.standard_normal(n_moving))
    all_channels = {
        "time": t,
        "distance": dist,
        "latitude": lat,
        "longitude": lon,
        "altitude": alt,
        "heart_rate": hr,
        "cadence": cad,
    }
    a = Activity(
        start=start,
        utc_offset=utc_offset,
        timezone="Europe/Amsterdam",
        sport="running",
        channels={name: all_channels[name] for name in ("time", *channels)},
        pauses=pauses,
        name=f"Morning run {seed}",
        device_name="runhub demo",
        external_id=f"demo-{seed}",
    )
    if "distance" in channels:
        for km in range(1, int(dist[-1] // 1000) + 1):
            idx = int(np.searchsorted(dist, km * 1000.0, side="right")) - 1
            a.laps.append(
                Lap(
                    end_time=float(t[idx]),
                    end_index=idx,
                    end_distance=km * 1000.0,
                    basis="distance",
                    trigger="distance",
                )
            )
    return a


def sample_runs(count: int = 12, *, end: datetime | None = None) -> list[Activity]:
    """`count` runs, one every other day ending yesterday, of varied length and pace."""
    end = end or datetime.now(UTC).replace(hour=6, minute=30, second=0, microsecond=0) - timedelta(days=1)
    runs = []
    for k in range(count):
        rng = np.random.default_rng(1000 + k)
        start = end - timedelta(days=2 * (count - 1 - k))
        runs.append(
            make_run(
                1000 + k,
                start,
                minutes=float(rng.uniform(25, 65)),
                pace_s_per_km=float(rng.uniform(290, 370)),
                pause_at=float(rng.uniform(0.3, 0.7)) if k % 3 else None,
            )
        )
    return runs


def warm_up() -> float:
    """Run every compiled kernel (runhub.jit) once on sample runs, so that numba compiles them now
    (tens of seconds on a fresh install, then cached on disk) rather than at the first upload;
    with the cache in place this only loads them (~1 s). Returns the seconds it took."""
    import time

    from runhub import formats
    from runhub.analysis import analyse
    from runhub.analysis.load import banister
    from runhub.analysis.local_time import infer_local_time

    t0 = time.perf_counter()
    run = make_run(7, datetime(2024, 6, 1, 6, 30, tzinfo=UTC), minutes=12.0)
    n = run.n_samples
    run.channels["power"] = np.round(250 + 40 * np.sin(np.arange(n) / 60.0))
    irregular = make_run(8, datetime(2024, 6, 2, 6, 30, tzinfo=UTC), minutes=6.0)
    irregular.channels["time"] = irregular.channels["time"] + 0.25 * (np.arange(irregular.n_samples) % 2)
    decoded = [a for fmt in ("fit", "gpx", "tcx") for a in formats.decode(formats.encode(run, fmt))]
    # a value longer than the XML scan reads by itself (it is handed to Python: its kernel too)
    decoded += formats.decode(
        b'<?xml version="1.0"?><gpx version="1.1" creator="runhub"><trk><trkseg>'
        b'<trkpt lat="40.18894976936280727386474609375" lon="4.5"><time>2024-06-01T06:30:00Z</time></trkpt>'
        b'<trkpt lat="40.1890" lon="4.5001"><time>2024-06-01T06:30:01Z</time></trkpt></trkseg></trk></gpx>'
    )
    for a in (run, irregular, *decoded):
        infer_local_time(a)  # timezonefinder compiles its own numba functions on its first lookup
        analyse(a)
    banister([100.0, 0.0, 50.0])  # the training-load models' recurrence
    return time.perf_counter() - t0
