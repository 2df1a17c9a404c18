"""A lifetime of files holds one run several times: the watch's FIT, Strava's GPX of it, Garmin
Connect's TCX, a record table. The corpus names such pairs (SOURCES.md, "Same activity in more than
one file"). `runhub import` (ingest_paths, as the CLI calls it) keeps the first file of a run as it
was, stores a file of the same run from another recorder beside it marked as a possible duplicate
(the Smashrun seed's "dupe"), and never lets one recorder's file overwrite another's. A file runhub
wrote itself (an export) of a run the account holds changes nothing: a backup restored into the
account it came from."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from runhub import demo, formats
from runhub.analysis.timebase import make_timer_explicit
from runhub.formats import FormatError
from runhub.ingest import ingest_paths
from runhub.store import activities as repo
from runhub.store.tables import activities
from tests.conftest import make_user
from tests.formats.conftest import CORPUS

CLI = "runhub-cli"  # the client id `runhub import` passes

# (the device's file, the same run from elsewhere): SOURCES.md, "Same activity in more than one file".
# Two pairs it names are left out because they are no match under ingest's rule (start within 5 s,
# timer and distance within 1 %), which this test does not change: GoldenCheetah's rewrite of the
# FR55 walk starts 224 s after the watch's file, and the Edge 500's record table, which says nothing
# of pauses, has 10,800 s of timer where the FIT's timer events give 10,641 s (1.5 %).
PAIRS = [
    ("fit/gc_10kUNLP2014-Garmin15.fit", "tcx/gc_10kUNLP2014-Garmin15.tcx"),
    ("fit/sweatpy_4078723797.fit", "gpx/sweatpy_4078723797_strava.gpx"),
    ("fit/gc_GarminHRMswim.FIT", "tcx/gc_GarminHRMswim.tcx"),
    ("fit/fitparse_garmin-fenix-5-run.fit", "csv/fitparse_garmin-fenix-5-run-records.csv"),
]


def stored_count(db, owner: int) -> int:
    with db.connect() as conn:
        query = select(func.count()).select_from(activities).where(activities.c.owner_id == owner)
        return conn.execute(query).scalar()


def import_files(db, owner: int, paths: list[Path]) -> list[tuple[str, int | None, int | None]]:
    """(status, activity id, duplicate_of) per file, in order, as `runhub import` stores them."""
    out = []
    for _, results in ingest_paths(db, owner, paths, client_id=CLI, sport="running"):
        (r,) = results
        out.append((r.status, r.activity_id, r.duplicate_of))
    return out


@pytest.mark.parametrize("first,second", PAIRS, ids=[Path(p).stem for p, _ in PAIRS])
def test_the_same_run_from_two_recorders_is_kept_twice_and_neither_overwrites(db, tmp_path, first, second):
    if not CORPUS.is_dir():
        pytest.skip(f"activity corpus not found at {CORPUS} (set RUNHUB_CORPUS)")
    files = [CORPUS / first, CORPUS / second]
    for order in (files, files[::-1]):
        uid, _ = make_user(db, "sources")
        (s1, id1, d1), (s2, id2, d2) = import_files(db, uid, order)
        assert (s1, d1) == ("created", None)
        # before: a file of another recorder from the same importer overwrote the first ("updated")
        assert (s2, d2) == ("created", id1) and id2 != id1
        with db.connect() as conn:
            for path, aid in zip(order, (id1, id2), strict=True):
                data, fmt, _ = repo.load_original(conn, aid)
                assert data == path.read_bytes() and fmt == formats.sniff(path.read_bytes())
        # the same files again: the same bytes from the same recorder, nothing new
        assert [s for s, _, _ in import_files(db, uid, order)] == ["duplicate", "duplicate"]
        assert stored_count(db, uid) == 2


def test_a_restored_export_changes_nothing_where_the_format_says_runhub_wrote_it(db, tmp_path):
    if not CORPUS.is_dir():
        pytest.skip(f"activity corpus not found at {CORPUS} (set RUNHUB_CORPUS)")
    uid, _ = make_user(db, "restore")
    devices = [CORPUS / first for first, _ in PAIRS]
    ids = [aid for _, aid, _ in import_files(db, uid, devices)]
    folder = tmp_path / "backup"
    folder.mkdir()
    with db.connect() as conn:
        for aid, device in zip(ids, devices, strict=True):
            a = repo.load_activity(conn, aid, uid)
            for fmt in ("fit", "tcx", "gpx"):
                try:
                    (folder / f"{device.stem}.{fmt}").write_bytes(formats.encode(a, fmt))
                except FormatError:
                    assert fmt == "gpx" and "swim" in device.name.lower()  # a pool swim has no positions
    exports = sorted(folder.iterdir())
    assert len(exports) == 3 * len(devices) - 1
    results = import_files(db, uid, exports)
    by_stem = dict(zip((d.stem for d in devices), ids, strict=True))
    assert [(s, d) for s, _, d in results] == [("duplicate", by_stem[p.stem]) for p in exports]
    assert stored_count(db, uid) == len(devices)
    with db.connect() as conn:  # each run still holds its device's file
        for aid, device in zip(ids, devices, strict=True):
            assert repo.load_original(conn, aid)[0] == device.read_bytes()


def test_restore_rules_without_the_corpus(db, tmp_path):
    """A demo run: its FIT export into the account that has the run is a duplicate and into an empty
    account a new run. CSV cannot say who wrote it, but its samples can: the CSV export holds the
    run's to the bit, so it too is a duplicate there (before, it was stored beside the run as a
    marked dupe) and a new run elsewhere. A CSV one heart rate away is another recording of the
    run: stored beside it, marked; edited again under its name it overwrites its own run (the
    seed's rule for a run from the same source: a file naming no recorder is its own, by its name),
    and the same bytes again change nothing."""
    run = demo.make_run(77, datetime(2024, 4, 2, 6, 30, tzinfo=UTC), minutes=10.0)
    device = tmp_path / "watch.json"
    device.write_bytes(formats.encode(run, "json"))
    uid, _ = make_user(db, "restore-demo")
    ((_, rid, _),) = import_files(db, uid, [device])
    with db.connect() as conn:
        stored = repo.load_activity(conn, rid, uid)
    assert stored.pauses  # the demo run pauses: its CSV carries them as its timer column
    fit = tmp_path / "export.fit"
    fit.write_bytes(formats.encode(stored, "fit"))
    assert import_files(db, uid, [fit]) == [("duplicate", rid, rid)]
    other, _ = make_user(db, "restore-empty")
    ((status, fit_run, _),) = import_files(db, other, [fit])
    assert status == "created"

    make_timer_explicit(stored, "csv")  # as `runhub export` writes it
    csv = tmp_path / "export.csv"
    csv.write_bytes(formats.encode(stored, "csv"))
    assert import_files(db, uid, [csv]) == [("duplicate", rid, rid)]
    ((status, _, dupe_of),) = import_files(db, other, [csv])
    # the run there is its FIT export's, its samples at FIT's resolution: a marked dupe of it
    assert (status, dupe_of) == ("created", fit_run)

    def edited(name: str, source: Path, line: int) -> Path:
        """`source` with the heart rate of its line `line` one beat higher, as `name`."""
        lines = source.read_text().splitlines()
        heart = lines[0].split(",").index("heart_rate")
        row = lines[line].split(",")
        row[heart] = str(float(row[heart]) + 1)
        lines[line] = ",".join(row)
        path = tmp_path / name
        path.parent.mkdir(exist_ok=True)
        path.write_text("\n".join(lines) + "\n")
        return path

    once = edited("edited/export.csv", csv, 5)  # the same file, one sample corrected, in another folder
    ((status, cid, dupe_of),) = import_files(db, uid, [once])
    assert (status, dupe_of) == ("created", rid) and cid != rid
    twice = edited("edited/export.csv", once, 9)
    assert import_files(db, uid, [twice]) == [("updated", cid, None)]
    assert import_files(db, uid, [twice])[0][0] == "duplicate"
    assert stored_count(db, uid) == 2


def test_a_csv_export_restored_is_its_run_where_it_starts_after_the_run(db, tmp_path):
    """The elevate pool swim's first record lies 44 s after its session starts; its CSV export, whose
    first line is that record, starts there. Restored into its account it is its run all the same
    (before, it was stored again: its start was 44 s from the run's, past ingest's 5 s match); the
    same file one timer value away is not."""
    path = CORPUS / "fit" / "elevate_pool-swim.fit"
    if not path.is_file():
        pytest.skip(f"activity corpus not found at {CORPUS} (set RUNHUB_CORPUS)")
    uid, _ = make_user(db, "csv-swim")
    ((status, rid, _),) = import_files(db, uid, [path])
    assert status == "created"
    with db.connect() as conn:
        run = repo.load_activity(conn, rid, uid)
    assert run.channels["time"][0] == 44.0  # the file's first record, 44 s in
    make_timer_explicit(run, "csv")
    data = formats.encode(run, "csv")
    (copy,) = formats.decode(data, filename="swim.csv")
    assert (copy.start - run.start).total_seconds() == 44.0
    export = tmp_path / "swim.csv"
    export.write_bytes(data)
    assert import_files(db, uid, [export]) == [("duplicate", rid, rid)]
    lines = data.decode().splitlines()
    timer = lines[0].split(",").index("timer")
    row = lines[-1].split(",")
    row[timer] = str(float(row[timer]) + 0.5)
    lines[-1] = ",".join(row)
    (tmp_path / "other").mkdir()
    changed = tmp_path / "other" / "swim.csv"
    changed.write_text("\n".join(lines) + "\n")
    ((status, _, dupe_of),) = import_files(db, uid, [changed])
    assert (status, dupe_of) == ("created", None)  # 44 s from the run: no match, no copy either
    assert stored_count(db, uid) == 2


def test_two_csv_files_of_one_run_are_two_runs(db, tmp_path):
    """CSV names no recorder. Restoring a CSV backup of an account that held one run twice (the
    watch's and Strava's recordings, runhub's export naming each file by its activity id) must
    keep both: when every CSV counted as one recorder, the second file overwrote the first run."""
    run = demo.make_run(79, datetime(2024, 4, 4, 6, 30, tzinfo=UTC), minutes=8.0)
    watch = tmp_path / "20240404-063000-11.csv"
    watch.write_bytes(formats.encode(run, "csv"))
    strava = tmp_path / "20240404-063000-12.csv"
    lines = watch.read_text().splitlines()
    heart = lines[0].split(",").index("heart_rate")
    for k in range(1, len(lines), 7):  # another recording of the run: a few other heart rates
        row = lines[k].split(",")
        row[heart] = str(float(row[heart]) + 2)
        lines[k] = ",".join(row)
    strava.write_text("\n".join(lines) + "\n")
    uid, _ = make_user(db, "csv-twins")
    (s1, id1, d1), (s2, id2, d2) = import_files(db, uid, [watch, strava])
    assert (s1, d1) == ("created", None) and (s2, d2) == ("created", id1) and id2 != id1
    with db.connect() as conn:
        assert repo.load_original(conn, id1)[0] == watch.read_bytes()
        assert repo.load_original(conn, id2)[0] == strava.read_bytes()


def test_a_recorder_name_longer_than_the_key_column_still_deduplicates(db, tmp_path):
    """activities.client_key holds 128 characters: a longer recorder key ends in its hash."""
    run = demo.make_run(78, datetime(2024, 4, 3, 6, 30, tzinfo=UTC), minutes=5.0)
    run.device_name = "a GPS logger whose maker wrote a whole sentence into the creator attribute " * 4
    path = tmp_path / "long.gpx"
    path.write_bytes(formats.encode(run, "gpx").replace(b"exported by runhub", b"a logger"))
    uid, _ = make_user(db, "long-recorder")
    assert [s for s, _, _ in import_files(db, uid, [path, path])] == ["created", "duplicate"]
    with db.connect() as conn:
        (key,) = conn.execute(select(activities.c.client_key).where(activities.c.owner_id == uid)).one()
    assert len(key) == 128 and key.startswith(f"{CLI}|gpx|a GPS logger")


def test_a_truncated_copy_never_replaces_the_complete_file(db):
    """SOURCES.md: activity-unexpected-eof.fit is the FIT SDK's Activity.fit cut by 3 bytes, the same
    recorder and run. runhub reads the cut copy up to its break; it must not overwrite the whole
    file's run (before: "updated", and the stored original became the cut file), while the whole
    file does replace a cut copy stored first."""
    if not CORPUS.is_dir():
        pytest.skip(f"activity corpus not found at {CORPUS} (set RUNHUB_CORPUS)")
    whole, cut = CORPUS / "fit/fitparse_Activity.fit", CORPUS / "fit/fitparse_activity-unexpected-eof.fit"
    uid, _ = make_user(db, "truncated")
    (_, wid, _), second = import_files(db, uid, [whole, cut])
    assert second == ("duplicate", wid, wid)
    with db.connect() as conn:
        assert repo.load_original(conn, wid)[0] == whole.read_bytes()
    uid, _ = make_user(db, "truncated-first")
    (_, cid, _), second = import_files(db, uid, [cut, whole])
    assert second == ("updated", cid, None)
    with db.connect() as conn:
        assert repo.load_original(conn, cid)[0] == whole.read_bytes()
    assert stored_count(db, uid) == 1


def _gpx(kind: str | None) -> bytes:
    type_el = f"<type>{kind}</type>" if kind else ""
    return (f'<?xml version="1.0"?><gpx version="1.1" creator="logger" xmlns="http://www.topografix.com/GPX/1/1">'
            f'<trk>{type_el}<trkseg><trkpt lat="52.0" lon="4.0"><time>2024-05-05T07:00:00Z</time></trkpt>'
            f'<trkpt lat="52.001" lon="4.0"><time>2024-05-05T07:00:40Z</time></trkpt></trkseg></trk></gpx>').encode()


def test_the_sport_option_names_the_sport_of_a_file_that_says_none(db):
    from runhub.ingest import ingest_bytes

    uid, _ = make_user(db, "sport-option")
    cases = [(None, None, "generic"), (None, "running", "running"), ("cycling", "running", "cycling")]
    for k, (kind, option, expected) in enumerate(cases):
        data = _gpx(kind).replace(b"07:00", f"0{7 + k}:00".encode())  # three runs, hours apart
        (res,) = ingest_bytes(db, uid, data, filename="log.gpx", sport=option)
        with db.connect() as conn:
            assert repo.load_activity(conn, res.activity_id, uid).sport == expected, (kind, option)
    (bad,) = ingest_bytes(db, uid, _gpx(None).replace(b"2024", b"2023"), filename="log.gpx", sport="quidditch")
    assert bad.status == "failed" and bad.error_detail["field"] == "sport" and "quidditch" in bad.error
    assert stored_count(db, uid) == 3


# What an account export holds beside its activities, as the first bytes of each kind's own format
# (JPEG SOI + APP0, PNG signature, PDF header, an ISO media `ftyp` box, RIFF/WEBP, an HTML page)
OTHER_CONTENT = {
    "photo.jpg": (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01", "a JPEG image"),
    "photo.png": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "a PNG image"),
    "route.pdf": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "a PDF document"),
    "clip.mp4": (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00", "a video or HEIC image"),
    "photo.webp": (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "a WebP image"),
    "index.html": (b"<!DOCTYPE html>\n<html lang=\"en\"><head><title>My export</title>", "an HTML page"),
    # one of the JSON documents of a Garmin Connect account export, as its top level is laid out
    "summarizedActivities.json": (b'[{"summarizedActivitiesExport": [{"activityId": 1, "name": "Run"}]}]',
                                  "holds no activity"),
    # the header Strava writes in an account export's activities.csv
    "activities.csv": (b"Activity ID,Activity Date,Activity Name,Activity Type,Activity Description,Elapsed Time\n"
                       b"4078723797,\"Sep 20, 2019, 2:10:03 PM\",Morning Ride,Ride,,8356\n", "Strava's list"),
    # Apple Health's export beside export.xml (whose workouts are imported: test_import_apple_health.py):
    # export_cda.xml; an ECG of electrocardiograms/, as the watch writes it (key,value lines, a blank
    # line, then one voltage per line)
    "export_cda.xml": (b'<?xml version="1.0" encoding="UTF-8"?>\n<ClinicalDocument xmlns="urn:hl7-org:v3">\n',
                       "a clinical document"),
    "ecg_2024-04-04.csv": ("Name,Ann Runner\nDate of Birth,\"Jan 15, 1990\"\nRecorded Date,2024-04-04 08:00:00 +0200\n"
                           "Classification,Sinus Rhythm\nSymptoms,\nSoftware Version,1.90\nDevice,\"Watch6,7\"\n"
                           "Sample Rate,512 hertz\n\n\nLead,Lead I\nUnit,\u00b5V\n\n-56.017\n-60.112\n".encode(),
                           "an ECG recording"),
}


def test_a_folder_import_skips_what_is_plainly_not_an_activity(db, tmp_path):
    """Photos, videos, documents, web pages, another app's JSON, Strava's activities.csv and Apple
    Health's export files are skipped, each saying what it is; a broken FIT still fails; an upload
    of the same photo (not a folder import) is still refused."""
    from runhub.ingest import ingest_bytes

    folder = tmp_path / "export"
    folder.mkdir()
    run = demo.make_run(79, datetime(2024, 4, 4, 6, 30, tzinfo=UTC), minutes=5.0)
    (folder / "a-run.json").write_bytes(formats.encode(run, "json"))
    broken = bytearray(formats.encode(run, "fit"))
    broken[len(broken) // 2] ^= 0xFF  # its CRC no longer matches
    (folder / "b-broken.fit").write_bytes(bytes(broken))
    for name, (data, _) in OTHER_CONTENT.items():
        (folder / name).write_bytes(data)
    uid, _ = make_user(db, "skip")
    results = {p.name: rs for p, rs in ingest_paths(db, uid, sorted(folder.iterdir()), client_id=CLI)}
    assert results["a-run.json"][0].status == "created"
    assert results["b-broken.fit"][0].status == "failed"
    for name, (_, what) in OTHER_CONTENT.items():
        (r,) = results[name]
        assert r.status == "skipped" and what in r.error, (name, r.status, r.error)
    assert stored_count(db, uid) == 1
    (upload,) = ingest_bytes(db, uid, OTHER_CONTENT["photo.jpg"][0], filename="photo.jpg")
    assert upload.status == "failed" and "JPEG" in upload.error


@pytest.mark.parametrize("workers", [1, 2])
def test_a_file_past_the_limit_is_never_read_and_says_what_it_is(db, tmp_path, workers):
    """A folder import meets files past the size limit (a film in Strava's media/, a lifetime's
    export zipped): none is read whole (500 MB each here, sparse on disk; Python's allocations stay
    under 20 MB): a video is skipped, judged from its first bytes; a zip is read member by member
    (this one, zeros after its first bytes, is no zip); anything else is refused as too large;
    the runs beside them import."""
    import tracemalloc

    big = 500 * 1024 * 1024
    folder = tmp_path / "export"
    folder.mkdir()
    heads = {
        "media/finish.mp4": b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00",
        "export_12345.zip": b"PK\x03\x04\x14\x00\x00\x00\x08\x00",
        "huge.gpx": b'<?xml version="1.0"?>\n<gpx version="1.1" creator="x">',
    }
    for name, head in heads.items():
        (folder / name).parent.mkdir(exist_ok=True)
        with (folder / name).open("wb") as fh:
            fh.write(head)
            fh.truncate(big)  # sparse: no disk, and no memory unless read
    run = demo.make_run(81, datetime(2024, 4, 6, 6, 30, tzinfo=UTC), minutes=5.0)
    (folder / "run.fit").write_bytes(formats.encode(run, "fit"))
    uid, _ = make_user(db, f"big{workers}")
    paths = sorted(p for p in folder.rglob("*") if p.is_file())
    tracemalloc.start()
    try:
        results = {p.relative_to(folder).as_posix(): rs for p, rs in
                   ingest_paths(db, uid, paths, client_id=CLI, max_bytes=100 * 1024 * 1024, workers=workers)}
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024 * 1024, peak
    (video,) = results["media/finish.mp4"]
    assert video.status == "skipped" and "video" in video.error
    (zipped,) = results["export_12345.zip"]
    assert zipped.status == "failed" and "not a valid zip file" in zipped.error
    (huge,) = results["huge.gpx"]
    assert huge.status == "failed" and f"the file is {big} bytes, the limit is {100 * 1024 * 1024}" in huge.error
    assert [r.status for r in results["run.fit"]] == ["created"]
    assert stored_count(db, uid) == 1


def test_bytes_the_account_holds_are_a_duplicate_whoever_stored_them(db, tmp_path):
    """A file import asks for the exact bytes before decoding: a file an app uploaded through the
    API earlier is the same file (before: stored again beside it, marked); a folder imported twice
    is all duplicates, with the parallel import too."""
    from runhub.ingest import ingest_bytes

    uid, _ = make_user(db, "held")
    run = demo.make_run(80, datetime(2024, 4, 5, 6, 30, tzinfo=UTC), minutes=5.0)
    data = formats.encode(run, "json")
    (first,) = ingest_bytes(db, uid, data, filename="run.json", client_id="app-a")
    folder = tmp_path / "again"
    folder.mkdir()
    (folder / "run.json").write_bytes(data)
    for k in range(3):
        other = demo.make_run(81 + k, datetime(2024, 4, 6 + k, 6, 30, tzinfo=UTC), minutes=5.0)
        (folder / f"other-{k}.fit").write_bytes(formats.encode(other, "fit"))
    paths = sorted(folder.iterdir())
    statuses = {p.name: rs[0] for p, rs in ingest_paths(db, uid, paths, client_id=CLI)}
    assert (statuses["run.json"].status, statuses["run.json"].duplicate_of) == ("duplicate", first.activity_id)
    assert [statuses[f"other-{k}.fit"].status for k in range(3)] == ["created"] * 3
    for workers in (1, 2):
        again = [rs[0] for _, rs in ingest_paths(db, uid, paths, client_id=CLI, workers=workers)]
        assert [r.status for r in again] == ["duplicate"] * 4
        assert [r.format for r in again] == ["fit", "fit", "fit", "json"]
    assert stored_count(db, uid) == 4


def test_a_smashrun_json_export_restored_is_its_run(db, tmp_path):
    """runhub's Smashrun JSON export (the default of `runhub export --all`) writes the run's
    activityId: a file import of it into the account that holds that run is a duplicate; into
    another account, or naming another id, it is a run of its own; posted by an app (not a file
    import) the seed's rule stands (another source's matching run is stored, marked)."""
    from runhub.ingest import ingest_bytes

    run = demo.make_run(84, datetime(2024, 4, 9, 6, 30, tzinfo=UTC), minutes=10.0)
    uid, _ = make_user(db, "json-restore")
    (first,) = ingest_bytes(db, uid, formats.encode(run, "json"), client_id="app-a")  # as the demo runs come
    rid = first.activity_id
    with db.connect() as conn:
        stored = repo.load_activity(conn, rid, uid)
    export = tmp_path / f"{rid}.json"
    export.write_bytes(formats.encode(stored, "json"))
    assert json.loads(export.read_bytes())["activityId"] == rid
    assert import_files(db, uid, [export]) == [("duplicate", rid, rid)]
    other, _ = make_user(db, "json-restore-empty")
    assert import_files(db, other, [export])[0][0] == "created"
    renamed = tmp_path / "renamed.json"
    renamed.write_bytes(json.dumps(json.loads(export.read_bytes()) | {"activityId": rid + 999}).encode())
    assert [(s, d) for s, _, d in import_files(db, uid, [renamed])] == [("created", rid)]
    (posted,) = ingest_bytes(db, uid, export.read_bytes(), client_id="app-b")
    assert (posted.status, posted.duplicate_of) == ("created", rid)


def test_an_account_moved_by_its_export_keeps_both_recordings_of_a_run(db, tmp_path):
    """An account holding one run twice (the watch's FIT and another app's GPX of it, a marked dupe)
    and a run whose GPS found its fix late, exported in each format runhub writes and imported into
    an empty account, is the same three runs there, the dupe marked again. Before, the second
    recording's export was taken for the first's (FIT, TCX, GPX: "duplicate"; Smashrun JSON: it
    overwrote it, "updated"): an account moved by `export --all` lost a run for each such pair.
    Every file names the run it is the export of (FIT: a session developer field; TCX: an element in
    the Activity's Extensions; GPX: the metadata's description; JSON: activityId), so:
    * into the account it came from, each export is its run's duplicate, the late-fix run's GPX
      too, though it starts at its first position, 2 minutes after the run;
    * into an empty account, the exports of one run in four formats are one run;
    * a file naming a run of the account that lies at another time is not its duplicate."""
    watch = demo.make_run(91, datetime(2024, 5, 4, 7, 0, tzinfo=UTC), minutes=9.0)
    watch.device_name = "Forerunner 255"
    late = demo.make_run(92, datetime(2024, 5, 5, 7, 0, tzinfo=UTC), minutes=9.0)
    for name in ("latitude", "longitude"):
        late.channels[name][:120] = float("nan")  # no fix for its first 2 minutes
    src = tmp_path / "lifetime"
    src.mkdir()
    (src / "1-watch.fit").write_bytes(formats.encode(watch, "fit"))
    (src / "2-strava.gpx").write_bytes(_foreign_gpx(watch, "Morning Run"))
    (src / "3-late.fit").write_bytes(formats.encode(late, "fit"))
    uid, _ = make_user(db, "moving")
    (_, w_id, _), (_, g_id, g_dupe), (_, l_id, _) = import_files(db, uid, sorted(src.iterdir()))
    assert g_dupe == w_id and len({w_id, g_id, l_id}) == 3
    folders = {}
    with db.connect() as conn:
        stored = {aid: repo.load_activity(conn, aid, uid) for aid in (w_id, g_id, l_id)}
    for fmt in ("fit", "tcx", "gpx", "json"):
        folders[fmt] = tmp_path / fmt
        folders[fmt].mkdir()
        for aid, a in stored.items():
            (folders[fmt] / f"{aid}.{fmt}").write_bytes(formats.encode(a, fmt))
    late_gpx = formats.decode((folders["gpx"] / f"{l_id}.gpx").read_bytes())[0]
    assert (late_gpx.start - stored[l_id].start).total_seconds() >= 119  # beyond ingest's 5 s match

    for fmt, folder in folders.items():
        other, _ = make_user(db, f"moved-{fmt}")
        results = import_files(db, other, sorted(folder.iterdir()))
        assert [s for s, _, _ in results] == ["created"] * 3, fmt
        (_, w2, _), (_, _, dupe2), _ = results
        assert dupe2 == w2, fmt  # the other app's recording: a run of its own, marked as before
        assert stored_count(db, other) == 3

    everything = [p for folder in folders.values() for p in sorted(folder.iterdir())]
    fresh, _ = make_user(db, "moved-all")
    assert [s for s, _, _ in import_files(db, fresh, everything)] == ["created"] * 3 + ["duplicate"] * 9
    assert stored_count(db, fresh) == 3

    back = import_files(db, uid, everything)
    assert [(s, d) for s, _, d in back] == [("duplicate", int(p.stem)) for p in everything]
    assert stored_count(db, uid) == 3

    elsewhere = stored[l_id]
    elsewhere.id = w_id  # names the watch's run, a day away from this one
    (tmp_path / "misnamed.fit").write_bytes(formats.encode(elsewhere, "fit"))
    assert [s for s, _, _ in import_files(db, uid, [tmp_path / "misnamed.fit"])] == ["created"]


def _foreign_gpx(run, title: str) -> bytes:
    """`run` as a GPX another app wrote (Garmin Connect), named `title`: not runhub's export."""
    data = formats.encode(run, "gpx").replace(b'creator="runhub demo"', b'creator="Garmin Connect"')
    data = data.replace(b"<desc>exported by runhub</desc>", b"").replace(run.name.encode(), title.encode())
    assert b"runhub" not in data
    return data


def test_a_folder_imported_again_changes_nothing_where_a_newer_file_replaced_an_older(db, tmp_path):
    """Two files of one run from one recorder (a watch's file and its re-save, an edited copy):
    the later one overwrites the run, as always. Before, each import of the folder again swapped
    the run back to the older file and then to the newer (two "updated" every time); now the
    older file's bytes are held as the run's, and the folder again is all duplicates. The older
    file alone still updates nothing, and a file the run was never stored from still counts."""
    uid, _ = make_user(db, "resaved")
    run = demo.make_run(90, datetime(2024, 6, 1, 6, 30, tzinfo=UTC), minutes=8.0)
    folder = tmp_path / "lifetime"
    folder.mkdir()
    (folder / "a-watch.gpx").write_bytes(_foreign_gpx(run, "Morning Run"))
    (folder / "b-resaved.gpx").write_bytes(_foreign_gpx(run, "Tempo by the river"))
    paths = sorted(folder.iterdir())
    first = import_files(db, uid, paths)
    assert [s for s, _, _ in first] == ["created", "updated"]
    (_, run_id, _), (_, same_id, _) = first
    assert run_id == same_id
    for _ in range(2):
        assert import_files(db, uid, paths) == [("duplicate", run_id, run_id)] * 2
    assert import_files(db, uid, paths[:1]) == [("duplicate", run_id, run_id)]
    with db.connect() as conn:
        assert repo.load_activity(conn, run_id, uid, streams=False).name == "Tempo by the river"
    (folder / "c-edited.gpx").write_bytes(_foreign_gpx(run, "Tempo, edited"))
    assert import_files(db, uid, [folder / "c-edited.gpx"]) == [("updated", run_id, None)]
    assert stored_count(db, uid) == 1


def test_one_run_from_three_recorders_is_one_group_of_duplicates(db, tmp_path):
    """Garmin Connect's TCX of a run, Strava's GPX of it (positions only) and a CSV of its heart
    rate and positions: ingest stores the three, the later two marked; `duplicates.groups` gives
    one group, keeping the TCX (6 measurements against 4 and 5), whichever order they came in;
    a run deleted leaves the group."""
    from runhub import duplicates

    run = demo.make_run(97, datetime(2024, 7, 2, 6, 0, tzinfo=UTC), minutes=6.0)
    tcx = formats.encode(run, "tcx").replace(b"<Name>runhub</Name>", b"<Name>Garmin Connect</Name>")
    positions = demo.make_run(97, datetime(2024, 7, 2, 6, 0, tzinfo=UTC), minutes=6.0,
                              channels=("distance", "latitude", "longitude", "altitude"))
    gpx = _foreign_gpx(positions, "Strava run")
    with_hr = demo.make_run(97, datetime(2024, 7, 2, 6, 0, tzinfo=UTC), minutes=6.0,
                            channels=("distance", "latitude", "longitude", "altitude", "heart_rate"))
    csv = formats.encode(with_hr, "csv")
    for k, order in enumerate(([tcx, gpx, csv], [gpx, csv, tcx], [csv, tcx, gpx])):
        uid, _ = make_user(db, f"three-{k}")
        paths = []
        for n, data in enumerate(order):
            suffix = {tcx: "tcx", gpx: "gpx", csv: "csv"}[data]
            paths.append(tmp_path / f"{k}-{n}.{suffix}")
            paths[-1].write_bytes(data)
        results = import_files(db, uid, paths)
        assert [s for s, _, _ in results] == ["created"] * 3
        ids = {p.suffix: aid for p, (_, aid, _) in zip(paths, results, strict=True)}
        (group,) = duplicates.groups(db, uid)
        assert group.keep.id == ids[".tcx"] and len(group.keep.channels) == 6
        assert sorted(r.id for r in group.others) == sorted([ids[".gpx"], ids[".csv"]])
        with db.begin() as conn:
            repo.mark_deleted(conn, ids[".gpx"], uid)
        (group,) = duplicates.groups(db, uid)
        assert [r.id for r in group.others] == [ids[".csv"]]
        assert duplicates.delete_others(db, uid, [group]) == 1 and duplicates.groups(db, uid) == []
        assert stored_count(db, uid) == 3  # deleted runs stay as rows (a re-import keeps them out)


def test_an_export_naming_an_id_no_database_holds_is_a_run_of_its_own(db, tmp_path):
    """A file may say anything: a TCX, a GPX and a Smashrun JSON "exported by runhub" of a 30-digit
    activity (beyond any database's integer) import as runs of their own, on SQLite and PostgreSQL
    alike (the look-up of such an id would overflow PostgreSQL's bigint)."""
    huge = 10**29 + 7
    run = demo.make_run(98, datetime(2024, 7, 3, 6, 0, tzinfo=UTC), minutes=5.0)
    run.id = 4242  # as runhub's export writes its id; replaced below by one no database holds
    files = {
        "a.tcx": formats.encode(run, "tcx").replace(b">4242<", f">{huge}<".encode()),
        "b.gpx": formats.encode(run, "gpx").replace(b"(activity 4242)", f"(activity {huge})".encode()),
        "c.json": formats.encode(run, "json").replace(b'"activityId": 4242', f'"activityId": {huge}'.encode()),
    }
    for name, data in files.items():
        assert str(huge).encode() in data, name
        (tmp_path / name).write_bytes(data)
    uid, _ = make_user(db, "huge-id")
    results = import_files(db, uid, [tmp_path / name for name in files])
    assert [s for s, _, _ in results] == ["created", "created", "created"]
    assert [d for _, _, d in results][1:] == [results[0][1]] * 2  # the same run thrice: marked
    assert stored_count(db, uid) == 3


def test_a_title_longer_than_a_title_is_kept_is_cut_and_kept_whole(db, tmp_path):
    """A GPX whose <name> is 1,000 characters (a description pasted as the title), or an export
    list giving one: the run is imported with its first 255 characters as its name and the whole
    title kept beside it, as notes longer than 800 are. Before, PostgreSQL refused the row (its
    name column holds 255) and the import failed with a server error; SQLite stored it all."""
    from runhub.activity import NAME_FULL
    from runhub.formats import export_lists

    title = "Around the lake, " * 60 + "and home"
    run = demo.make_run(99, datetime(2024, 7, 4, 6, 0, tzinfo=UTC), minutes=4.0)
    run.name = title
    path = tmp_path / "long-title.gpx"
    path.write_bytes(_foreign_gpx(run, title))
    uid, _ = make_user(db, "long-title")
    ((status, aid, _),) = import_files(db, uid, [path])
    assert status == "created"
    with db.connect() as conn:
        stored = repo.load_activity(conn, aid, uid)
    assert stored.name == title[:255] and stored.extras[NAME_FULL] == title
    listed = demo.make_run(100, datetime(2024, 7, 5, 6, 0, tzinfo=UTC), minutes=4.0)
    export_lists.apply(listed, {"name": title}, alone=True)
    assert listed.name == title[:255] and listed.extras[NAME_FULL] == title
    assert not export_lists.changes({"name": title}, export_lists.AsListed(title[:255], None, listed.sport, False, {}))


def test_a_multisport_tcx_whose_activity_id_is_long_imports_its_parts(db, tmp_path):
    """TCX's Activity Id is a time by the schema, but a file may hold any text there: the parts of
    a MultiSportSession are linked by a key made from it, which held the whole text; 200
    characters overflowed its column on PostgreSQL (a server error, the import stopped). Now a
    long Id is keyed by its hash: the two parts import, linked."""
    import re

    run = demo.make_run(101, datetime(2024, 7, 6, 6, 0, tzinfo=UTC), minutes=3.0)
    tcx = formats.encode(run, "tcx").replace(b"<Name>runhub</Name>", b"<Name>Garmin Connect</Name>")
    act = tcx[tcx.index(b"<Activity "):tcx.index(b"</Activity>") + len(b"</Activity>")]
    second = act.replace(b"2024-07-06T06", b"2024-07-06T07")
    first = re.sub(rb"<Id>[^<]*</Id>", b"<Id>" + b"I" * 200 + b"</Id>", act, count=1)
    head, tail = tcx[:tcx.index(b"<Activities>") + 12], tcx[tcx.index(b"</Activities>"):]
    path = tmp_path / "multisport.tcx"
    path.write_bytes(head + b"<MultiSportSession><Id>2024-07-06T06:00:00Z</Id><FirstSport>" + first
                     + b"</FirstSport><NextSport>" + second + b"</NextSport></MultiSportSession>" + tail)
    uid, _ = make_user(db, "tcx-multisport")
    results = [r for _, rs in ingest_paths(db, uid, [path], client_id=CLI) for r in rs]
    assert [r.status for r in results] == ["created", "created"]
    with db.connect() as conn:
        groups = {repo.get_row(conn, r.activity_id, uid).multisport_group for r in results}
    (group,) = groups
    assert group.startswith("tcx:") and len(group) <= 64
