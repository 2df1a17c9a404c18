"""A Strava account export brought over whole: its recordings (activities/, FIT gzipped, GPX, TCX)
take the titles and descriptions the athlete gave them on Strava, which only the export's
activities.csv holds (a FIT file has no title). Imported as the folder (`runhub import`, serial and
with worker processes) or as the zip Strava sends (an upload); the list itself is skipped, not
stored."""

from __future__ import annotations

import gzip
import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from runhub import demo, formats
from runhub.activity import NOTES_FULL, NOTES_MAX
from runhub.formats import export_lists
from runhub.ingest import ingest_bytes, ingest_paths
from runhub.store import activities as repo
from tests.conftest import make_user

# Strava's header as its exports write it (46 columns; names repeat: Elapsed Time, Distance, ...)
HEADER = (
    "Activity ID,Activity Date,Activity Name,Activity Type,Activity Description,Elapsed Time,Distance,"
    "Max Heart Rate,Relative Effort,Commute,Activity Private Note,Activity Gear,Filename,Athlete Weight,"
    "Bike Weight,Elapsed Time,Moving Time,Distance,Max Speed,Average Speed,Elevation Gain,Elevation Loss,"
    "Elevation Low,Elevation High,Max Grade,Average Grade,Average Positive Grade,Average Negative Grade,"
    "Max Cadence,Average Cadence,Max Heart Rate,Average Heart Rate,Max Watts,Average Watts,Calories,"
    "Max Temperature,Average Temperature,Relative Effort,Total Work,Number of Runs,Uphill Time,Downhill Time,"
    "Other Time,Perceived Exertion,Type,Start Time"
)
# Some of the account's other tables, which lie beside activities.csv at the export's root (their
# columns cut short here): none is a recording
ACCOUNT_TABLES = {
    "bikes.csv": "Bike Name,Bike Brand,Bike Model,Bike Default Sport Types\nRoadie,Canyon,Endurace,Ride\n",
    "profile.csv": "Athlete ID,Email Address,First Name,Last Name,Sex,Weight,City,Country\n"
                   "12345,runner@example.org,Ann,Runner,F,58.0,Leiden,Netherlands\n",
    "comments.csv": 'Comment Date,Comment,Activity ID\n"Jun 2, 2024, 8:00:00 AM","Great run, well done!",101\n',
}
TABLE_SAYS = "one of the tables of an account export"
LONG = "Splits: " + ", ".join(["4:50"] * 200)  # longer than runhub's notes allow


def _line(strava_id: int, name: str, description: str, filename: str, commute: str = "false",
          private_note: str = "", gear: str = "") -> str:
    def q(text: str) -> str:
        return '"' + text.replace('"', '""') + '"'

    cells = [str(strava_id), q("Jun 1, 2024, 6:30:00 AM"), q(name), "Run", q(description), "2400", "8.1", "",
             "", commute, q(private_note), q(gear), filename]
    return ",".join(cells + [""] * (46 - len(cells)))


