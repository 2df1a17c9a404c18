"""The one ingest path against the real database: stored exactly, deduplicated as the seed says,
nothing stored on bad input."""

import json
import tracemalloc
from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import func, select

from runhub import demo
from runhub.formats import smashrun_json as sj
from runhub.ingest import ingest_activity, ingest_bytes
from runhub.store import activities as repo
from runhub.store.tables import activities, activity_products, activity_streams
from tests.conftest import make_user


def stored_count(db, owner: int) -> int:
    with db.connect() as conn:
        return conn.execute(select(func.count()).select_from(activities).where(activities.c.owner_id == owner)).scalar()


def run_json(seed: int = 1, **changes) -> bytes:
    a = demo.make_run(seed, demo.datetime(2024, 6, 1, 5, 0, tzinfo=demo.UTC), minutes=12)
    a.external_id = None
    for k, v in changes.items():
        setattr(a, k, v)
    return sj.encode(a)


def test_stored_activity_comes_back_bit_exact(db, user):
    uid, _ = user
    a = demo.make_run(7, demo.datetime(2024, 6, 2, 5, 0, tzinfo=demo.UTC), minutes=20)
    a.channels["power"] = np.where(np.arange(a.n_samples) % 7 == 0, np.nan, 250.0 + np.arange(a.n_samples) % 13)
    res = ingest_activity(db, uid, a, client_id="app")
    assert res.status == "created"
    with db.connect() as conn:
        back = repo.load_activity(conn, res.activity_id, uid)
        assert repo.load_activity(conn, res.activity_id, uid + 10_000) is None  # another owner sees nothing
    assert back is not None and back.start == a.start and back.pauses == a.pauses
    for name, arr in a.channels.items():
        assert back.channels[name].view(np.uint64).tolist() == arr.view(np.uint64).tolist()
    assert [lap.end_index for lap in back.laps] == [lap.end_index for lap in a.laps]
    # The summary is derived from the channels. demo.make_run: 20 min at 1 Hz (last clock 1199 s)
    # plus a 45 s stop, so the clock steps 46 s across the pause; the seed counts that whole
    # clock difference as paused: elapsed 1244 s, timer 1244 - 46 = 1198 s.
    assert back.summary.elapsed_time == 1244.0
    assert back.summary.timer_time == pytest.approx(1198.0, abs=1e-9)


def test_original_upload_is_kept_byte_for_byte(db, user):
    uid, _ = user
    data = run_json(2)
    res = ingest_bytes(db, uid, data, filename="run.json", client_id="app")[0]
    with db.connect() as conn:
        original = repo.load_original(conn, res.activity_id)
    assert original == (data, "json", "run.json")


def test_dedupe_rules(db):
    uid, _ = make_user(db, "dedupe")
    first = ingest_bytes(db, uid, run_json(3), client_id="app-a")[0]
    assert first.status == "created" and first.duplicate_of is None

    # the same bytes from the same app: nothing new
    again = ingest_bytes(db, uid, run_json(3), client_id="app-a")[0]
    assert (again.status, again.activity_id) == ("duplicate", first.activity_id)

    # the same run, edited (new notes), from the same app: overwritten in place
    edited = ingest_bytes(db, uid, run_json(3, notes="felt good"), client_id="app-a")[0]
    assert (edited.status, edited.activity_id) == ("updated", first.activity_id)

    # the same run from another source: stored as a dupe, marked
    other = ingest_bytes(db, uid, run_json(3), client_id="app-b")[0]
    assert other.status == "created" and other.activity_id != first.activity_id
    assert other.duplicate_of == first.activity_id

    # a different run 10 s later is no match
    shifted = demo.make_run(3, demo.datetime(2024, 6, 1, 5, 0, 10, tzinfo=demo.UTC), minutes=12)
    shifted.external_id = None
    later = ingest_bytes(db, uid, sj.encode(shifted), client_id="app-a")[0]
    assert later.status == "created" and later.duplicate_of is None
    assert stored_count(db, uid) == 3


def test_same_external_id_from_same_client_updates(db):
    uid, _ = make_user(db, "extid")
    a = demo.make_run(4, demo.datetime(2024, 6, 3, 5, 0, tzinfo=demo.UTC), minutes=10)
    a.external_id = "watch-123"
    first = ingest_bytes(db, uid, sj.encode(a), client_id="app")[0]
    a.start += timedelta(hours=3)  # even a corrected start time: the external id decides
    second = ingest_bytes(db, uid, sj.encode(a), client_id="app")[0]
    assert (second.status, second.activity_id) == ("updated", first.activity_id)
    third = ingest_bytes(db, uid, sj.encode(a), client_id="other-app")[0]
    assert third.status == "created"


