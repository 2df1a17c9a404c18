"""`runhub reanalyse`: runs stored by an older runhub brought up to today's readers and analysis,
what the athlete edited kept. An "older runhub" is today's with the GPS jump rule switched off
(sports.MAX_SPEEDS emptied while the run is imported): its runs carry the jump's kilometres, and
the expected distances after are worked out by hand as in tests/formats/test_device_quirks.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from runhub import reanalyse as re_
from runhub import sports
from runhub.formats import FormatError, tcx
from runhub.formats.export_lists import AsListed
from runhub.ingest import ingest_activity, ingest_bytes
from runhub.store import activities as repo
from runhub.store.tables import activities, activity_originals

# 20 points a second apart north from 50 N 10 E, 1e-4 deg of latitude apart (~11.12 m), the
# tenth put 0.03 deg (2.2 km) east: a run of 19 x 11.12 m, or 4.4 km more with the jump counted
POINTS = "".join(
    f'<trkpt lat="{50 + k * 1e-4:.4f}" lon="{10.03 if k == 10 else 10}"><time>2020-06-01T10:00:{k:02d}Z</time></trkpt>'
    for k in range(20))
GPX = ('<?xml version="1.0"?><gpx version="1.1" creator="x" xmlns="http://www.topografix.com/GPX/1/1">'
       f"<trk><name>Morning run</name><type>9</type><trkseg>{POINTS}</trkseg></trk></gpx>").encode()
RUN_M = 19 * 11.12


def _old_import(db, user_id: int, monkeypatch, data: bytes = GPX, name: str = "run.gpx") -> int:
    """The run as a runhub without the jump rule stored it."""
    with monkeypatch.context() as m:
        m.setattr(sports, "MAX_SPEEDS", {})
        (r,) = ingest_bytes(db, user_id, data, filename=name, client_id="runhub-cli", by_recorder=True)
    assert r.status == "created"
    return int(r.activity_id)


def _row(db, activity_id: int):
    with db.connect() as conn:
        return repo.get_row(conn, activity_id)


def test_a_run_imported_before_a_reader_fix_is_read_again_from_its_file(api, db, monkeypatch):
    aid = _old_import(db, api.user_id, monkeypatch)
    before = _row(db, aid)
    assert before.distance > 4000  # the jump counted
    (out,) = re_.reanalyse(db, api.user_id)
    assert (out.activity_id, out.status, out.source, out.kept) == (aid, "changed", "file", [])
    assert out.changes["distance"][0] == before.distance
    assert out.changes["distance"][1] == pytest.approx(RUN_M, rel=0.01)
    # the same run (id, title, file byte for byte), now as today's runhub reads it, over the API too
    body = api.get(f"/v1/my/activities/{aid}").json()
    assert body["distance"] == pytest.approx(RUN_M / 1000, rel=0.01) and not body["notes"]
    after = _row(db, aid)
    assert after.name == "Morning run" and after.created_at == before.created_at
    assert after.meta["extras"]["gps_jumps_left_out"]["count"] == 1
    with db.connect() as conn:
        assert repo.load_original(conn, aid)[0] == GPX
        # still as the import stored it, for an export list that comes later (export_lists)
        assert repo.as_imported(conn, aid, after.content_hash) == AsListed("Morning run", None, "running", False, {})
        stored = repo.load_activity(conn, aid, api.user_id)
    # the streams are the file's again, the jumped position in them as recorded
    assert stored is not None and stored.channels["longitude"][10] == 10.03
    # a second pass finds nothing to change, and writes no new time
    (again,) = re_.reanalyse(db, api.user_id)
    assert again.status == "unchanged" and _row(db, aid).updated_at == after.updated_at


def test_a_dry_run_says_what_would_change_and_writes_nothing(api, db, monkeypatch):
    aid = _old_import(db, api.user_id, monkeypatch)
    before = _row(db, aid)
    (out,) = re_.reanalyse(db, api.user_id, dry_run=True)
    assert out.status == "changed" and out.changes["distance"][1] == pytest.approx(RUN_M, rel=0.01)
    after = _row(db, aid)
    assert (after.distance, after.updated_at, after.meta) == (before.distance, before.updated_at, before.meta)


def test_what_was_patched_outlives_a_reanalysis(api, db, monkeypatch):
    """The athlete set the distance and the notes through PATCH: both stay; the duration, not
    edited, is the file's again; the title came from the file and stays too."""
    aid = _old_import(db, api.user_id, monkeypatch)
    r = api.patch_json(f"/v1/my/activities/{aid}", {"distance": 3.0, "notes": "felt long"})
    assert r.status_code == 200, r.text
    assert _row(db, aid).meta["extras"]["edited"] == ["distance", "notes"]
    (out,) = re_.reanalyse(db, api.user_id)
    assert out.kept == ["distance", "notes"] and out.status == "changed" and "distance" not in out.changes
    body = api.get(f"/v1/my/activities/{aid}").json()
    assert body["distance"] == pytest.approx(3.0) and body["notes"] == "felt long" and body["duration"] == 19
    assert _row(db, aid).meta["extras"]["gps_jumps_left_out"]["count"] == 1


