"""A zip on disk imported with `runhub import` (ingest_paths): a lifetime's account export, read
member by member. An upload of the same zip is refused past 1,000 members; from disk there is no
count or total limit, each member keeps the archive's other rules and its own result, and a
member that breaks one fails alone. From disk, a zip inside the zip (how a Garmin Connect export
holds its recordings) is read the same way; a zip inside that one is refused."""

from __future__ import annotations

import gzip
import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from runhub import demo, formats
from runhub.formats import archive
from runhub.ingest import ingest_bytes, ingest_paths
from runhub.store import activities as repo
from tests.conftest import make_user
from tests.core.test_export_lists import ACCOUNT_TABLES, HEADER, TABLE_SAYS, _line

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01"  # a JPEG's first bytes
PHOTOS = archive.MAX_MEMBERS + 1  # past what an upload may hold
FILM = 3 * 1024 * 1024  # past the member limit of this test (1 MiB): never decompressed whole
LIMIT = 1024 * 1024


def _export_zip(path: Path) -> dict[str, str]:
    """A Strava-like export zip at `path`; returns recording member -> the title its list gives."""
    runs = [demo.make_run(k, datetime(2024, 8, k, 6, 30, tzinfo=UTC), minutes=12.0) for k in (1, 2, 3, 4)]
    nested = io.BytesIO()
    with zipfile.ZipFile(nested, "w") as inner:
        inner.writestr("activities/103.gpx", formats.encode(runs[2], "gpx"))
        inner.writestr("deeper.zip", _zip({"104.gpx": formats.encode(runs[3], "gpx")}))
    lines = [HEADER, _line(101, "Hill reps", "6 x 200 m", "activities/101.fit.gz"),
             _line(102, "Easy loop", "", "activities/102.gpx")]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("activities.csv", "\n".join(lines) + "\n")
        for name, table in ACCOUNT_TABLES.items():
            zf.writestr(name, table)
        zf.writestr("activities/101.fit.gz", gzip.compress(formats.encode(runs[0], "fit")))
        zf.writestr("activities/102.gpx", formats.encode(runs[1], "gpx"))
        zf.writestr("activities/old_export.zip", nested.getvalue())
        zf.writestr("media/film.mp4", b"\x00\x00\x00\x18ftypmp42" + b"\0" * (FILM - 12))
        for k in range(PHOTOS):
            zf.writestr(f"media/{k}.jpg", JPEG)
    return {"activities/101.fit": "Hill reps", "activities/102.gpx": "Easy loop",
            "activities/old_export.zip/activities/103.gpx": runs[2].name}