@pytest.mark.parametrize(
    "payload",
    [
        b"{not json",
        b"\x00\x01garbage bytes",
        json.dumps({"startDateTimeLocal": "2024-01-01T00:00:00Z", "recordingKeys": ["clock", "distance"],
                    "recordingValues": [[0, 1, 1], [0, 0.1, 0.2]]}).encode(),
        json.dumps({"startDateTimeLocal": "2024-01-01T00:00:00Z", "distance": 5, "duration": 10,
                    "notes": "n" * 801}).encode(),
    ],
)
def test_bad_input_stores_nothing(db, payload):
    uid, _ = make_user(db, "bad")
    res = ingest_bytes(db, uid, payload, filename="bad.json", client_id="app")
    assert [r.status for r in res] == ["failed"]
    assert res[0].error and "bad.json" in (res[0].error_detail or {}).get("file", "bad.json")
    assert stored_count(db, uid) == 0


@pytest.mark.timeout(30)
def test_a_track_of_impossible_length_is_refused_before_its_products(db):
    # found by fuzzing: a TCX of 200 fixes a second apart and no DistanceMeters, alternating
    # between longitude 0 and 179 at 10 N: far past any jump filter's share of cuts, so the
    # track's length stands as recorded. The summary's check refused it, but only after a split a
    # kilometre had been built (a 200-point file: 50 s and 6 GB). A hand count of what the refusal
    # must name, on a sphere: a step's great circle is acos(sin^2 10 + cos^2 10 cos 179) = 160.0
    # degrees, at 111.2 km a degree 17,790 km; 199 steps 3.540e9 m (the ellipsoid differs by < 1 %).
    points = "".join(
        f"<Trackpoint><Time>2024-06-01T05:{k // 60:02d}:{k % 60:02d}Z</Time><Position>"
        f"<LatitudeDegrees>10</LatitudeDegrees><LongitudeDegrees>{179 if k % 2 else 0}</LongitudeDegrees>"
        "</Position></Trackpoint>" for k in range(200))
    tcx = ('<?xml version="1.0"?><TrainingCenterDatabase '
           'xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"><Activities>'
           '<Activity Sport="Running"><Id>2024-06-01T05:00:00Z</Id><Lap StartTime="2024-06-01T05:00:00Z">'
           "<TotalTimeSeconds>199</TotalTimeSeconds><DistanceMeters>0</DistanceMeters><Calories>0</Calories>"
           "<Intensity>Active</Intensity><TriggerMethod>Manual</TriggerMethod>"
           f"<Track>{points}</Track></Lap></Activity></Activities></TrainingCenterDatabase>").encode()
    uid, _ = make_user(db, "jumps")
    ingest_bytes(db, uid, run_json(), client_id="warm-up")  # the compiled kernels loaded, not measured
    tracemalloc.start()
    try:
        (res,) = ingest_bytes(db, uid, tcx, filename="jumps.tcx", client_id="app")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 32 * 2**20, peak  # a 40 KB file: nothing near the gigabytes of 3.5 million splits
    assert res.status == "failed"
    assert res.error_detail["field"] == "summary.distance", res.error
    assert float(res.error_detail["message"].split()[0]) == pytest.approx(3.540e9, rel=0.01), res.error
    assert stored_count(db, uid) == 1  # the warm-up's


def test_oversized_upload_is_refused_before_decoding(db, user):
    uid, _ = user
    res = ingest_bytes(db, uid, b"{" + b" " * 2000 + b"}", max_bytes=1000)
    assert res[0].status == "failed" and "limit" in res[0].error


def test_a_failed_write_leaves_no_half_activity(db, user):
    uid, _ = user
    a = demo.make_run(9, demo.datetime(2024, 6, 9, 5, 0, tzinfo=demo.UTC), minutes=5)
    before = stored_count(db, uid)
    with pytest.raises(RuntimeError), db.begin() as conn:
        aid = repo.insert_activity(conn, a, owner_id=uid, client_id="x", content_hash="h-half")
        raise RuntimeError("crash between row and products")
    assert stored_count(db, uid) == before
    with db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(activity_streams)
                            .where(activity_streams.c.activity_id == aid)).scalar() == 0
        assert conn.execute(select(func.count()).select_from(activity_products)
                            .where(activity_products.c.activity_id == aid)).scalar() == 0


def test_a_multi_activity_file_is_stored_and_then_a_duplicate(db, user):
    """Every activity of a multisport FIT file gets its own 64-character content key (the column
    is VARCHAR(64), which PostgreSQL enforces); the same bytes again are duplicates, all of them."""
    from tests.conftest import CORPUS

    path = CORPUS / "fit" / "fitparse_activity-large-fenxi2-multisport.fit"
    if not path.exists():
        pytest.skip(f"activity corpus not found at {CORPUS} (set RUNHUB_CORPUS)")
    uid, _ = user
    data = path.read_bytes()
    first = ingest_bytes(db, uid, data, filename=path.name)
    assert len(first) > 1 and {r.status for r in first} == {"created"}
    with db.connect() as conn:
        keys = conn.execute(select(activities.c.content_hash).where(activities.c.owner_id == uid)).scalars().all()
    assert len(set(keys)) == len(first) and {len(k) for k in keys} == {64}
    again = ingest_bytes(db, uid, data, filename=path.name)
    assert [(r.status, r.activity_id) for r in again] == [("duplicate", r.activity_id) for r in first]
