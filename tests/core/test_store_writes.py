"""The ingest write path below ingest.py: one dedupe query, statements compiled once, JSON encoded
once. Same rows as before on SQLite and PostgreSQL; these pin what the faster path must keep."""

import json
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import func, select

from runhub import demo
from runhub.ingest import ingest_activity
from runhub.store import activities as repo
from runhub.store.tables import activities, activity_curves, activity_originals, activity_products, users
from tests.conftest import make_user

WINDOW = timedelta(seconds=5)


def _run(seed: int, start: datetime, minutes: int = 6):
    a = demo.make_run(seed, start, minutes=minutes)
    a.external_id = None
    return a


def test_find_existing_sees_what_the_three_lookups_saw(db):
    uid, _ = make_user(db, "existing")
    t0 = datetime(2024, 7, 1, 6, 0, tzinfo=UTC)
    a = _run(1, t0)
    a.external_id = "ext-1"
    first = ingest_activity(db, uid, a, client_id="app", content_key="k1")
    near = ingest_activity(db, uid, _run(2, t0 + timedelta(seconds=3), minutes=30), client_id="other")
    with db.begin() as conn:
        found = repo.find_existing(
            conn, uid, "app", content_hash="k1", external_id="ext-1", start=t0 + timedelta(seconds=1), window=WINDOW
        )
        assert found.by_content.id == found.by_external_id.id == first.activity_id
        assert [r.id for r in found.candidates] == [first.activity_id, near.activity_id]  # oldest start first
        # another client: no content or external-id match, the same candidates
        other = repo.find_existing(
            conn, uid, None, content_hash="k1", external_id="ext-1", start=t0, window=WINDOW
        )
        assert other.by_content is None and other.by_external_id is None and len(other.candidates) == 2
        # deleted: still found by content and external id (a duplicate stays a duplicate), no candidate
        assert repo.mark_deleted(conn, first.activity_id, uid)
        gone = repo.find_existing(
            conn, uid, "app", content_hash="k1", external_id="ext-1", start=t0, window=WINDOW
        )
        assert gone.by_content.id == gone.by_external_id.id == first.activity_id
        assert [r.id for r in gone.candidates] == [near.activity_id]
        # outside the window, another owner, no keys: nothing
        far = repo.find_existing(conn, uid, "app", content_hash=None, external_id=None,
                                 start=t0 + timedelta(seconds=10), window=WINDOW)
        assert far.by_content is None and far.by_external_id is None and far.candidates == []
        nobody = repo.find_existing(conn, uid + 10_000, "app", content_hash="k1", external_id="ext-1",
                                    start=t0, window=WINDOW)
        assert nobody == repo.Existing(None, None, [])


def test_an_overwrite_replaces_every_part_and_touches_the_owner(db):
    uid, _ = make_user(db, "overwrite")
    t0 = datetime(2024, 7, 2, 6, 0, tzinfo=UTC)
    a = _run(3, t0)
    a.channels["power"] = np.full(a.n_samples, 200.0)
    first = ingest_activity(db, uid, a, client_id="app", original=b"first upload", fmt="json", content_key="c1")
    curves = select(activity_curves.c.metric).where(activity_curves.c.activity_id == first.activity_id)
    with db.connect() as conn:
        touched = conn.execute(select(users.c.data_updated_at).where(users.c.id == uid)).scalar_one()
        assert "power" in conn.execute(curves).scalars().all()
    b = _run(3, t0)  # the same run again, edited, without power: matched, overwritten in place
    b.notes = "edited"
    second = ingest_activity(db, uid, b, client_id="app", original=b"second upload", fmt="json", content_key="c2")
    assert (second.status, second.activity_id) == ("updated", first.activity_id)
    with db.connect() as conn:
        back = repo.load_activity(conn, first.activity_id, uid)
        assert back.notes == "edited" and "power" not in back.channels
        assert repo.load_original(conn, first.activity_id) == (b"second upload", "json", None)
        assert "power" not in conn.execute(curves).scalars().all()
        row = conn.execute(select(activities.c.content_hash, activities.c.summary, activities.c.meta)
                           .where(activities.c.id == first.activity_id)).one()
        assert row.content_hash == "c2" and row.meta["notes"] == "edited" and isinstance(row.summary, dict)
        assert conn.execute(select(users.c.data_updated_at).where(users.c.id == uid)).scalar_one() >= touched
        assert conn.execute(select(func.count()).select_from(activity_originals)
                            .where(activity_originals.c.activity_id == first.activity_id)).scalar() == 1