def test_a_run_a_newer_file_replaced_is_no_edit(db, user, monkeypatch):
    """The same recorder's newer file of the run (here: with a description) overwrites it at
    import; every field is then that file's, so a reanalysis keeps none as edited."""
    uid, _ = user
    aid = _old_import(db, uid, monkeypatch)
    newer = GPX.replace(b"<name>Morning run</name>", b"<name>Morning run</name><desc>windy</desc>")
    with monkeypatch.context() as m:
        m.setattr(sports, "MAX_SPEEDS", {})
        (r,) = ingest_bytes(db, uid, newer, filename="run.gpx", client_id="runhub-cli", by_recorder=True)
    assert (r.status, r.activity_id) == ("updated", aid)
    (out,) = re_.reanalyse(db, uid)
    assert out.kept == [] and out.changes["distance"][1] == pytest.approx(RUN_M, rel=0.01)
    assert _row(db, aid).meta["notes"] == "windy"


def test_a_run_changed_before_edits_were_recorded_keeps_all_four(api, db, monkeypatch):
    """A run whose row changed after its import, saying neither what nor that runhub reanalysed
    it (an edit by a runhub before this one): its start, distance, duration and notes may be the
    athlete's, and stay."""
    aid = _old_import(db, api.user_id, monkeypatch)
    before = _row(db, aid)
    with db.begin() as conn:
        conn.execute(update(activities).where(activities.c.id == aid)
                     .values(updated_at=before.updated_at + timedelta(hours=1)))
    (out,) = re_.reanalyse(db, api.user_id)
    assert out.kept == list(re_.EDITABLE) and "distance" not in out.changes
    after = _row(db, aid)
    assert after.distance == before.distance and after.start_utc == before.start_utc
    assert after.meta["extras"]["gps_jumps_left_out"]["count"] == 1  # the file's reading is today's