def _zip(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


@pytest.mark.parametrize("workers", [1, 2])
def test_a_lifetime_export_zip_imports_member_by_member(db, tmp_path, workers) -> None:
    owner, _ = make_user(db)
    path = tmp_path / "export_12345.zip"
    titles = _export_zip(path)
    (refused,) = ingest_bytes(db, owner, path.read_bytes(), filename=path.name)  # an upload: the count limit
    assert refused.status == "failed" and f"{PHOTOS + 8} members, the limit is {archive.MAX_MEMBERS}" in refused.error

    ((got_path, results),) = list(ingest_paths(db, owner, [path], client_id="runhub-cli", max_bytes=LIMIT,
                                               workers=workers))
    assert got_path == path
    by_member = {r.filename: r for r in results}
    # one result per member, in the zip's order; the zip inside it gives its members' results
    assert len(results) == len(by_member) == PHOTOS + 7 + 2
    for member, title in titles.items():
        r = by_member.pop(member)
        assert r.status == "created", r
        with db.connect() as conn:
            assert repo.load_activity(conn, r.activity_id, owner, streams=False).name == title
    deeper = by_member.pop("activities/old_export.zip/deeper.zip")
    assert deeper.status == "failed" and "a zip inside a zip is refused here" in deeper.error
    assert "one level of zips inside a zip is read" in deeper.error
    film = by_member.pop("media/film.mp4")  # judged from its first bytes: past the limit, not read whole
    assert film.status == "skipped" and "video" in film.error
    assert by_member.pop("activities.csv").status == "skipped"
    for name in ACCOUNT_TABLES:
        r = by_member.pop(name)
        assert r.status == "skipped" and TABLE_SAYS in r.error
    photos = {(r.status, r.error) for r in by_member.values()}
    assert photos == {("skipped", "this is a JPEG image, not an activity file")}

    # the same zip again: each recording is a duplicate by its bytes, before decoding
    ((_, again),) = list(ingest_paths(db, owner, [path], client_id="runhub-cli", max_bytes=LIMIT, workers=workers))
    assert {r.filename: r.status for r in again if r.filename in titles} == dict.fromkeys(titles, "duplicate")
    with db.connect() as conn:
        assert repo.count(conn, owner) == 3


def test_a_broken_zip_on_disk_fails_under_its_path(db, tmp_path) -> None:
    owner, _ = make_user(db)
    path = tmp_path / "cut.zip"
    _export_zip(tmp_path / "whole.zip")
    path.write_bytes((tmp_path / "whole.zip").read_bytes()[:5000])  # the central directory cut off
    ((_, results),) = list(ingest_paths(db, owner, [path], client_id="runhub-cli"))
    assert [(r.status, r.filename) for r in results] == [("failed", str(path))]
    assert "not a valid zip file" in results[0].error


def test_a_garmin_export_reads_the_zips_inside_it(db, tmp_path) -> None:
    """Garmin Connect's "Export Your Data" zip: the recordings are members of
    DI_CONNECT/DI-Connect-Uploaded-Files/UploadedFiles_0-_Part1.zip (stored or deflated), beside
    the account's JSON; each recording is imported under its path through the inner zip, a broken
    inner zip fails alone, and the same export again is all duplicates."""
    owner, _ = make_user(db)
    runs = [demo.make_run(k, datetime(2023, 5, k, 7, 0, tzinfo=UTC), minutes=15.0) for k in (1, 2, 3)]
    uploaded = "DI_CONNECT/DI-Connect-Uploaded-Files/"
    part1 = _zip({"jo@example.com_101.fit": formats.encode(runs[0], "fit"),
                  "jo@example.com_102.tcx": formats.encode(runs[1], "tcx")})
    part2 = _zip({"jo@example.com_103.fit": formats.encode(runs[2], "fit")}, zipfile.ZIP_STORED)
    path = tmp_path / "garmin_export.zip"
    path.write_bytes(_zip({
        "DI_CONNECT/DI-Connect-Fitness/jo_0_summarizedActivities.json":
            b'[{"summarizedActivitiesExport": [{"activityId": 1, "name": "Run"}]}]',
        uploaded + "UploadedFiles_0-_Part1.zip": part1,
        uploaded + "UploadedFiles_0-_Part2.zip": part2,
        uploaded + "UploadedFiles_0-_Part3.zip": part1[: len(part1) // 2],  # cut short: its directory is gone
    }))
    ((_, results),) = list(ingest_paths(db, owner, [path], client_id="runhub-cli"))
    got = {r.filename: r.status for r in results}
    assert got == {
        "DI_CONNECT/DI-Connect-Fitness/jo_0_summarizedActivities.json": "skipped",
        uploaded + "UploadedFiles_0-_Part1.zip/jo@example.com_101.fit": "created",
        uploaded + "UploadedFiles_0-_Part1.zip/jo@example.com_102.tcx": "created",
        uploaded + "UploadedFiles_0-_Part2.zip/jo@example.com_103.fit": "created",
        uploaded + "UploadedFiles_0-_Part3.zip": "failed",
    }
    broken = next(r for r in results if r.status == "failed")
    assert "not a valid zip file" in broken.error
    with db.connect() as conn:
        stored = sorted(repo.load_activity(conn, r.activity_id, owner, streams=False).start for r in results
                        if r.status == "created")
    assert stored == sorted(run.start for run in runs)

    ((_, again),) = list(ingest_paths(db, owner, [path], client_id="runhub-cli"))
    assert [r.status for r in again if r.filename.endswith((".fit", ".tcx"))] == ["duplicate"] * 3


def test_a_zip_inside_a_zip_is_bounded_on_disk(tmp_path) -> None:
    """The inner zip goes through a temporary file: one declaring more than the bound is refused
    before anything is written, alone; the members around it are still read."""
    gpx = formats.encode(demo.make_run(1, datetime(2023, 5, 1, 7, 0, tzinfo=UTC), minutes=5.0), "gpx")
    inner = _zip({"a.gpx": gpx, "b.gpx": gpx}, zipfile.ZIP_STORED)
    path = tmp_path / "export.zip"
    path.write_bytes(_zip({"first.gpx": gpx, "part.zip": inner, "last.gpx": gpx}))
    got = list(archive.stream(path, max_nested_bytes=len(inner) - 1))
    assert [name for name, _ in got] == ["first.gpx", "part.zip", "last.gpx"]
    refusal = got[1][1]
    assert isinstance(refusal, formats.FormatError)
    assert f"declares {len(inner)} bytes" in str(refusal) and "unpack the outer zip" in str(refusal)
    assert "set TMPDIR to a folder with more room" in str(refusal)
    got = list(archive.stream(path, max_nested_bytes=len(inner)))
    assert [(name, data) for name, data in got] == [
        ("first.gpx", gpx), ("part.zip/a.gpx", gpx), ("part.zip/b.gpx", gpx), ("last.gpx", gpx)]


def test_the_members_of_a_zip_inside_a_zip_keep_every_rule(tmp_path) -> None:
    """A member of the inner zip past the member limit (a bomb: 8 MiB of zeros in a few KB), one
    whose name climbs out, an encrypted one: each refused alone, named under the inner zip's path,
    its neighbours read."""
    gpx = formats.encode(demo.make_run(1, datetime(2023, 5, 1, 7, 0, tzinfo=UTC), minutes=5.0), "gpx")
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("bomb.fit", b"\0" * (8 * LIMIT))
        zf.writestr("../../etc/evil.gpx", gpx)
        zf.writestr("locked.gpx", gpx)
        zf.writestr("ok.gpx", gpx)
    raw = bytearray(inner.getvalue())
    for at in (i for i in range(len(raw)) if raw[i:i + 4] in (b"PK\x03\x04", b"PK\x01\x02")):
        name_at = at + (30 if raw[at + 2] == 3 else 46)
        length = int.from_bytes(raw[at + (26 if raw[at + 2] == 3 else 28):][:2], "little")
        if raw[name_at:name_at + length] == b"locked.gpx":  # its flag bit 0 set: encrypted
            flag_at = at + (6 if raw[at + 2] == 3 else 8)
            raw[flag_at] |= 0x1
    assert len(raw) < 64 * 1024
    path = tmp_path / "export.zip"
    path.write_bytes(_zip({"part.zip": bytes(raw)}))
    got = dict(archive.stream(path, max_member_bytes=LIMIT))
    assert list(got) == ["part.zip/bomb.fit", "part.zip/../../etc/evil.gpx", "part.zip/locked.gpx", "part.zip/ok.gpx"]
    assert f"member declares {8 * LIMIT} bytes, the limit is {LIMIT}" in str(got["part.zip/bomb.fit"])
    assert "points outside the archive" in str(got["part.zip/../../etc/evil.gpx"])
    assert "encrypted members are refused" in str(got["part.zip/locked.gpx"])
    assert got["part.zip/ok.gpx"] == gpx


def test_an_upload_still_refuses_a_zip_inside_a_zip(db) -> None:
    owner, _ = make_user(db)
    gpx = formats.encode(demo.make_run(1, datetime(2023, 5, 1, 7, 0, tzinfo=UTC), minutes=5.0), "gpx")
    (refused,) = ingest_bytes(db, owner, _zip({"part.zip": _zip({"a.gpx": gpx})}), filename="export.zip")
    assert refused.status == "failed" and "a zip inside a zip is refused here" in refused.error
    assert "runhub import" in refused.error
    with db.connect() as conn:
        assert repo.count(conn, owner) == 0