def test_json_columns_hold_plain_json_nan_as_null(db):
    uid, _ = make_user(db, "jsontext")
    a = _run(4, datetime(2024, 7, 3, 6, 0, tzinfo=UTC))
    a.extras = {"ratio": float("nan"), "n": np.int64(3), "deep": [np.float32(1.5), float("inf")]}
    res = ingest_activity(db, uid, a, client_id="app")
    with db.connect() as conn:
        meta = conn.execute(select(activities.c.meta).where(activities.c.id == res.activity_id)).scalar_one()
        kinds = conn.execute(select(func.count()).select_from(activity_products)
                             .where(activity_products.c.activity_id == res.activity_id)).scalar()
    assert meta["extras"] == {"ratio": None, "n": 3, "deep": [1.5, None]}
    assert kinds > 0


def test_product_json_means_what_the_json_module_wrote():
    """The write path dumps with orjson and falls back to `_jsonable` + json: each kind of value
    it may meet, with what json.dumps of its plain form reads back as, written out by hand."""
    from dataclasses import dataclass

    from runhub.store.activities import _json_bytes

    @dataclass
    class Lap:
        start: float
        kind: str

    cases = [
        ({"a": 1, "b": [1.5, 2, None], "c": "é"}, {"a": 1, "b": [1.5, 2, None], "c": "é"}),
        ({1: "one", 2: [0.1]}, {"1": "one", "2": [0.1]}),  # int keys become strings
        ([float("nan"), float("inf"), -float("inf"), 1e-7, 1e16], [None, None, None, 1e-7, 1e16]),
        ({"t": datetime(2024, 7, 1, 6, 0, 1, 250000, tzinfo=UTC)}, {"t": "2024-07-01T06:00:01.250000+00:00"}),
        ([Lap(12.5, "active")], [{"start": 12.5, "kind": "active"}]),
        ({"n": np.int64(3), "x": np.float64(0.1), "f": np.float32(1.5)}, {"n": 3, "x": 0.1, "f": 1.5}),
        ({"arr": np.array([1.0, np.nan])}, {"arr": [1.0, None]}),
        ({"big": 2**70}, {"big": 1180591620717411303424}),
    ]
    for value, expected in cases:
        raw = _json_bytes(value)
        assert isinstance(raw, bytes)
        assert json.loads(raw) == expected, value
        assert b", " not in raw and b": " not in raw  # compact


def test_a_lost_race_is_retried_through_the_unique_index(db, monkeypatch):
    """Two uploads of the same bytes at once: both look up, find nothing, both insert; the unique
    (owner, client, content) index refuses the second, whose retry then finds the first. The
    prepared statements must surface that refusal as SQLAlchemy's IntegrityError like before."""
    uid, _ = make_user(db, "race")
    a = _run(5, datetime(2024, 7, 4, 6, 0, tzinfo=UTC))
    first = ingest_activity(db, uid, a, client_id="app", content_key="same-bytes")
    real = repo.find_existing
    calls = []

    def blind_once(conn, *args, **kwargs):  # the first look-up misses what the other upload stored
        calls.append(1)
        found = real(conn, *args, **kwargs)
        return repo.Existing(None, None, []) if len(calls) == 1 else found

    monkeypatch.setattr(repo, "find_existing", blind_once)
    second = ingest_activity(db, uid, _run(5, a.start), client_id="app", content_key="same-bytes")
    assert len(calls) == 2
    assert (second.status, second.activity_id) == ("duplicate", first.activity_id)
    with db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(activities)
                            .where(activities.c.owner_id == uid)).scalar() == 1


def test_products_written_in_chunks_come_back_whole(db, monkeypatch):
    """A multi-row INSERT holds at most MAX_ROWS rows; more products take several statements."""
    from runhub.ingest import prepare
    from runhub.store import products as products_repo

    uid, _ = make_user(db, "chunks")
    a = _run(6, datetime(2024, 7, 5, 6, 0, tzinfo=UTC))
    monkeypatch.setattr(repo._INSERT_PRODUCTS, "MAX_ROWS", 3)
    res = ingest_activity(db, uid, a, client_id="app")
    expected = {k for k in prepare(_run(6, a.start)) if not k.startswith("mm_")}
    assert len(expected) > 3
    with db.connect() as conn:
        stored = products_repo.load_activity_products(conn, res.activity_id)
    assert set(stored) == expected