def test_a_run_without_its_file_is_analysed_again_from_its_channels(db, user, monkeypatch):
    """A TCX's positions without distances (the analysis measures the track) stored without its
    file, as an app's upload is: the analysis of today leaves its jump out (60 steps of 1e-5 deg,
    ~1.112 m each at 50 N)."""
    points = "".join(
        f"<Trackpoint><Time>2020-06-01T10:{k // 60:02d}:{k % 60:02d}Z</Time><Position><LatitudeDegrees>"
        f"{50 + k * 1e-5:.5f}</LatitudeDegrees><LongitudeDegrees>{10.03 if k == 30 else 10}</LongitudeDegrees>"
        f"</Position></Trackpoint>" for k in range(61))
    doc = ('<?xml version="1.0"?><TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/'
           'TrainingCenterDatabase/v2"><Activities><Activity Sport="Running"><Id>2020-06-01T10:00:00Z</Id>'
           '<Lap StartTime="2020-06-01T10:00:00Z"><TotalTimeSeconds>60</TotalTimeSeconds><Calories>5</Calories>'
           f"<Intensity>Active</Intensity><TriggerMethod>Manual</TriggerMethod><Track>{points}</Track></Lap>"
           "</Activity></Activities></TrainingCenterDatabase>").encode()
    uid, _ = user
    with monkeypatch.context() as m:
        m.setattr(sports, "MAX_SPEEDS", {})
        (a,) = tcx.decode(doc)
        r = ingest_activity(db, uid, a, fmt="tcx")
    assert _row(db, r.activity_id).distance > 4000
    (out,) = re_.reanalyse(db, uid)
    assert (out.status, out.source) == ("changed", "stored channels")
    assert _row(db, r.activity_id).distance == pytest.approx(60 * 1.112, rel=0.01)


def test_each_run_of_a_file_of_several_is_read_again_from_it(db, user, monkeypatch):
    """A TCX of two activities (a multisport file): the second is stored without the file (the
    first holds it) and is found by the key it was stored under."""
    def activity(hour: int, lon: float) -> str:
        pts = "".join(
            f"<Trackpoint><Time>2020-06-01T{hour:02d}:00:{k:02d}Z</Time><Position><LatitudeDegrees>"
            f"{50 + k * 1e-4:.4f}</LatitudeDegrees><LongitudeDegrees>{lon if k == 10 else 10}</LongitudeDegrees>"
            f"</Position></Trackpoint>" for k in range(20))
        return (f'<Activity Sport="Running"><Id>2020-06-01T{hour:02d}:00:00Z</Id><Lap StartTime="2020-06-01T'
                f'{hour:02d}:00:00Z"><TotalTimeSeconds>19</TotalTimeSeconds><Calories>5</Calories><Intensity>Active'
                f"</Intensity><TriggerMethod>Manual</TriggerMethod><Track>{pts}</Track></Lap></Activity>")
    doc = ('<?xml version="1.0"?><TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/'
           f'TrainingCenterDatabase/v2"><Activities>{activity(10, 10.03)}{activity(12, 10.03)}</Activities>'
           "</TrainingCenterDatabase>").encode()
    uid, _ = user
    with monkeypatch.context() as m:
        m.setattr(sports, "MAX_SPEEDS", {})
        results = ingest_bytes(db, uid, doc, filename="two.tcx", client_id="runhub-cli", by_recorder=True)
    ids = [r.activity_id for r in results]
    assert len(ids) == 2 and all(_row(db, i).distance > 4000 for i in ids)
    outs = list(re_.reanalyse(db, uid))
    assert [(o.activity_id, o.status, o.source) for o in outs] == [(i, "changed", "file") for i in ids]
    assert all(_row(db, i).distance == pytest.approx(RUN_M, rel=0.01) for i in ids)


def test_a_file_todays_reader_refuses_leaves_its_run_as_it_was(db, user, monkeypatch):
    """A reader grown stricter (here: made to refuse the file) fails the run, says why, and
    changes nothing."""
    uid, _ = user
    aid = _old_import(db, uid, monkeypatch)
    before = _row(db, aid)

    def refuse(*_args, **_kw):
        raise FormatError("no longer read", format="gpx")

    monkeypatch.setattr(re_.formats, "decode", refuse)
    (out,) = re_.reanalyse(db, uid)
    assert out.status == "failed" and "no longer read" in out.error and "stays as it was" in out.error
    after = _row(db, aid)
    assert (after.distance, after.updated_at) == (before.distance, before.updated_at)


