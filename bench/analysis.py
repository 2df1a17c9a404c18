"""Analysis speed. Run: .venv/bin/python bench/analysis.py

Prints, on one run:
1. full per-activity analysis (`analyse()`: summary, splits, laps, mean-max for power, speed and
   heart rate on the storage grid, histograms, extended fields, polylines) of a 4-hour 1 Hz ride
   with power, speed and heart rate (target < 50 ms), and of a 1-hour one;
2. the mean-max part alone (power, and the three channels analyse() computes, grid to 4 h)
   against a plain numpy rolling-window baseline over the same grid (np.convolve with a box of d
   samples per duration: what one writes without prefix sums), plus the same baseline with
   cumsum for reference;
3. a longitudinal mean-max query over 2,000 stored activities: in memory from product arrays,
   and through the store (`store.activities.longitudinal_mean_max` on SQLite) (target < 50 ms).
"""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, datetime, timedelta

import numpy as np

from runhub.activity import Activity
from runhub.analysis import analyse
from runhub.analysis.longitudinal import longitudinal_mean_max
from runhub.analysis.mean_max import grid_for, mean_max
from runhub.analysis.timebase import time_base

N = 4 * 3600 + 1
N_ACTIVITIES = 2000


def ride(seed: int = 0, n: int = N) -> Activity:
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype=float)
    speed = np.clip(8 + 2 * np.sin(t / 500) + rng.normal(0, 0.3, n), 0, None)
    dist = np.concatenate(([0.0], np.cumsum(speed[1:])))
    return Activity(
        start=datetime(2024, 5, 1, 8, tzinfo=UTC),
        sport="cycling",
        channels={
            "time": t,
            "distance": dist,
            "speed": speed,
            "power": np.clip(200 + 80 * rng.standard_normal(n), 0, None),
            "heart_rate": np.round(140 + 10 * np.sin(t / 900) + rng.normal(0, 2, n)),
            "latitude": 50 + dist * 1e-5 * np.cos(t / 2000),
            "longitude": 8 + dist * 1e-5 * np.sin(t / 2000),
            "altitude": 100 + 30 * np.sin(t / 700) + rng.normal(0, 0.5, n),
        },
    )


def best_ms(fn, repeat: int = 7) -> float:
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return min(times)


