"""Ingest speed and storage size for Smashrun JSON: a 1-hour, 1 Hz run with 8 series.

Prints activities ingested per second (decode, validate, analyse, dedupe, store: the whole
ingest path on SQLite in a temporary directory, or RUNHUB_DATABASE_URL), and the stored size
(channel blob + row + products + compressed original) as a ratio of the JSON size.
Reference for the ratio: the JSON upload itself (1.0). Run: .venv/bin/python bench/ingest_json.py
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import func, select

from runhub import demo
from runhub.auth.passwords import hash_password
from runhub.formats import smashrun_json as sj
from runhub.ingest import ingest_bytes
from runhub.store import Database, users
from runhub.store.tables import activities, activity_originals, activity_products, activity_streams

N_RUNS = 40


def hour_run(k: int) -> bytes:
    a = demo.make_run(k, datetime(2024, 1, 1, 6, tzinfo=UTC) + timedelta(days=k), minutes=60)
    rng = np.random.default_rng(k)
    a.channels["power"] = np.round(250 + 20 * rng.standard_normal(a.n_samples))
    a.channels["temperature"] = np.round(12 + np.arange(a.n_samples) / 1200, 1)
    assert len(a.channels) == 9  # time + 8 series
    return sj.encode(a)


def main() -> None:
    url = os.environ.get("RUNHUB_DATABASE_URL")
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(url or f"sqlite:///{tmp}/bench.sqlite3")
        db.upgrade()
        with db.begin() as conn:
            uid = users.create_user(conn, f"bench-{time.time_ns()}", hash_password("x"))
        payloads = [hour_run(k) for k in range(N_RUNS)]
        times = []
        for data in payloads:
            t0 = time.perf_counter()
            [res] = ingest_bytes(db, uid, data, client_id="bench")
            times.append(time.perf_counter() - t0)
            assert res.status == "created", res.error
        with db.connect() as conn:
            ids = select(activities.c.id).where(activities.c.owner_id == uid).scalar_subquery()
            blob = conn.execute(
                select(func.sum(func.length(activity_streams.c.data))).where(activity_streams.c.activity_id.in_(ids))
            ).scalar()
            prods = (
                conn.execute(
                    select(func.sum(func.length(activity_products.c.data))).where(
                        activity_products.c.activity_id.in_(ids)
                    )
                ).scalar()
                or 0
            )
            orig = conn.execute(
                select(func.sum(func.length(activity_originals.c.data))).where(
                    activity_originals.c.activity_id.in_(ids)
                )
            ).scalar()
            rows = conn.execute(
                select(activities.c.summary, activities.c.meta).where(activities.c.owner_id == uid)
            ).all()
        row_bytes = sum(len(str(r.summary)) + len(str(r.meta)) + 200 for r in rows)  # JSON columns + ~200 B fixed
        json_bytes = sum(len(p) for p in payloads)
        med = statistics.median(times)
        print(
            f"database: {db.dialect}; {N_RUNS} runs of 3600 samples x 8 series, "
            f"JSON {json_bytes / N_RUNS / 1024:.0f} KiB each"
        )
        print(
            f"ingest: median {med * 1000:.1f} ms per activity -> {1 / med:.1f} activities/s "
            f"({N_RUNS / sum(times):.1f}/s over the whole run)"
        )
        print(
            f"stored blob + row: {(blob + row_bytes) / N_RUNS / 1024:.1f} KiB per activity = "
            f"{(blob + row_bytes) / json_bytes:.3f} x the JSON size"
        )
        print(f"with products and the compressed original: {(blob + row_bytes + prods + orig) / json_bytes:.3f} x")
        db.dispose()


if __name__ == "__main__":
    main()