def test_every_corpus_run_imported_today_is_unchanged(db, user):
    """Reading a run again from its file gives what the import stored, for every file of the
    corpus runhub imports (FIT, TCX, GPX, CSV): the import and the reanalysis are one reading."""
    from tests.conftest import CORPUS

    if not CORPUS.is_dir():
        pytest.skip(f"activity corpus not found at {CORPUS} (set RUNHUB_CORPUS)")
    from runhub.ingest import ingest_paths

    uid, _ = user
    files = [p for kind in ("fit", "tcx", "gpx", "csv") for p in sorted((CORPUS / kind).iterdir())]
    created = [r.activity_id for _, rs in ingest_paths(db, uid, files, sport="running") for r in rs
               if r.status == "created"]
    assert len(created) > 50
    outs = list(re_.reanalyse(db, uid, dry_run=True))
    assert {o.activity_id for o in outs} >= set(created)
    assert [(o.activity_id, o.status, o.changes) for o in outs if o.status != "unchanged"] == []
    assert all(o.source == "file" and o.kept == [] for o in outs)  # a run a newer file replaced is no edit


def test_a_run_edited_while_it_is_reanalysed_stays_as_edited(api, db, monkeypatch):
    """The athlete's PATCH lands between the reanalysis's read of the run and its write: the write
    would undo the edit, so nothing is written and the run is named as failed, to be run again."""
    aid = _old_import(db, api.user_id, monkeypatch)
    analysed = re_.checked_products

    def edited_meanwhile(a, zone):
        products = analysed(a, zone)
        assert api.patch_json(f"/v1/my/activities/{aid}", {"notes": "edited meanwhile"}).status_code == 200
        return products

    monkeypatch.setattr(re_, "checked_products", edited_meanwhile)
    (out,) = re_.reanalyse(db, api.user_id)
    assert out.status == "failed" and "changed while it was reanalysed" in out.error
    row = _row(db, aid)
    assert row.meta["notes"] == "edited meanwhile" and row.distance > 4000  # the edit, and nothing else
    monkeypatch.setattr(re_, "checked_products", analysed)
    (again,) = re_.reanalyse(db, api.user_id)
    assert again.status == "changed" and again.kept == ["notes"]
    assert _row(db, aid).meta["notes"] == "edited meanwhile"


def test_heartbeats_a_runhub_did_not_read_are_read_again_from_the_file(db, user, monkeypatch):
    """A run stored by a runhub that dropped FIT hrv messages (its reader returns no beat) gains its
    RR intervals from its kept file; a second reanalysis, and one from the stored channels alone
    (the file gone), keeps them as they are."""
    import numpy as np
    from tests.conftest import CORPUS
    from tests.formats.test_rr_intervals import _fitdecode_rr

    from runhub.formats import fit

    src = CORPUS / "fit" / "fitparse_garmin-fenix-5-run.fit"
    if not src.is_file():
        pytest.skip(f"activity corpus not found at {CORPUS} (set RUNHUB_CORPUS)")
    uid, _ = user
    with monkeypatch.context() as m:
        m.setattr(fit, "_rr_intervals", lambda *_: (np.zeros(0), np.zeros(0, dtype=np.int64)))
        (r,) = ingest_bytes(db, uid, src.read_bytes(), filename=src.name, client_id="runhub-cli", by_recorder=True)
    with db.connect() as conn:
        assert repo.load_activity(conn, r.activity_id).rr_intervals is None
    (out,) = re_.reanalyse(db, uid)
    assert (out.status, out.source) == ("changed", "file")
    with db.connect() as conn:
        assert repo.load_activity(conn, r.activity_id).rr_intervals.tolist() == _fitdecode_rr(src.read_bytes())
    assert [o.status for o in re_.reanalyse(db, uid)] == ["unchanged"]
    with db.begin() as conn:
        conn.execute(activity_originals.delete().where(activity_originals.c.activity_id == r.activity_id))
    (out,) = re_.reanalyse(db, uid)
    assert (out.status, out.source) == ("unchanged", "stored channels")
    with db.connect() as conn:
        assert len(repo.load_activity(conn, r.activity_id).rr_intervals) == 113
