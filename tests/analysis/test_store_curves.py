"""Mean-max curves through the store (SQLite and PostgreSQL): saved at ingest, read back per
activity and as a longitudinal envelope by date range and sport, deleted activities left out.
Expected values are the hand-built curves below."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from runhub.activity import Activity
from runhub.analysis.mean_max import CURVE_MIN_LEN, GRID
from runhub.store import activities as repo

T0 = datetime(2024, 3, 1, 7, tzinfo=UTC)


def _save(conn, uid: int, when: datetime, sport: str, vals, starts) -> int:
    a = Activity(start=when, sport=sport)
    aid = repo.insert_activity(conn, a, owner_id=uid, client_id=None, content_hash=None)
    products = {"mm_power": np.asarray(vals, float), "mm_power_start": np.asarray(starts, float), "facts": {"x": 1.5}}
    repo.save_products(conn, aid, a, uid, products)
    return aid


def test_curves_round_trip_and_longitudinal_envelope(db, user):
    uid, _ = user
    with db.begin() as conn:
        # a: 3 grid points (1, 2, 3 s); b: stronger at 2 s, a day later; c: a run (other sport);
        # d: strongest of all but deleted; e: outside the date range
        a = _save(conn, uid, T0, "cycling", [500, 400, 300.125], [10, 11, 12])
        b = _save(conn, uid, T0 + timedelta(days=1), "cycling.road", [450, 420, 250], [5, 5, 4])
        c = _save(conn, uid, T0 + timedelta(days=2), "running", [900, 900, 900], [0, 0, 0])
        d = _save(conn, uid, T0 + timedelta(days=3), "cycling", [999, 999, 999], [0, 0, 0])
        _save(conn, uid, T0 + timedelta(days=40), "cycling", [999, 999, 999], [0, 0, 0])
        repo.mark_deleted(conn, d, uid)
    with db.connect() as conn:
        durs, vals, starts = repo.load_curve(conn, a, "power")
        assert durs.tolist() == [1, 2, 3] and vals.tolist() == [500, 400, 300.125] and starts.tolist() == [10, 11, 12]
        assert repo.load_curve(conn, a, "speed") is None
        out = repo.longitudinal_mean_max(
            conn, uid, "power", [1, 2, 3, 10], start_from=T0, start_to=T0 + timedelta(days=10), sports=["cycling"]
        )
        got = [(r["duration"], r["value"], r["activity_id"]) for r in out]
        assert got == [(1, 500, a), (2, 420, b), (3, 300.125, a)]
        assert out[1]["start"] == T0 + timedelta(days=1, seconds=5) and out[1]["sport"] == "cycling.road"
        assert out[2]["start"] == T0 + timedelta(seconds=12)
        everything = repo.longitudinal_mean_max(conn, uid, "power", "all", start_to=T0 + timedelta(days=10))
        assert [(r["value"], r["activity_id"]) for r in everything] == [(900, c)] * 3
        assert repo.longitudinal_mean_max(conn, uid, "power", [1], sports=["swimming"]) == []
        assert repo.longitudinal_mean_max(conn, uid + 10_000, "power", [1]) == []


def test_curves_longer_than_the_padding(db, user):
    # a 7 h ride reaches grid points past the 6 h padding; a 1 h ride next to it does not
    uid, _ = user
    n_long = int(np.searchsorted(GRID, 7 * 3600, "right"))
    n_short = int(np.searchsorted(GRID, 3600, "right"))
    assert n_long > CURVE_MIN_LEN > n_short
    with db.begin() as conn:
        long_ = _save(conn, uid, T0, "cycling", np.linspace(600, 200, n_long), np.zeros(n_long))
        short = _save(conn, uid, T0 + timedelta(days=1), "cycling", np.full(n_short, 650.0), np.zeros(n_short))
    with db.connect() as conn:
        out = {r["duration"]: r for r in repo.longitudinal_mean_max(conn, uid, "power", [1, 3600, 7 * 3600])}
    assert (out[1]["activity_id"], out[1]["value"]) == (short, 650)
    assert out[3600]["activity_id"] == short
    assert out[7 * 3600]["activity_id"] == long_
    assert out[7 * 3600]["value"] == pytest.approx(200, rel=1e-6)


def test_migration_moves_old_product_curves(tmp_path):
    # before revision 0003 curves were mm_<metric> / mm_<metric>_start float64 products
    from sqlalchemy import insert, select

    from runhub.store import Database
    from runhub.store.tables import activities, activity_curves, activity_products, users

    database = Database(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    database.upgrade("0002")
    now = datetime.now(UTC)
    with database.begin() as conn:
        uid = conn.execute(insert(users).values(username="old", settings={}, created_at=now)).inserted_primary_key[0]
        conn.execute(
            insert(activities).values(
                id=7, owner_id=uid, start_utc=T0, sport="cycling", summary={}, meta={}, created_at=now, updated_at=now
            )
        )
        for kind, arr in (("mm_power", [300.0, 250.5]), ("mm_power_start", [4.0, 3.0])):
            conn.execute(
                insert(activity_products).values(
                    activity_id=7,
                    kind=kind,
                    owner_id=uid,
                    start_utc=T0,
                    sport="cycling",
                    encoding="f8",
                    data=np.array(arr, "<f8").tobytes(),
                )
            )
    database.upgrade()
    with database.connect() as conn:
        assert conn.execute(select(activity_products.c.kind)).all() == []
        assert conn.execute(select(activity_curves.c.n, activity_curves.c.start_utc)).one() == (2, T0)
        durs, vals, starts = repo.load_curve(conn, 7, "power")
    assert vals.tolist() == [300, 250.5] and starts.tolist() == [4, 3]
    database.dispose()


def test_activity_mean_max_on_and_off_the_grid(db, user):
    # 200 s at 200 W then 100 s at 300 W (1 Hz), ingested: grid durations come from the stored
    # curve, an off-grid duration (183 s) makes the whole answer exact from the streams.
    from runhub.ingest import ingest_activity

    uid, _ = user
    t = np.arange(301.0)
    p = np.where(t <= 200, 200.0, 300.0)
    a = Activity(start=T0, sport="cycling", channels={"time": t, "power": p})
    res = ingest_activity(db, uid, a, client_id="curves-test")
    with db.connect() as conn:
        grid = repo.activity_mean_max(conn, res.activity_id, "power", [60, 180, 3600])
        off = repo.activity_mean_max(conn, res.activity_id, "power", [60, 183])
        assert repo.activity_mean_max(conn, res.activity_id, "speed", [60]) is None
        assert repo.activity_mean_max(conn, res.activity_id, "power", [60], owner_id=uid + 10_000) is None
        assert repo.activity_mean_max(conn, res.activity_id, "power", [183], owner_id=uid + 10_000) is None
        assert repo.activity_mean_max(conn, res.activity_id, "power", [60], owner_id=uid)[0]["value"] == 300
    # best 180 s: the last 100 s at 300 W plus 80 s at 200 W before them, starting at 120 s
    expected = [(60, 300), (180, pytest.approx((100 * 300 + 80 * 200) / 180))]
    assert [(r["duration"], r["value"]) for r in grid] == expected
    assert grid[1]["start"] == T0 + timedelta(seconds=120)
    assert [(r["duration"], r["value"]) for r in off] == [(60, 300), (183, pytest.approx((100 * 300 + 83 * 200) / 183))]
    assert off[1]["start"] == T0 + timedelta(seconds=117)


def test_edit_moves_products_and_facts_with_the_start(db, user):
    # a PATCH that moves the start (and the distance) must move the products too: longitudinal
    # queries filter on the products' own start, stats read the facts' local start
    from sqlalchemy import select

    from runhub.analysis import analyse
    from runhub.store.tables import activity_curves, activity_products

    uid, _ = user
    t = np.arange(121.0)
    a = Activity(start=T0, sport="cycling", channels={"time": t, "power": np.full(121, 250.0)})
    a.summary = analyse(a).summary
    with db.begin() as conn:
        aid = repo.insert_activity(conn, a, owner_id=uid, client_id=None, content_hash=None)
        repo.save_products(conn, aid, a, uid, analyse(a).products)
    moved = T0 + timedelta(days=100, hours=3)
    with db.begin() as conn:
        b = repo.row_to_activity(repo.get_row(conn, aid, uid))
        b.start, b.utc_offset = moved, 7200
        b.summary.distance = 5000.0
        repo.update_fields(conn, aid, b)
    with db.connect() as conn:
        starts = {
            r[0]
            for r in conn.execute(select(activity_products.c.start_utc).where(activity_products.c.activity_id == aid))
        }
        assert starts == {moved}
        assert (
            conn.execute(select(activity_curves.c.start_utc).where(activity_curves.c.activity_id == aid)).scalar()
            == moved
        )
        facts = [v for i, _, _, v in _products(conn, uid, "facts") if i == aid][0]
        assert facts["local_start"] == "2024-06-09T12:00:00" and facts["distance"] == 5000
        near_old = repo.longitudinal_mean_max(conn, uid, "power", [60], start_from=T0, start_to=T0 + timedelta(days=1))
        near_new = repo.longitudinal_mean_max(
            conn, uid, "power", [60], start_from=moved, start_to=moved + timedelta(days=1)
        )
    assert near_old == []
    assert [(r["activity_id"], r["value"], r["start"]) for r in near_new] == [(aid, 250, moved)]


def _products(conn, uid, kind):
    from runhub.store.products import load_products

    return load_products(conn, uid, kind)


def test_sparse_and_dense_reads_agree(db, user):
    # the 19 defaults read only their own columns, "all" reads whole prefixes: same envelope;
    # past the 6 h padding only the curves that reach a duration count
    from runhub.analysis.mean_max import DEFAULT_DURATIONS, grid_for

    uid, _ = user
    rng = np.random.default_rng(3)
    saved = []
    with db.begin() as conn:
        for i in range(30):
            n = len(grid_for(float(rng.integers(600, 8 * 3600))))
            vals = np.round(400 * GRID[:n] ** -0.15 * rng.uniform(0.8, 1.2), 1)
            saved.append((_save(conn, uid, T0 + timedelta(days=i), "cycling", vals, rng.integers(0, 100, n)), vals))
    with db.connect() as conn:
        sparse = repo.longitudinal_mean_max(conn, uid, "power")
        dense = {r["duration"]: r for r in repo.longitudinal_mean_max(conn, uid, "power", "all")}
        late = repo.longitudinal_mean_max(conn, uid, "power", [25200, 172800])
    assert [r["duration"] for r in sparse] == [d for d in DEFAULT_DURATIONS if d in dense]
    for r in sparse:
        assert r == dense[r["duration"]]
    k = int(np.searchsorted(GRID, 25200))
    reach = [(float(v[k]), aid) for aid, v in saved if len(v) > k]  # 0.1 W values: float32 round-trips them
    best = max(v for v, _ in reach)
    assert [(r["duration"], r["value"], r["activity_id"]) for r in late] == [
        (25200, best, next(aid for v, aid in reach if v == best))
    ]
