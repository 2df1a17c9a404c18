"""The CLI as a user runs it: create a user, import files, read the run back over HTTP, export."""

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import CLI_TIMEOUT

RUNHUB = [sys.executable, "-m", "runhub.cli"]

# A 10-minute run at 1 Hz with one 30 s stop after sample 300, a lap at 1 km, songs and heart
# rate recovery: every field of the seed's activity object. Summary values are written by hand
# from the recordings so that "recomputed from recordings" must give them back:
# constant heart rate 150 and cadence 85; distance 3 m per running second; the stop adds no
# distance; clock 0..599 plus 30 s -> elapsed 629 s; the seed counts the whole clock step into
# the pause (31 s) as paused -> duration 598 s; distance = 598 steps * 3 m = 1.794 km.
N = 600
CLOCK = [i if i < 300 else i + 30 for i in range(N)]
DIST_M = [0]
for i in range(1, N):
    DIST_M.append(DIST_M[-1] + (0 if i == 300 else 3))
RUN = {
    "startDateTimeLocal": "2024-05-04T07:15:00+02:00",
    "activityType": "running",
    "distance": 1.794,
    "duration": 598,
    "notes": "Tempo by the river",
    "cadenceAverage": 85, "cadenceMin": 85, "cadenceMax": 85,
    "heartRateAverage": 150, "heartRateMin": 150, "heartRateMax": 150,
    "bodyWeight": 71.5,
    "howFelt": "great",
    "terrain": "road",
    "temperature": 14.5,
    "weatherType": "cloudy",
    "humidity": 80,
    "windSpeed": 12,
    "deviceType": "Apple",
    "externalId": "cli-run-1",
    "appVersion": "5.2",
    "pauseIndexes": [300],
    "laps": [{"lapType": "work", "endDistance": 1000}, {"lapType": "cooldown", "endDistance": 1794}],
    "songs": [{"album": "13 Songs", "artist": "Fugazi", "song": "Waiting Room", "BPM": 155, "startClock": 0,
               "endClock": 150}],
    "heartRateRecovery": [{"duration": 0, "heartRate": 150}, {"duration": 30, "heartRate": 120}],
    "recordingKeys": ["clock", "distance", "heartRate", "cadence", "elevation", "temperature"],
    "recordingValues": [CLOCK, [d / 1000 for d in DIST_M], [150] * N, [85] * N, [3.5] * N, [14.5] * N],
}