def baseline_rolling(p: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Plain numpy rolling mean per duration (np.convolve with a box window)."""
    return np.array([np.convolve(p, np.ones(d) / d, "valid").max() for d in grid])


def baseline_cumsum(p: np.ndarray, grid: np.ndarray) -> np.ndarray:
    c = np.concatenate(([0.0], np.cumsum(p)))
    return np.array([((c[d:] - c[:-d]) / d).max() for d in grid])


def main() -> None:
    a = ride()
    full = best_ms(lambda: analyse(a), repeat=9)
    print(
        f"1. analyse() 4 h 1 Hz ride (power, speed, HR, GPS, altitude): {full:.1f} ms "
        f"(target < 50 ms: {'met' if full < 50 else 'MISSED'}, {50 / full:.2f}x); "
        f"1 h ride: {best_ms(lambda: analyse(ride(n=3601)), repeat=9):.1f} ms"
    )

    tb = time_base(a)
    p = a.channels["power"]
    grid = grid_for(N - 1)
    dist = a.channels["distance"]
    hr = a.channels["heart_rate"]
    ours = best_ms(lambda: mean_max(tb, "power", p))
    three = best_ms(
        lambda: (mean_max(tb, "power", p), mean_max(tb, "speed", dist), mean_max(tb, "heart_rate", hr)), repeat=5
    )
    base = best_ms(lambda: baseline_rolling(p[1:], grid), repeat=1)
    base_c = best_ms(lambda: baseline_cumsum(p[1:], grid), repeat=3)
    _, v, _ = mean_max(tb, "power", p)
    agree = np.allclose(v, baseline_cumsum(p[1:], grid))
    print(
        f"2. mean-max, {len(grid)} grid durations: power {ours:.1f} ms (power + speed + HR {three:.1f} ms, "
        f"{100 * three / full:.0f} % of analyse); numpy rolling-window (np.convolve) baseline for power "
        f"{base:.0f} ms -> ours {base / ours:.0f}x faster; cumsum baseline {base_c:.1f} ms "
        f"({base_c / ours:.1f}x); same values: {agree}"
    )

    # 2,000 stored curves: a mix of 1-4 h rides
    curves = []
    rng = np.random.default_rng(1)
    for i in range(N_ACTIVITIES):
        length = int(rng.integers(3600, 4 * 3600))
        k = len(grid_for(length))
        v = 400 * grid_for(length) ** -0.15 * rng.uniform(0.8, 1.2)
        curves.append((i + 1, datetime(2020, 1, 1, tzinfo=UTC) + timedelta(days=i), "cycling", v, np.zeros(k)))
    mem = best_ms(lambda: longitudinal_mean_max(curves, "all"))
    mem_def = best_ms(lambda: longitudinal_mean_max(curves))
    print(
        f"3. longitudinal mean-max over {N_ACTIVITIES} activities, in memory: {mem:.1f} ms (durations=all), "
        f"{mem_def:.1f} ms (19 defaults)"
    )
    store_query(curves)


def store_query(curves: list) -> None:
    """Through the store on SQLite; on PostgreSQL too when RUNHUB_TEST_DATABASE_URL is set (in a
    schema of its own, dropped afterwards)."""
    import os
    import uuid

    from sqlalchemy import create_engine, text

    with tempfile.TemporaryDirectory() as tmp:
        _store_query(curves, f"sqlite:///{tmp}/bench.sqlite3", "SQLite")
    url = os.environ.get("RUNHUB_TEST_DATABASE_URL")
    if url:
        schema = f"runhub_bench_{uuid.uuid4().hex[:10]}"
        admin = create_engine(url)
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        try:
            sep = "&" if "?" in url else "?"
            _store_query(curves, f"{url}{sep}options=-csearch_path%3D{schema}", "PostgreSQL")
        finally:
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            admin.dispose()


def _store_query(curves: list, url: str, name: str) -> None:
    from sqlalchemy import insert

    from runhub.store import Database
    from runhub.store import activities as repo
    from runhub.store.tables import activities, users

    db = Database(url)
    db.upgrade()
    now = datetime.now(UTC)
    with db.begin() as conn:
        res = conn.execute(insert(users).values(username="bench", settings={}, created_at=now))
        uid = res.inserted_primary_key[0]
        rows = [
            {
                "id": aid,
                "owner_id": uid,
                "start_utc": when,
                "sport": sport,
                "summary": {},
                "meta": {},
                "created_at": now,
                "updated_at": now,
            }
            for aid, when, sport, _v, _s in curves
        ]
        conn.execute(insert(activities), rows)
        for aid, when, sport, v, st in curves:  # the ingest save path
            products = {"mm_power": v, "mm_power_start": st}
            repo.save_products(conn, aid, Activity(start=when, sport=sport), uid, products)

    def query(durations: str | None) -> list:
        with db.connect() as conn:
            return repo.longitudinal_mean_max(conn, uid, "power", durations, sports=["cycling"])

    ms_all = best_ms(lambda: query("all"), repeat=5)
    ms_def = best_ms(lambda: query(None), repeat=5)
    worst = max(ms_all, ms_def)
    print(
        f"   through the store ({name}, one query + envelope, store.activities.longitudinal_mean_max): "
        f"{ms_all:.1f} ms durations=all, {ms_def:.1f} ms 19 defaults "
        f"(target < 50 ms: {'met' if worst < 50 else 'MISSED'}, {50 / worst:.2f}x)"
    )
    db.dispose()


if __name__ == "__main__":
    main()