def _export(root: Path) -> dict[str, tuple[str | None, str | None]]:
    """Strava's layout under `root`: activities.csv and three recordings in activities/, plus a line
    for an activity entered by hand (no file). Returns file -> (title, notes) expected, written here."""
    (root / "activities").mkdir(parents=True)
    runs = [demo.make_run(k, datetime(2024, 6, k, 6, 30, tzinfo=UTC), minutes=12.0) for k in (1, 2, 3)]
    runs[1].name = "Morning Run"  # a GPX carries Strava's default title itself: the list's wins
    runs[0].name = runs[2].name = None  # a watch's FIT and TCX: no title (runhub's own FIT export has one)
    (root / "activities" / "101.fit.gz").write_bytes(gzip.compress(formats.encode(runs[0], "fit")))
    (root / "activities" / "102.gpx").write_bytes(formats.encode(runs[1], "gpx"))
    (root / "activities" / "103.tcx").write_bytes(formats.encode(runs[2], "tcx"))
    lines = [
        HEADER,
        _line(101, "Tempo, 3 x 2 km", 'Legs "fresh".\nWindy on the dyke.', "activities/101.fit.gz"),
        _line(102, "Recovery jog", "", "activities/102.gpx"),
        _line(103, "Parkrun", LONG, "activities/103.tcx"),
        _line(104, "Treadmill (entered by hand)", "no file", ""),
    ]
    (root / "activities.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for name, table in ACCOUNT_TABLES.items():
        (root / name).write_text(table, encoding="utf-8")
    return {
        "101.fit.gz": ("Tempo, 3 x 2 km", 'Legs "fresh".\nWindy on the dyke.'),
        "102.gpx": ("Recovery jog", None),
        "103.tcx": ("Parkrun", LONG[:NOTES_MAX]),
    }


def _stored(db, owner: int, activity_id: int):
    with db.connect() as conn:
        return repo.load_activity(conn, activity_id, owner, streams=False)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_strava_export_folder_keeps_the_titles_the_athlete_gave(db, tmp_path, workers) -> None:
    owner, _ = make_user(db)
    expected = _export(tmp_path / "export_12345")
    paths = sorted(p for p in (tmp_path / "export_12345").rglob("*") if p.is_file())
    results = {p.name: rs for p, rs in ingest_paths(db, owner, paths, client_id="runhub-cli", workers=workers)}
    assert [r.status for r in results.pop("activities.csv")] == ["skipped"]
    for name in ACCOUNT_TABLES:  # passed by, saying what they are: the import succeeds
        (r,) = results.pop(name)
        assert r.status == "skipped" and TABLE_SAYS in r.error, (name, r)
    assert sorted(results) == sorted(expected)
    for name, (title, notes) in expected.items():
        (r,) = results[name]
        assert r.status == "created", r
        a = _stored(db, owner, r.activity_id)
        assert (a.name, a.notes) == (title, notes), name
    tcx_run = _stored(db, owner, results["103.tcx"][0].activity_id)
    assert tcx_run.extras[NOTES_FULL] == LONG  # cut to the limit, the whole kept


def test_the_export_zip_uploaded_keeps_the_titles_too(db, tmp_path) -> None:
    owner, _ = make_user(db)
    root = tmp_path / "export_12345"
    expected = _export(root)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:  # Strava's zip: the export's files at its root
        for p in sorted(root.rglob("*")):
            if p.is_file():
                zf.write(p, p.relative_to(root).as_posix())
    results = ingest_bytes(db, owner, buf.getvalue(), filename="export_12345.zip", client_id="some-app")
    by_file = {Path(r.filename).name: r for r in results}
    assert by_file.pop("activities.csv").status == "failed"  # over the API a refusal, saying what it is
    for name in ACCOUNT_TABLES:  # refused as not an activity (a folder import skips them), nothing stored
        r = by_file.pop(name)
        assert r.status == "failed" and TABLE_SAYS in r.error and r.error_detail["not_an_activity"], r
    assert sorted(by_file) == sorted(name.removesuffix(".gz") for name in expected)
    for name, (title, notes) in expected.items():
        r = by_file[name.removesuffix(".gz")]
        assert r.status == "created", r
        assert (_stored(db, owner, r.activity_id).name, _stored(db, owner, r.activity_id).notes) == (title, notes)


def test_without_the_list_the_files_keep_their_own_titles(db, tmp_path) -> None:
    """The recordings imported on their own (activities/ only) are as they were: the list is
    applied only to files imported with it, and a list line names no file outside its export."""
    owner, _ = make_user(db)
    _export(tmp_path / "export_12345")
    folder = tmp_path / "export_12345" / "activities"
    results = {p.name: rs for p, rs in ingest_paths(db, owner, sorted(folder.iterdir()), client_id="runhub-cli")}
    names = {name: _stored(db, owner, rs[0].activity_id).name for name, rs in results.items()}
    assert names == {"101.fit.gz": None, "102.gpx": "Morning Run", "103.tcx": None}


@pytest.mark.parametrize("how", ["folder", "workers", "zip"])
def test_the_list_imported_after_its_files_gives_them_their_titles(db, tmp_path, how) -> None:
    """activities/ imported alone first (its files keep their own titles), then the whole export:
    the runs still as imported take the list's titles and descriptions (their files' bytes are
    held: before, they stayed duplicates, untitled for good), a run the runner renamed in runhub
    meanwhile keeps the runner's name, and the export once more changes nothing."""
    owner, _ = make_user(db)
    root = tmp_path / "export_12345"
    expected = _export(root)
    first = {p.name: rs[0] for p, rs in ingest_paths(db, owner, sorted((root / "activities").iterdir()),
                                                      client_id="runhub-cli")}
    assert {name: _stored(db, owner, r.activity_id).name for name, r in first.items()} == {
        "101.fit.gz": None, "102.gpx": "Morning Run", "103.tcx": None}
    renamed = first["103.tcx"].activity_id
    with db.begin() as conn:
        a = repo.load_activity(conn, renamed, owner, streams=False)
        a.name = "My parkrun PB"
        repo.update_fields(conn, renamed, a)

    def whole() -> dict[str, tuple[str, int | None]]:
        if how == "zip":
            path = tmp_path / "export_12345.zip"
            with zipfile.ZipFile(path, "w") as zf:
                for p in sorted(root.rglob("*")):
                    if p.is_file():
                        zf.write(p, p.relative_to(root).as_posix())
            ((_, results),) = list(ingest_paths(db, owner, [path], client_id="runhub-cli"))
            return {Path(r.filename).name: (r.status, r.activity_id) for r in results if "activities/" in r.filename}
        paths = sorted(p for p in root.rglob("*") if p.is_file())
        workers = 2 if how == "workers" else 1
        return {p.name: (rs[0].status, rs[0].activity_id) for p, rs in ingest_paths(
            db, owner, paths, client_id="runhub-cli", workers=workers) if p.parent.name == "activities"}

    name = {"101.fit.gz": "101.fit.gz", "102.gpx": "102.gpx", "103.tcx": "103.tcx"}
    if how == "zip":  # a gzipped member comes out of the zip under its name without .gz
        name["101.fit.gz"] = "101.fit"
    got = whole()
    assert {k: got[name[k]] for k in name} == {
        "101.fit.gz": ("updated", first["101.fit.gz"].activity_id),
        "102.gpx": ("updated", first["102.gpx"].activity_id),
        "103.tcx": ("duplicate", renamed),
    }
    for k in ("101.fit.gz", "102.gpx"):
        a = _stored(db, owner, first[k].activity_id)
        assert (a.name, a.notes) == expected[k], k
    assert (_stored(db, owner, renamed).name, _stored(db, owner, renamed).notes) == ("My parkrun PB", None)
    assert {status for status, _ in whole().values()} == {"duplicate"}
    with db.connect() as conn:
        assert repo.count(conn, owner) == 3


def test_a_broken_list_never_stops_the_recordings(db, tmp_path) -> None:
    """A list that is not UTF-8 fails, saying so (its titles are lost, the runner should know); the
    recordings beside it are imported all the same, under their own titles."""
    owner, _ = make_user(db)
    root = tmp_path / "export_12345"
    _export(root)
    (root / "activities.csv").write_bytes(HEADER.encode() + b"\n101,\xff\xfe broken bytes\n")
    paths = sorted(p for p in root.rglob("*") if p.is_file())
    statuses = {p.name: [r.status for r in rs] for p, rs in ingest_paths(db, owner, paths, client_id="runhub-cli")}
    assert statuses == {"activities.csv": ["failed"], "101.fit.gz": ["created"], "102.gpx": ["created"],
                        "103.tcx": ["created"]} | {name: ["skipped"] for name in ACCOUNT_TABLES}


def test_a_table_away_from_a_list_still_fails_and_a_run_beside_one_is_imported(db, tmp_path) -> None:
    """Only a CSV beside Strava's list is taken for one of the account's tables: the same file
    elsewhere is a CSV layout runhub cannot read (failed, saying which it reads), and a recording
    put beside the list is imported as any other."""
    owner, _ = make_user(db)
    root = tmp_path / "export_12345"
    _export(root)
    (root / "moved").mkdir()
    (root / "moved" / "bikes.csv").write_text(ACCOUNT_TABLES["bikes.csv"], encoding="utf-8")
    run = demo.make_run(7, datetime(2024, 6, 7, 6, 30, tzinfo=UTC), minutes=12.0)
    (root / "beside.fit").write_bytes(formats.encode(run, "fit"))
    paths = [root / "moved" / "bikes.csv", root / "beside.fit", root / "activities.csv"]
    results = {p.relative_to(root).as_posix(): rs for p, rs in ingest_paths(db, owner, paths, client_id="runhub-cli")}
    (moved,) = results["moved/bikes.csv"]
    assert moved.status == "failed" and TABLE_SAYS not in moved.error and "runhub reads CSV" in moved.error
    assert [r.status for r in results["beside.fit"]] == ["created"]


def test_the_sport_the_athlete_set_on_strava(db, tmp_path) -> None:
    """The list's Activity Type, as Strava's site writes it ("Virtual Ride", "Trail Run"), gives the
    sport where the file says none or another one, or only the family; a file's finer sport of the
    same family stays; a type runhub has no sport for ("Yoga") changes nothing."""
    from runhub import sports

    owner, _ = make_user(db)
    root = tmp_path / "export_777"
    (root / "activities").mkdir(parents=True)
    start = datetime(2024, 7, 1, 6, 30, tzinfo=UTC)
    runs = {name: demo.make_run(k, start.replace(day=k), minutes=12.0) for k, name in enumerate(
        ("1.gpx", "2.fit", "3.fit", "4.fit", "5.fit"), start=1)}
    runs["4.fit"].sport = "running.treadmill"
    for name, run in runs.items():
        data = formats.encode(run, name.split(".")[1])
        if name == "1.gpx":  # a GPX that says no sport (no <type>): generic
            data = data.replace(b"<type>running</type>", b"")
            assert b"<type>" not in data
        (root / "activities" / name).write_bytes(data)
    types = {"1.gpx": "Virtual Ride", "2.fit": "Hike", "3.fit": "Trail Run", "4.fit": "Run", "5.fit": "Yoga"}
    lines = [HEADER] + [
        _line(k, f"Activity {k}", "", f"activities/{name}").replace(",Run,", f",{types[name]},", 1)
        for k, name in enumerate(types, start=1)
    ]
    (root / "activities.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    paths = sorted(p for p in root.rglob("*") if p.is_file())
    results = {p.name: rs for p, rs in ingest_paths(db, owner, paths, client_id="runhub-cli")}
    got = {name: _stored(db, owner, results[name][0].activity_id).sport for name in types}
    assert got == {
        "1.gpx": "cycling.virtual",  # the file said none
        "2.fit": "hiking",  # the athlete's correction of the watch's run
        "3.fit": "running.trail",  # finer than the file's "running"
        "4.fit": "running.treadmill",  # the file's finer sport stays
        "5.fit": "running",  # no sport runhub knows: the file's
    }
    assert sports.DEFAULT.code not in got.values()
    # a file of several activities (a multisport FIT: swim, bike, run) keeps each part's sport
    part = demo.make_run(9, start, minutes=5.0)
    export_lists.apply(part, {"name": "Triathlon", "sport": "hiking"}, alone=False)
    assert (part.name, part.sport) == ("Triathlon", "running")


@pytest.mark.parametrize("list_after", [False, True])
def test_commute_private_note_and_gear_are_kept(db, tmp_path, list_after) -> None:
    """Strava's Commute, Activity Private Note and Activity Gear exist only in activities.csv (the
    recording has none of them), so an import that drops them loses them for good: the commute is
    the run's flag, the note, the gear and the Strava activity's id are kept in
    app_metadata["strava"]. Imported with the files, or after them (a run still as imported takes
    them, as it takes a title; the list once more changes nothing)."""
    owner, _ = make_user(db)
    root = tmp_path / "export_555"
    (root / "activities").mkdir(parents=True)
    start = datetime(2024, 8, 1, 7, 0, tzinfo=UTC)
    for k in (1, 2, 3):
        run = demo.make_run(k, start.replace(day=k), minutes=8.0)
        (root / "activities" / f"{k}.fit").write_bytes(formats.encode(run, "fit"))
    lines = [
        HEADER,
        _line(9001, "To work", "", "activities/1.fit", commute="true", private_note="Knee sore, 2/10.\nIce tonight.",
              gear="Brooks Ghost 15"),
        _line(9002, "Easy", "", "activities/2.fit", commute="false", gear="Brooks Ghost 15"),
        _line(9003, "Home", "", "activities/3.fit", commute="1.0"),  # the raw-number form
    ]
    (root / "activities.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    expected = {
        "1.fit": (True, {"activity_id": "9001", "private_note": "Knee sore, 2/10.\nIce tonight.",
                         "gear": "Brooks Ghost 15"}),
        "2.fit": (False, {"activity_id": "9002", "gear": "Brooks Ghost 15"}),
        "3.fit": (True, {"activity_id": "9003"}),
    }
    if list_after:
        first = list(ingest_paths(db, owner, sorted((root / "activities").iterdir()), client_id="runhub-cli"))
        assert all(rs[0].status == "created" for _, rs in first)
        assert all(not _stored(db, owner, rs[0].activity_id).commute for _, rs in first)
    paths = sorted(p for p in root.rglob("*") if p.is_file())
    results = {p.name: rs[0] for p, rs in ingest_paths(db, owner, paths, client_id="runhub-cli")}
    for name, (commute, strava) in expected.items():
        assert results[name].status == ("updated" if list_after else "created"), results[name]
        a = _stored(db, owner, results[name].activity_id)
        assert (a.commute, a.app_metadata) == (commute, {"strava": strava}), name
    again = {p.name: rs[0].status for p, rs in ingest_paths(db, owner, paths, client_id="runhub-cli")}
    assert {again[name] for name in expected} == {"duplicate"}
    with db.connect() as conn:
        assert repo.count(conn, owner) == 3


def test_the_commute_column_reads_only_what_it_can() -> None:
    """Commute is true/false (or 1/0 in Strava's raw-number form); anything else says nothing."""
    lines = [HEADER] + [_line(k, "r", "", f"activities/{k}.fit", commute=c)
                        for k, c in enumerate(("TRUE", "0", "maybe", ""), start=1)]
    got = export_lists.listed(("\n".join(lines) + "\n").encode())
    assert {path: given.get("commute") for path, given in got.items()} == {
        "activities/1.fit": "true", "activities/2.fit": "false", "activities/3.fit": None, "activities/4.fit": None}


RUNKEEPER_HEADER = ("Activity Id,Date,Type,Route Name,Distance (km),Duration,Average Pace,Average Speed (km/h),"
                    "Calories Burned,Climb (m),Average Heart Rate (bpm),Friend's Tagged,Notes,GPX File")


@pytest.mark.parametrize("as_zip", [False, True])
def test_a_runkeeper_export_takes_the_types_and_notes_of_its_list(db, tmp_path, as_zip) -> None:
    """Runkeeper's export (Account Settings -> Export Data): a GPX file per activity, which says no
    sport, and cardioActivities.csv naming each by its GPX File, with the Type and Notes the runner
    gave it (and a Route Name). Imported as the folder or the zip: the runs take them, the list and
    the account's other tables are skipped, a line without a file (strength training) gives nothing."""
    owner, _ = make_user(db)
    root = tmp_path / "runkeeper-data-export-1234"
    root.mkdir()
    files = {}
    for k, name in enumerate(("2020-05-02-151617.gpx", "2020-05-04-070000.gpx"), start=1):
        run = demo.make_run(k, datetime(2020, 5, 2 * k, 7, 0, tzinfo=UTC), minutes=10.0)
        data = formats.encode(run, "gpx").replace(b'creator="runhub demo"', b'creator="Runkeeper - http://www.runkeeper.com"')
        data = data.replace(b"<type>running</type>", b"").replace(b"<desc>exported by runhub</desc>", b"")
        data = data.replace(run.name.encode(), f"Running {k}".encode())
        assert b"<type>" not in data and b"runhub" not in data
        (root / name).write_bytes(data)
        files[name] = data
    lines = [RUNKEEPER_HEADER,
             'abab-1,2020-05-02 15:16:17,Walking,,0.70,12:31,17:17,3.36,62.0,3,,"","",2020-05-02-151617.gpx',
             'abab-2,2020-05-04 07:00:00,Running,Park loop,5.00,25:00,5:00,12.0,300,20,150,"","Easy, with ""strides""",'
             "2020-05-04-070000.gpx",
             "abab-3,2020-05-06 18:00:00,Strength Training,,0.00,45:00,,,250,,,,,"]
    (root / "cardioActivities.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "measurements.csv").write_text("Date,Type,Value\n2020-05-01,Weight,71.5\n", encoding="utf-8")
    if as_zip:
        path = tmp_path / "runkeeper-data-export-1234.zip"
        with zipfile.ZipFile(path, "w") as zf:
            for p in sorted(root.iterdir()):
                zf.write(p, p.name)
        ((_, results),) = list(ingest_paths(db, owner, [path], client_id="runhub-cli"))
        by_name = {Path(r.filename).name: r for r in results}
    else:
        by_name = {p.name: rs[0] for p, rs in ingest_paths(db, owner, sorted(root.iterdir()), client_id="runhub-cli")}
    assert by_name["cardioActivities.csv"].status == "skipped"
    assert "Runkeeper's list" in by_name["cardioActivities.csv"].error
    assert by_name["measurements.csv"].status == "skipped" and TABLE_SAYS in by_name["measurements.csv"].error
    got = {name: _stored(db, owner, by_name[name].activity_id) for name in files}
    assert {name: (a.sport, a.name, a.notes) for name, a in got.items()} == {
        "2020-05-02-151617.gpx": ("walking", "Running 1", None),  # no Route Name: the file's own name stays
        "2020-05-04-070000.gpx": ("running", "Park loop", 'Easy, with "strides"'),
    }
    with db.connect() as conn:
        assert repo.count(conn, owner) == 2


def test_moved_on_in_runhubs_json_the_runs_keep_what_the_list_gave(db, tmp_path) -> None:
    """A Strava export imported, then each run exported as runhub's JSON (`runhub export --format
    json`) and imported into another account (the README's move to another runhub): the titles,
    the commute flag and the gear Strava's list gave come along (runhub's own object: Smashrun's
    activity has no field for them), with the sport and the notes."""
    owner, _ = make_user(db)
    root = tmp_path / "export_12345"
    expected = _export(root)
    lines = (root / "activities.csv").read_text(encoding="utf-8").splitlines()
    lines[1] = _line(101, "Tempo, 3 x 2 km", 'Legs "fresh".\nWindy on the dyke.', "activities/101.fit.gz",
                     commute="true", gear="Pegasus 40")
    (root / "activities.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    paths = sorted(p for p in root.rglob("*") if p.is_file())
    results = {p.name: rs for p, rs in ingest_paths(db, owner, paths, client_id="runhub-cli")}
    other, _ = make_user(db)
    for name, (title, notes) in expected.items():
        with db.connect() as conn:
            a = repo.load_activity(conn, results[name][0].activity_id, owner)
        (r,) = ingest_bytes(db, other, formats.encode(a, "json"), filename=f"{name}.json", client_id="runhub-cli",
                            by_recorder=True)
        assert r.status == "created", r
        moved = _stored(db, other, r.activity_id)
        assert (moved.name, moved.notes, moved.sport) == (title, notes, "running"), name
        assert moved.commute == (name == "101.fit.gz")
        gear = {"gear": "Pegasus 40"} if name == "101.fit.gz" else {}
        assert moved.app_metadata["strava"] == {"activity_id": name.split(".")[0], **gear}