def cli(env: dict, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([*RUNHUB, *args], env=env, capture_output=True, text=True, timeout=CLI_TIMEOUT)
    if check and proc.returncode:
        raise AssertionError(f"runhub {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture(scope="module")
def env(settings, tmp_path_factory) -> dict:
    return {**os.environ, "RUNHUB_DATABASE_URL": settings.database_url,
            "RUNHUB_DATA_DIR": str(tmp_path_factory.mktemp("cli-data"))}


def auth_headers(env: dict, username: str) -> dict:
    """A personal token once the OAuth server exists; before it the loopback server is open."""
    proc = cli(env, "token", "create", username, "--scope", "activity:read", "--json", check=False)
    if proc.returncode == 2 and "No such command" in proc.stderr:
        return {}
    assert proc.returncode == 0, proc.stderr
    return {"Authorization": f"Bearer {json.loads(proc.stdout)['token']}"}


def test_import_then_get_gives_back_every_field(server, env, tmp_path):
    username = f"cli-{os.getpid()}"
    cli(env, "user", "create", username, "--password", "s3cret-pass")
    path = tmp_path / "run.json"
    path.write_text(json.dumps(RUN))
    out = cli(env, "import", str(path), "--user", username, "--json").stdout.strip().splitlines()
    assert len(out) == 1
    line = json.loads(out[0])
    assert (line["path"], line["status"], line["error"]) == (str(path), "created", None)

    resp = httpx.get(f"{server.url}/v1/my/activities/{line['activity_id']}", headers=auth_headers(env, username))
    assert resp.status_code == 200, resp.text
    got = resp.json()
    for key, sent in RUN.items():
        if key in ("recordingKeys", "recordingValues"):
            continue
        assert got[key] == sent, key
    sent_series = dict(zip(RUN["recordingKeys"], RUN["recordingValues"], strict=True))
    got_series = dict(zip(got["recordingKeys"], got["recordingValues"], strict=True))
    assert got_series == sent_series

    # importing the same file again changes nothing
    again = json.loads(cli(env, "import", str(path), "--user", username, "--json").stdout)
    assert (again["status"], again["activity_id"]) == ("duplicate", line["activity_id"])

    exported = cli(env, "export", str(line["activity_id"]), "--format", "json").stdout
    assert json.loads(exported)["recordingValues"] == got["recordingValues"]

    # read again from its file by `reanalyse`, the run is what the import stored
    (redo,) = [json.loads(x) for x in cli(env, "reanalyse", "--user", username, "--json").stdout.splitlines()]
    assert (redo["activity_id"], redo["status"], redo["source"]) == (line["activity_id"], "unchanged", "file")
    dry = cli(env, "reanalyse", "--user", username, "--dry-run").stdout.strip()
    assert dry == "0 would change, 1 unchanged, 0 failed"


def test_import_reports_failures_per_file_and_exits_non_zero(env, tmp_path):
    username = f"cli-bad-{os.getpid()}"
    cli(env, "user", "create", username, "--password", "s3cret-pass")
    folder = tmp_path / "mixed"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "good.json").write_text(json.dumps(RUN | {"externalId": "other"}))
    (folder / "broken.json").write_text('{"startDateTimeLocal": "2024-05-04T07:15:00+02:00", "distance": "far"}')
    proc = cli(env, "import", str(folder), "--user", username, "--json", check=False)
    assert proc.returncode == 1
    lines = {Path(r["path"]).name: r for r in map(json.loads, proc.stdout.splitlines())}
    assert lines["good.json"]["status"] == "created"
    assert lines["broken.json"]["status"] == "failed"
    assert "distance" in lines["broken.json"]["error"] and "expected a number" in lines["broken.json"]["error"]

    table = cli(env, "import", str(folder), "--user", username, check=False)
    assert table.returncode == 1 and "failed" in table.stderr and "import summary" in table.stderr
    (failed,) = [line for line in table.stderr.splitlines() if line.startswith("failed ")]
    assert "broken.json" in failed and "distance" in failed, failed
    # a CSV decoder's error names the file itself: the file's line names it once, then says what is wrong
    (folder / "sub" / "bad.csv").write_text("when,how\n1,2\n")
    table = cli(env, "import", str(folder / "sub" / "bad.csv"), "--user", username, check=False)
    (failed,) = [line for line in table.stderr.splitlines() if line.startswith("failed ")]
    assert failed.count("bad.csv") == 1 and "line 1: timestamp: no 'timestamp' column" in failed, failed


def test_a_photo_beside_the_runs_is_skipped_and_the_import_succeeds(env, tmp_path):
    username = f"cli-skip-{os.getpid()}"
    cli(env, "user", "create", username, "--password", "s3cret-pass")
    folder = tmp_path / "export"
    (folder / "media").mkdir(parents=True)
    (folder / "run.json").write_text(json.dumps(RUN | {"externalId": "skip-run"}))
    (folder / "media" / "finish.jpg").write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01")  # a JPEG's first bytes
    proc = cli(env, "import", str(folder), "--user", username, "--json", check=False)
    lines = {Path(r["path"]).name: r for r in map(json.loads, proc.stdout.splitlines())}
    assert lines["run.json"]["status"] == "created"
    assert lines["finish.jpg"]["status"] == "skipped" and "JPEG image" in lines["finish.jpg"]["error"]
    assert proc.returncode == 0


def test_unknown_user_and_missing_path_are_clear(env, tmp_path):
    proc = cli(env, "import", str(tmp_path / "nope.fit"), "--user", "nobody-here", check=False)
    assert proc.returncode == 2


def test_export_all_writes_every_format_and_each_file_reads_back(env, tmp_path):
    """`runhub export --all DIR --format F` for every format runhub writes: one file per activity, and each
    file of the formats runhub reads decodes back to the run it came from: same start, same sample count,
    heart rate exact (every format carries integer bpm), distance within 1 m (TCX/FIT resolution is far
    finer; GPX: see below), pauses kept where the format has them (CSV has no pause notion)."""
    from datetime import UTC, datetime

    from runhub import demo, formats

    username = f"cli-export-{os.getpid()}"
    cli(env, "user", "create", username, "--password", "s3cret-pass")
    runs = [demo.make_run(seed, datetime(2024, 6, 1 + seed, 6, 30, tzinfo=UTC), minutes=12) for seed in (1, 2)]
    src = tmp_path / "src"
    src.mkdir()
    for k, a in enumerate(runs):
        (src / f"run{k}.json").write_bytes(formats.encode(a, "json"))
    cli(env, "import", str(src), "--user", username, "--json")
    by_start = {a.start: a for a in runs}

    for fmt in ("json", "csv", "tcx", "gpx", "fit"):
        out = tmp_path / fmt
        cli(env, "export", "--all", str(out), "--format", fmt, "--user", username)
        files = sorted(out.iterdir())
        assert [p.suffix for p in files] == [f".{fmt}"] * len(runs), files
        for p in files:
            (back,) = formats.decode(p.read_bytes(), filename=p.name)
            orig = by_start[back.start]
            assert back.n_samples == orig.n_samples, (fmt, p.name)
            assert list(back.channels["heart_rate"]) == list(orig.channels["heart_rate"]), fmt
            dist, want = back.channels["distance"][-1], orig.channels["distance"][-1]
            # every format carries the odometer (GPX as GPX+'s gpxdata:distance, to the millimetre)
            assert abs(dist - want) < 1.0, fmt
            if fmt != "csv":
                assert list(back.pauses) == list(orig.pauses) and len(orig.pauses) == 1, fmt

    # Parquet, written for analysis, is read back by pyarrow (as SweatStack's clients read it); runhub
    # names such a file among an import's and skips it (it restores from the formats above)
    import pyarrow.parquet as pq

    out = tmp_path / "parquet"
    cli(env, "export", "--all", str(out), "--format", "parquet", "--user", username)
    files = sorted(out.iterdir())
    assert [p.suffix for p in files] == [".parquet"] * len(runs), files
    for p in files:
        table = pq.read_table(p)
        orig = by_start[table.column("timestamp")[0].as_py()]
        assert table.num_rows == orig.n_samples
        assert table.column("heart_rate").to_pylist() == list(orig.channels["heart_rate"])
    proc = cli(env, "import", str(out), "--user", username, "--json")
    lines = [json.loads(x) for x in proc.stdout.splitlines()]
    assert [r["status"] for r in lines] == ["skipped"] * len(runs), lines
    assert all("a Parquet table" in r["error"] for r in lines), lines


def test_export_all_names_what_a_format_cannot_carry_and_writes_the_rest(env, tmp_path):
    """An indoor ride (heart rate and power, no distance, no positions) has no Smashrun JSON (Smashrun
    needs a distance) and no GPX (track points need a position): `export --all` writes the other
    activities, names the ride with the reason and exits non-zero; one export of it says the same."""
    from datetime import UTC, datetime

    from runhub import demo, formats

    username = f"cli-indoor-{os.getpid()}"
    cli(env, "user", "create", username, "--password", "s3cret-pass")
    run = demo.make_run(3, datetime(2024, 6, 10, 6, 30, tzinfo=UTC), minutes=10)
    ride = demo.make_run(4, datetime(2024, 6, 11, 18, 0, tzinfo=UTC), minutes=10)
    ride.sport = "cycling"
    ride.channels = {k: v for k, v in ride.channels.items() if k in ("time", "heart_rate", "power", "cadence")}
    src = tmp_path / "src"
    src.mkdir()
    (src / "run.fit").write_bytes(formats.encode(run, "fit"))
    (src / "ride.fit").write_bytes(formats.encode(ride, "fit"))
    lines = [json.loads(x) for x in cli(env, "import", str(src), "--user", username, "--json").stdout.splitlines()]
    ride_id = next(x["activity_id"] for x in lines if x["path"].endswith("ride.fit"))

    for fmt, reason in (("json", "distance or latitude/longitude"), ("gpx", "track points with a position")):
        out = tmp_path / fmt
        proc = cli(env, "export", "--all", str(out), "--format", fmt, "--user", username, check=False)
        assert proc.returncode == 1, proc
        assert "exported 1 activities" in proc.stdout
        assert f"not exported: activity {ride_id}: " in proc.stderr and reason in proc.stderr, proc.stderr
        (written,) = out.iterdir()
        (back,) = formats.decode(written.read_bytes(), filename=written.name)
        assert back.sport.startswith("running")
        one = cli(env, "export", str(ride_id), "--format", fmt, "--user", username, check=False)
        assert one.returncode == 1 and reason in one.stderr and not one.stdout
    proc = cli(env, "export", "--all", str(tmp_path / "fit"), "--format", "fit", "--user", username)
    assert len(list((tmp_path / "fit").iterdir())) == 2


def test_export_writes_the_timer_runhub_shows(env, tmp_path):
    """A CSV says nothing of pauses: runhub's time base takes its 601 s step as a pause (the gap
    rule) and shows 598 s of timer over 1,199 s. The exported FIT says so with a timer stop and
    start, so its reader (runhub, Garmin Connect) finds the same 598 s, not 1,199."""
    from runhub import formats
    from runhub.analysis.timebase import time_base

    username = f"cli-timer-{os.getpid()}"
    cli(env, "user", "create", username, "--password", "s3cret-pass")
    clock = list(range(300)) + list(range(900, 1200))
    rows = ["timestamp,heart_rate,distance"]
    rows += [f"2024-06-12T06:{c // 60:02d}:{c % 60:02d}+00:00,140,{3 * k}" for k, c in enumerate(clock)]
    src = tmp_path / "gap.csv"
    src.write_text("\n".join(rows) + "\n")
    (line,) = [json.loads(x) for x in cli(env, "import", str(src), "--user", username, "--sport", "running",
                                           "--json").stdout.splitlines()]
    out = tmp_path / "gap.fit"
    cli(env, "export", str(line["activity_id"]), "--format", "fit", "--output", str(out), "--user", username)
    (back,) = formats.decode(out.read_bytes())
    assert back.pauses == [300]
    assert time_base(back).timer == 1199.0 - 601.0


def test_import_in_parallel_stores_what_the_serial_import_stores(env, tmp_path):
    """`--jobs 2` decodes and analyses in worker processes while the parent stores in file order: the
    same statuses per file (a copy later in the folder is still the duplicate, a broken file still
    fails) and the same stored runs as `--jobs 1`."""
    from datetime import UTC, datetime

    from runhub import demo, formats

    folder = tmp_path / "lifetime"
    folder.mkdir()
    for k, fmt in enumerate(("fit", "gpx", "tcx", "fit", "json")):
        run = demo.make_run(500 + k, datetime(2024, 3, 1 + k, 7, 0, tzinfo=UTC), minutes=8.0)
        (folder / f"{k}-run.{fmt}").write_bytes(formats.encode(run, fmt))
    (folder / "5-copy.fit").write_bytes((folder / "0-run.fit").read_bytes())
    broken = bytearray((folder / "3-run.fit").read_bytes())
    broken[len(broken) // 2] ^= 0xFF  # the file CRC no longer matches: refused
    (folder / "6-broken.fit").write_bytes(bytes(broken))
    exported = {}
    for jobs in ("1", "2"):
        username = f"cli-jobs{jobs}-{os.getpid()}"
        cli(env, "user", "create", username, "--password", "s3cret-pass")
        proc = cli(env, "import", str(folder), "--user", username, "--json", "--jobs", jobs, check=False)
        lines = [json.loads(line) for line in proc.stdout.splitlines()]
        statuses = [(Path(r["path"]).name, r["status"]) for r in lines]
        kinds = ("fit", "gpx", "tcx", "fit", "json")
        assert statuses[:5] == [(f"{k}-run.{f}", "created") for k, f in enumerate(kinds)]
        assert statuses[5] == ("5-copy.fit", "duplicate")
        assert statuses[6] == ("6-broken.fit", "failed")
        assert proc.returncode == 1
        out = tmp_path / f"export-{jobs}"
        cli(env, "export", "--all", str(out), "--format", "json", "--user", username)
        exported[jobs] = {p.name: json.loads(p.read_text()) for p in sorted(out.iterdir())}
        exported[jobs]["statuses"] = statuses
    assert len(exported["1"]) == len(exported["2"]) >= 6
    strip = {"activityId", "userId", "createdAt", "updatedAt"}
    for a, b in zip(exported["1"].values(), exported["2"].values(), strict=True):
        if isinstance(a, dict):
            a = {k: v for k, v in a.items() if k not in strip}
            b = {k: v for k, v in b.items() if k not in strip}
        assert a == b


def test_export_original_gives_back_the_files_as_imported(env, tmp_path):
    """`--format original`: what the runner imported, byte for byte (DESIGN: "a user can always
    download what they sent"): a FIT file, a gzipped GPX (kept as its content: the GPX), a
    multisport FIT once for its three activities (corpus); a run that came as no file (the demo's,
    generated) is named with the reason, the rest still written, exit 1; one export of it says the
    same. Before, the originals were stored and no command read them."""
    import gzip
    from datetime import UTC, datetime

    from runhub import demo, formats
    from tests.formats.conftest import CORPUS

    username = f"cli-original-{os.getpid()}"
    cli(env, "demo", "--username", username, "--password", "s3cret-pass", "--runs", "1")
    src = tmp_path / "src"
    src.mkdir()
    run = demo.make_run(7, datetime(2024, 6, 3, 6, 30, tzinfo=UTC), minutes=6)
    fit = formats.encode(run, "fit")
    gpx = formats.encode(demo.make_run(8, datetime(2024, 6, 4, 6, 30, tzinfo=UTC), minutes=6), "gpx")
    (src / "a.fit").write_bytes(fit)
    (src / "b.gpx.gz").write_bytes(gzip.compress(gpx))
    want = {fit, gpx}
    multisport = CORPUS / "fit" / "fitparse_activity-large-fenxi2-multisport.fit"
    if multisport.exists():
        (src / "c.fit").write_bytes(multisport.read_bytes())
        want.add(multisport.read_bytes())
    lines = [json.loads(x) for x in cli(env, "import", str(src), "--user", username, "--json").stdout.splitlines()]
    assert [x["status"] for x in lines] == ["created"] * len(lines)  # a line per activity
    assert len([x for x in lines if x["path"].endswith("c.fit")]) != 1  # the multisport file: several

    out = tmp_path / "originals"
    proc = cli(env, "export", "--all", str(out), "--format", "original", "--user", username, check=False)
    assert proc.returncode == 1 and f"exported {len(want)} activities" in proc.stdout, proc
    assert "no original file (it was not imported or uploaded as a file)" in proc.stderr
    files = sorted(out.iterdir())
    assert {p.read_bytes() for p in files} == want
    assert sorted(p.suffix for p in files) == sorted([".fit", ".gpx"] + ([".fit"] if multisport.exists() else []))

    fit_id = next(x["activity_id"] for x in lines if x["path"].endswith("a.fit"))
    one = tmp_path / "one.fit"
    cli(env, "export", str(fit_id), "--format", "original", "--output", str(one), "--user", username)
    assert one.read_bytes() == fit
    demo_id = int(proc.stderr.split("not exported: activity ")[1].split(":")[0])
    alone = cli(env, "export", str(demo_id), "--format", "original", "--user", username, check=False)
    assert alone.returncode == 1 and "no original file" in alone.stderr and not alone.stdout
    cli(env, "user", "create", username + "-other", "--password", "s3cret-pass")
    other = cli(env, "export", str(fit_id), "--format", "original", "--user", username + "-other", check=False)
    assert other.returncode == 1 and "no such activity" in other.stderr and not other.stdout  # not hers


def test_a_folder_import_passes_by_what_file_managers_leave(env, tmp_path):
    """A lifetime's folder copied from a Mac or a Windows PC holds Finder's and Explorer's own files
    in every folder (.DS_Store, Icon\\r, .localized, ._ resource forks, Thumbs.db, desktop.ini): not
    even a line each; the run beside them is imported and the import exits 0."""
    from datetime import UTC, datetime

    from runhub import demo, formats

    username = f"cli-junk-{os.getpid()}"
    cli(env, "user", "create", username, "--password", "s3cret-pass")
    folder = tmp_path / "lifetime" / "2019"
    folder.mkdir(parents=True)
    (folder / "run.fit").write_bytes(formats.encode(demo.make_run(5, datetime(2019, 5, 5, 7, 0, tzinfo=UTC)), "fit"))
    junk = {".DS_Store": b"\0\0\0\1Bud1" + b"\0" * 40, "Icon\r": b"", ".localized": b"",
            "._run.fit": b"\0\5\26\7\0\2\0\0Mac OS X", "Thumbs.db": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 40,
            "desktop.ini": b"[.ShellClassInfo]\r\nIconResource=C:\\Windows\\system32\\imageres.dll,-3\r\n"}
    for name, data in junk.items():
        for where in (folder, folder.parent):
            (where / name).write_bytes(data)
    proc = cli(env, "import", str(folder.parent), "--user", username, "--json")
    lines = [json.loads(x) for x in proc.stdout.splitlines()]
    assert [(Path(x["path"]).name, x["status"]) for x in lines] == [("run.fit", "created")]


def test_a_folder_import_goes_through_linked_folders_and_names_a_link_to_nothing(env, tmp_path):
    """A lifetime's folder that links to another disk's folder imports that folder's runs too; a
    link back up the tree is no loop (each folder once); a link to a file that is gone (a disk
    not mounted) is a failed line saying where it points, not a file missing without a word."""
    from datetime import UTC, datetime

    from runhub import demo, formats

    username = f"cli-links-{os.getpid()}"
    cli(env, "user", "create", username, "--password", "s3cret-pass")
    disk = tmp_path / "other-disk" / "2018"
    disk.mkdir(parents=True)
    (disk / "old.fit").write_bytes(formats.encode(demo.make_run(5, datetime(2018, 6, 1, 7, 0, tzinfo=UTC)), "fit"))
    top = tmp_path / "lifetime"
    (top / "2019").mkdir(parents=True)
    (top / "2019" / "new.fit").write_bytes(
        formats.encode(demo.make_run(5, datetime(2019, 6, 1, 7, 0, tzinfo=UTC)), "fit"))
    (top / "2018").symlink_to(disk, target_is_directory=True)
    (top / "2019" / "up").symlink_to(top, target_is_directory=True)
    (top / "gone.gpx").symlink_to(tmp_path / "unmounted" / "run.gpx")
    proc = cli(env, "import", str(top), "--user", username, "--json", check=False)
    lines = [json.loads(x) for x in proc.stdout.splitlines()]
    assert [(Path(x["path"]).relative_to(top).as_posix(), x["status"]) for x in lines] == [
        ("2018/old.fit", "created"), ("2019/new.fit", "created"), ("gone.gpx", "failed")]
    assert f"a link to {tmp_path / 'unmounted' / 'run.gpx'}: No such file or directory" in lines[2]["error"]
    assert proc.returncode == 1


def test_a_folder_import_names_a_subfolder_it_cannot_read(env, tmp_path):
    """A subfolder the importing user may not read (a disk mounted with another owner's rights)
    is a failed line naming it and why, and the import exits 1: os.walk drops the error, so its
    runs went missing without a word. A file it may not read fails the same way. The rest is
    imported. Root reads every folder, so
    as root the CLI runs without the rights that let it (setpriv drops CAP_DAC_OVERRIDE and
    CAP_DAC_READ_SEARCH; everything else it opens is root's own, so it still reads that)."""
    import shutil
    from datetime import UTC, datetime

    from runhub import demo, formats

    prefix: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root and util-linux's setpriv is missing: root reads a folder of mode 000")
        drop = "-dac_override,-dac_read_search"
        prefix = [setpriv, f"--inh-caps={drop}", f"--bounding-set={drop}"]
    username = f"cli-locked-{os.getpid()}"
    cli(env, "user", "create", username, "--password", "s3cret-pass")
    top = tmp_path / "lifetime"
    for year in (2019, 2020):
        (top / str(year)).mkdir(parents=True)
        run = demo.make_run(year, datetime(year, 6, 1, 7, 0, tzinfo=UTC))
        (top / str(year) / "run.fit").write_bytes(formats.encode(run, "fit"))
    (top / "2020" / "zz-locked.fit").write_bytes((top / "2020" / "run.fit").read_bytes())
    locked, locked_file = top / "2019", top / "2020" / "zz-locked.fit"
    locked.chmod(0)
    locked_file.chmod(0)
    try:
        proc = subprocess.run([*prefix, *RUNHUB, "import", str(top), "--user", username, "--json"], env=env,
                              capture_output=True, text=True, timeout=CLI_TIMEOUT)
    finally:
        locked.chmod(0o755)
    lines = [json.loads(x) for x in proc.stdout.splitlines()]
    assert [(Path(x["path"]).relative_to(top).as_posix(), x["status"]) for x in lines] == [
        ("2019", "failed"), ("2020/run.fit", "created"), ("2020/zz-locked.fit", "failed")], proc.stderr
    assert lines[0]["error"] == f"{locked}: Permission denied"
    assert lines[2]["error"] == f"{locked_file}: Permission denied"
    assert proc.returncode == 1

def test_duplicates_lists_the_runs_stored_twice_and_keeps_the_fuller_recording(env, tmp_path):
    """A runner who imports Garmin's export and Strava's holds each run twice (the watch's run from
    Garmin Connect, and Strava's GPX without heart rate or cadence): both count in every total.
    `runhub duplicates` lists each such run, marks the watch's recording to keep whichever was
    imported first (it has more channels: 6 against 4, the GPX's distance measured along its
    positions), and `--delete` deletes the other, which a new import of it does not bring back;
    an unrelated run on the same day is no duplicate."""
    from datetime import UTC, datetime

    from runhub import demo, formats

    run = demo.make_run(95, datetime(2024, 7, 1, 6, 0, tzinfo=UTC), minutes=8.0)
    other_day = demo.make_run(96, datetime(2024, 7, 1, 18, 0, tzinfo=UTC), minutes=8.0)
    poor = demo.make_run(95, datetime(2024, 7, 1, 6, 0, tzinfo=UTC), minutes=8.0,
                         channels=("distance", "latitude", "longitude", "altitude"))
    poor.device_name = "StravaGPX"
    files = tmp_path / "files"
    files.mkdir()
    garmin = formats.encode(run, "tcx").replace(b"<Name>runhub</Name>", b"<Name>Garmin Connect</Name>")
    assert b"runhub" not in garmin.replace(b"runhub demo", b"")  # Garmin Connect's TCX of the watch's run
    (files / "watch.tcx").write_bytes(garmin)
    (files / "strava.gpx").write_bytes(formats.encode(poor, "gpx").replace(b"exported by runhub", b"Strava"))
    (files / "evening.fit").write_bytes(formats.encode(other_day, "fit"))
    for order in (["watch.tcx", "strava.gpx"], ["strava.gpx", "watch.tcx"]):
        username = f"cli-dupes-{order[0][:5]}-{os.getpid()}"
        cli(env, "user", "create", username, "--password", "s3cret-pass")
        ids = {}
        for name in [*order, "evening.fit"]:
            (line,) = [json.loads(x) for x in
                       cli(env, "import", str(files / name), "--user", username, "--json").stdout.splitlines()]
            assert line["status"] == "created"
            ids[name] = line["activity_id"]
        listed = cli(env, "duplicates", "--user", username).stdout.splitlines()
        rows = [line.split() for line in listed if line.startswith(("keep", "other"))]
        assert [(r[0], int(r[1])) for r in rows] == [("keep", ids["watch.tcx"]), ("other", ids["strava.gpx"])]
        assert "6 channels" in listed[0] and "4 channels" in listed[1], listed
        assert "1 runs stored more than once" in listed[-1]

        done = cli(env, "duplicates", "--user", username, "--delete").stdout
        assert f"delete  {ids['strava.gpx']:>7}" in done and "deleted 1 runs; kept 1" in done, done
        assert cli(env, "duplicates", "--user", username).stdout.strip() == "no run is stored twice"
        out = tmp_path / f"left-{order[0]}"
        cli(env, "export", "--all", str(out), "--format", "fit", "--user", username)
        assert sorted(int(p.stem.split("-")[-1]) for p in out.iterdir()) == sorted(
            [ids["watch.tcx"], ids["evening.fit"]])
        (again,) = [json.loads(x) for x in
                    cli(env, "import", str(files / "strava.gpx"), "--user", username, "--json").stdout.splitlines()]
        assert again["status"] == "duplicate"
    # the import itself says so, and how to see them
    username = f"cli-dupes-hint-{os.getpid()}"
    cli(env, "user", "create", username, "--password", "s3cret-pass")
    said = cli(env, "import", str(files), "--user", username).stderr
    assert "1 of the runs created the account already held from another recorder" in said, said
    assert f"`runhub duplicates --user {username}` lists them" in said, said


def test_a_runs_heartbeats_outlive_import_export_and_a_restore(env, tmp_path):
    """The Bloemendaal ride's 5,416 RR intervals (its hrv messages, as fitdecode reads them): kept by
    `runhub import`, written by `export --format fit` (hrv messages) and `--format json` (rrIntervals),
    and the JSON, imported into another account, restores them bit for bit."""
    from runhub import formats
    from tests.formats.conftest import CORPUS
    from tests.formats.test_rr_intervals import _fitdecode_rr

    src = CORPUS / "fit" / "elevate_bloemendaal.fit"
    if not src.is_file():
        pytest.skip(f"activity corpus not found at {CORPUS} (set RUNHUB_CORPUS)")
    beats = _fitdecode_rr(src.read_bytes())
    assert len(beats) == 5416
    username = f"cli-rr-{os.getpid()}"
    cli(env, "user", "create", username, "--password", "s3cret-pass")
    (line,) = [json.loads(x) for x in cli(env, "import", str(src), "--user", username, "--json").stdout.splitlines()]
    for fmt in ("fit", "json"):
        out = tmp_path / f"ride.{fmt}"
        cli(env, "export", str(line["activity_id"]), "--format", fmt, "--output", str(out), "--user", username)
        (back,) = formats.decode(out.read_bytes())
        assert back.rr_intervals.tolist() == beats, fmt
    other = f"cli-rr-restore-{os.getpid()}"
    cli(env, "user", "create", other, "--password", "s3cret-pass")
    (restored,) = [json.loads(x) for x in cli(env, "import", str(tmp_path / "ride.json"), "--user", other,
                                               "--json").stdout.splitlines()]
    assert restored["status"] == "created"
    again = tmp_path / "again.json"
    cli(env, "export", str(restored["activity_id"]), "--format", "json", "--output", str(again), "--user", other)
    assert json.loads(again.read_text())["runhub"]["rrIntervals"] == beats
