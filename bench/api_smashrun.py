"""Smashrun API latency and throughput for a user with 3,000 activities, each a 1-hour run at
1 Hz (demo.make_run: GPS, heart rate, cadence, altitude), stored through the real ingest path.

Measures, over real HTTP against one uvicorn process (the default deployment) in a child process:
  * p50 / p99 latency of GET search (count 100, random page), search/briefs (count 100),
    one full activity with its 1-hour recordings, and stats for all time;
  * requests per second of each at 8 concurrent clients.
The database is kept in --data-dir (default /tmp/runhub-bench-smashrun) and reused when it
already holds the activities, so the (long) seeding happens once.

Run: .venv/bin/python bench/api_smashrun.py [--activities 3000] [--requests 200] [--db URL]
Reference: FitTrackee's workout list took about 53 ms for 50 workouts on this kind of machine.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from runhub.config import Settings
from runhub.store import Database

USERNAME = "bench-smashrun"
_db: Database | None = None


def _init_worker(url: str) -> None:
    global _db
    _db = Database(url)


def _ingest_one(args: tuple[int, int]) -> int:
    from runhub import demo
    from runhub.ingest import ingest_activity

    user_id, k = args
    start = datetime(2026, 1, 1, 6, tzinfo=UTC) - timedelta(days=k, hours=(k * 7) % 13)
    a = demo.make_run(k, start, minutes=60)
    a.external_id = f"bench-{k}"
    assert _db is not None
    r = ingest_activity(_db, user_id, a, client_id="bench")
    assert r.status in ("created", "updated", "duplicate"), r.error
    return r.activity_id or 0


def seed(settings: Settings, n: int) -> tuple[int, str]:
    from runhub.auth.passwords import hash_password
    from runhub.auth.tokens import mint_personal_token
    from runhub.store import activities, users

    db = Database(settings.db_url)
    db.upgrade()
    with db.begin() as conn:
        row = users.get_by_username(conn, USERNAME)
        uid = row.id if row else users.create_user(conn, USERNAME, hash_password("bench"))
    with db.connect() as conn:
        have = activities.count(conn, uid)
    if have < n:
        t0 = time.perf_counter()
        print(f"seeding {n - have} one-hour runs (ingest path, {os.cpu_count()} processes) ...", flush=True)
        with ProcessPoolExecutor(os.cpu_count(), initializer=_init_worker, initargs=(settings.db_url,)) as pool:
            list(pool.map(_ingest_one, [(uid, k) for k in range(have, n)], chunksize=16))
        print(f"  seeded in {time.perf_counter() - t0:.0f} s", flush=True)
    token = mint_personal_token(db, uid, "read_activity")
    db.dispose()
    return uid, token


def serve(settings: Settings, port: int) -> None:
    import uvicorn

    from runhub.api.app import create_app

    uvicorn.run(create_app(settings), host="127.0.0.1", port=port, log_level="warning", access_log=False)


def percentile(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--activities", type=int, default=3000)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=8.0, help="duration of each concurrent run")
    ap.add_argument("--data-dir", default="/tmp/runhub-bench-smashrun")
    ap.add_argument("--db", default=None, help="database URL (default: SQLite in --data-dir)")
    ap.add_argument("--port", type=int, default=8791)
    args = ap.parse_args()

    Path(args.data_dir).mkdir(parents=True, exist_ok=True)
    settings = Settings(
        data_dir=Path(args.data_dir),
        database_url=args.db,
        secret_key="bench-secret-key-0123456789-0123456789",
        rate_limit_15min=10**9,
        rate_limit_daily=10**9,
    )
    uid, token = seed(settings, args.activities)

    proc = mp.get_context("spawn").Process(target=serve, args=(settings, args.port), daemon=True)
    proc.start()
    base = f"http://127.0.0.1:{args.port}"
    headers = {"Authorization": f"Bearer {token}"}
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/health").status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit("server did not start")
        time.sleep(0.2)

    with httpx.Client(base_url=base, headers=headers, timeout=120) as c:
        ids = c.get("/v1/my/activities/search/ids").json()
        assert len(ids) >= args.activities, len(ids)
        one = c.get(f"/v1/my/activities/{ids[0]}")
        samples = len(one.json()["recordingValues"][0])
        size = len(one.content) / 1e6
        print(f"user {uid}: {len(ids)} activities; one activity: {samples} samples, {size:.2f} MB JSON")

        pages = args.activities // 100
        rng = random.Random(1)
        cases = {
            "search count=100": lambda: f"/v1/my/activities/search?page={rng.randrange(pages)}&count=100",
            "search/briefs count=100": lambda: f"/v1/my/activities/search/briefs?page={rng.randrange(pages)}&count=100",
            "one activity, 1 h recordings": lambda: f"/v1/my/activities/{rng.choice(ids)}",
            "stats, all time": lambda: "/v1/my/stats",
        }
        print(f"\n{'request':32s} {'p50 ms':>8s} {'p99 ms':>8s} {'rps@8':>8s}")
        for name, path in cases.items():
            for _ in range(5):
                assert c.get(path()).status_code == 200
            lat = []
            for _ in range(args.requests):
                t0 = time.perf_counter()
                r = c.get(path())
                lat.append((time.perf_counter() - t0) * 1000)
                assert r.status_code == 200, r.text
            rps = concurrent_rps(base, headers, path, args.seconds)
            print(f"{name:32s} {percentile(lat, 50):8.1f} {percentile(lat, 99):8.1f} {rps:8.1f}", flush=True)
    proc.terminate()
    proc.join(5)


def concurrent_rps(base: str, headers: dict[str, str], path, seconds: float, clients: int = 8) -> float:
    """8 client threads each looping requests for `seconds`; completed requests per second."""
    done = [0] * clients
    stop = time.monotonic() + seconds

    def loop(k: int) -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=120) as c:
            while time.monotonic() < stop:
                assert c.get(path()).status_code == 200
                done[k] += 1

    t0 = time.perf_counter()
    threads = [threading.Thread(target=loop, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done) / (time.perf_counter() - t0)


if __name__ == "__main__":
    main()
