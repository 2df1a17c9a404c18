"""The one path by which activities enter runhub: sniff, decode, validate, dedupe, analyse,
save, in one transaction per activity. Every API, the web upload and the CLI call this.

Dedupe, as the Smashrun seed says, with "matching" made precise:
- the same client sending the same externalId updates that activity (status "updated");
- the same client sending the same bytes again changes nothing (status "duplicate");
- a run *matching* one the same client created overwrites it (status "updated");
- a run matching one from another source is stored as a new activity, marked
  `possible_duplicate_of` the other (status "created", `duplicate_of` set): the seed's "dupe";
- a file runhub wrote (an export: `formats.WRITER`, or in a file import a Smashrun JSON naming
  the run by its activityId) matching a run changes nothing (status "duplicate"): a backup
  restored into the account it came from adds only what is missing; so does, in a file import, a
  file naming no recorder that holds a run's samples exactly (runhub's CSV export: `copy_of`);
- a file read only up to a break (`import_warning`) never overwrites a run (status "duplicate").
The "client" is the app that sends the run; for a file import (the CLI) it is the recorder the
file names (`dedupe_source`): a lifetime import holds the same run from several recorders (the
watch's FIT, Strava's GPX, Garmin Connect's TCX), and none of them may overwrite another; a file
that names no recorder (a CSV) is its own, known by its name.
Two runs match when they have the same owner, starts within MATCH_START_SECONDS, timer
times within max(MATCH_DURATION_SECONDS, MATCH_RELATIVE) of each other, and distances within
max(MATCH_DISTANCE_METERS, MATCH_RELATIVE) (or both have no distance).
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import posixpath
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import IO, Any, Literal

import numpy as np
from sqlalchemy import Connection, Row
from sqlalchemy.exc import IntegrityError

from runhub import formats, sports
from runhub.activity import EDITED, Activity, ActivityError
from runhub.analysis import analyse
from runhub.analysis.local_time import infer_local_time
from runhub.analysis.timebase import make_timer_explicit
from runhub.formats import FormatError, NotAnActivity, apple_health, archive, export_lists
from runhub.store import Database, users
from runhub.store import activities as repo

MATCH_START_SECONDS = 5.0
MATCH_DURATION_SECONDS = 5.0
MATCH_DISTANCE_METERS = 20.0
MATCH_RELATIVE = 0.01
COPY_LOOKBACK = timedelta(days=1)  # how far a copy's first sample may lie past its run's start (`copy_of`)

# "skipped": a file an import of a folder passes by, being plainly something else (formats.NotAnActivity)
Status = Literal["created", "updated", "duplicate", "failed", "skipped"]


@dataclass
class IngestResult:
    status: Status
    activity_id: int | None = None
    filename: str | None = None
    error: str | None = None
    error_detail: dict[str, Any] | None = None
    duplicate_of: int | None = None
    format: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.filename,
            "status": self.status,
            "activity_id": self.activity_id,
            "error": self.error,
            "duplicate_of": self.duplicate_of,
        }


def matches(a: Activity, row: Row[Any]) -> bool:
    """Same run by start, timer time and distance (see the module docstring)."""
    if abs((a.start - row.start_utc).total_seconds()) > MATCH_START_SECONDS:
        return False
    for mine, theirs, floor in (
        (a.summary.timer_time, row.timer_time, MATCH_DURATION_SECONDS),
        (a.summary.distance, row.distance, MATCH_DISTANCE_METERS),
    ):
        if (mine is None) != (theirs is None):
            return False
        if mine is not None and abs(mine - theirs) > max(floor, MATCH_RELATIVE * max(mine, theirs)):
            return False
    return True


def prepare(a: Activity, profile_zone: Callable[[], str | None] | None = None) -> dict[str, Any]:
    """Analyse an activity in place (its local time where the file stated none, the summary
    recomputed from channels); return its products. `profile_zone`: the owner's time zone, for an
    activity with neither a stated offset nor a position."""
    infer_local_time(a, profile_zone)
    result = analyse(a)
    a.summary = result.summary
    return result.products


def dedupe_source(client_id: str | None, a: Activity, fmt: str, by_recorder: bool,
                  filename: str | None = None) -> str:
    """Whose runs this one may overwrite (the seed's "your application"): the sending client's;
    for a file import, the client's and the recorder the file names: its format, device (FIT
    product, TCX Creator, GPX creator) and serial number. So the watch's FIT and Strava's GPX of
    one run are two sources (a marked dupe, never an overwrite), and the same bytes again, or an
    edited file from the same recorder, are the same source. A file that names no recorder (a CSV,
    a GPX without creator) is its own recorder, by its file name: two such files of one run (the
    CSV exports of the watch's and Strava's recordings, restored) are two runs, where one
    overwrote the other when all of them counted as one recorder; an edited file keeps its name
    and overwrites its run. At most 128 characters (activities.client_key): a longer one ends in
    its hash."""
    if not by_recorder:
        return client_id or ""
    origin = _export_of(a)
    if origin is not None:  # an export's recorder is the activity it is the export of, in any format
        key = (client_id or "") + _export_key(origin)
    else:
        serial = a.extras.get("fit_serial_number")
        key = "|".join((client_id or "", fmt, a.device_name or "", "" if serial is None else str(serial)))
        if _names_no_recorder(a) and filename:
            key += "|" + posixpath.basename(filename.replace("\\", "/"))
    return key if len(key) <= 128 else key[:63] + "|" + hashlib.sha256(key.encode()).hexdigest()


def _names_no_recorder(a: Activity) -> bool:
    """Whether a file says nothing of what recorded it: no device, serial number or export origin."""
    return not a.device_name and a.extras.get("fit_serial_number") is None and _export_of(a) is None


def _export_key(origin: int) -> str:
    """The end of the dedupe source of an export of activity `origin`."""
    return f"|activity|{origin}"


def _export_of(a: Activity) -> int | None:
    """The id of the activity a file is the export of: the one a file runhub wrote names
    (formats.EXPORT_OF), or a Smashrun JSON's activityId (runhub's export writes it)."""
    origin = a.extras.get(formats.EXPORT_OF) if a.extras.get("written_by") == formats.WRITER else a.id
    # an id a database can hold (a file may say anything: a 30-digit id is no run of ours)
    return origin if isinstance(origin, int) and 0 < origin < 2**63 else None


def dedupe_key(digest: str, k: int, n: int) -> str:
    """The dedupe key of activity `k` of the `n` a file with sha256 `digest` holds: the digest
    itself for a one-activity file, else a hash of digest and index, so that every key has the
    64 characters of activities.content_hash (VARCHAR(64); "<digest>:<k>", 66 and more, was
    refused by PostgreSQL)."""
    return digest if n == 1 else hashlib.sha256(f"{digest}:{k}".encode()).hexdigest()


@dataclass
class Analysed:
    """One activity of an upload, decoded, validated and analysed: the pure half of ingest (no
    database), so it may run in another process; `store_analysed` is the other half."""

    activity: Activity
    products: dict[str, Any]
    content_key: str
    original: bytes | None
    fmt: str
    filename: str | None


def analyse_upload(
    data: bytes,
    *,
    filename: str | None = None,
    sport: str | None = None,
    max_bytes: int | None = None,
    listed: dict[str, str] | None = None,
    profile_zone: Callable[[], str | None] | None = None,
    digest: str | None = None,
) -> list[Analysed | IngestResult]:
    """Sniff, decode, validate and analyse one upload (an archive: each member, in order): an
    `Analysed` per activity, a failed result per refusal. `sport`: the sport of a file that does
    not say one (a CSV needs it; any other file whose sport is generic takes it). `listed`: what an
    account export's list says of this file (export_lists.apply). `digest`: the sha256 of `data`,
    when the caller has it already."""
    if max_bytes is not None and len(data) > max_bytes:
        return [
            IngestResult(
                "failed",
                filename=filename,
                error=f"upload is {len(data)} bytes, the limit is {max_bytes}",
                error_detail={"message": "upload too large", "field": None},
            )
        ]
    try:
        fmt = formats.sniff(data)
    except FormatError as exc:
        return [_failed(filename, exc)]
    if fmt in ("gzip", "zip"):
        try:
            members = archive.unpack(data, filename, **({"max_member_bytes": max_bytes} if max_bytes else {}))
        except FormatError as exc:
            return [_failed(filename, exc)]
        steps: list[Analysed | IngestResult] = []
        lists = _lists_in(members)  # an account export's zip: its list names the recordings
        content = dict(members)
        health, routes = _health_members(content, lambda n: content[n][:4096])  # Apple Health's export
        for name, member in members:
            if name in health:
                folder = posixpath.dirname(name)
                steps.extend(_health_steps(f"{filename or 'upload'}/{name}", lambda m=member: io.BytesIO(m),
                                           lambda ref, f=folder: _route_in(f, ref, content.get)))
                continue
            if posixpath.dirname(name) in routes:
                steps.append(IngestResult("skipped", filename=name, error=f"{name}: {HEALTH_ROUTE}"))
                continue
            table = lists.table(posixpath.dirname(name), member, name)
            if table is not None:
                steps.append(table)
                continue
            given = lists.given.get(posixpath.normpath(name))
            steps.extend(analyse_upload(member, filename=name, sport=sport,
                                        listed={**given, **(listed or {})} if given else listed,
                                        profile_zone=profile_zone))
        return steps
    try:
        options: dict[str, Any] = {"filename": filename}
        if sport and fmt == "csv":
            options["sport"] = sport
        if max_bytes and fmt in ("tcx", "gpx"):
            options["max_bytes"] = max_bytes
        decoded = formats.decode(data, fmt, **options)
    except (FormatError, ActivityError) as exc:
        return [_failed(filename, exc)]
    except (ValueError, KeyError, IndexError, TypeError, OverflowError) as exc:
        # A decoder library tripping over a malformed file: still the file's fault, said plainly.
        return [
            _failed(
                filename,
                FormatError(f"cannot read this {fmt} file ({type(exc).__name__}: {exc})", format=fmt, file=filename),
            )
        ]
    digest = digest or hashlib.sha256(data).hexdigest()
    steps = []
    for k, a in enumerate(decoded):
        if sport and fmt != "csv" and a.sport == sports.DEFAULT.code:
            try:  # a file that does not say its sport (a GPX without a type, TCX "Other", FIT generic)
                a.sport = sports.from_name(sport)
            except sports.UnknownSport as exc:
                steps.append(_failed(filename, FormatError(str(exc), format=fmt, file=filename, field="sport")))
                continue
        if listed:
            export_lists.apply(a, listed, alone=len(decoded) == 1)
        try:
            products = checked_products(a, profile_zone)
        except ActivityError as exc:
            steps.append(_failed(filename, exc))
            continue
        original = data if k == 0 else None
        steps.append(Analysed(a, products, dedupe_key(digest, k, len(decoded)), original, fmt, filename))
    return steps


def ingest_bytes(
    db: Database,
    owner_id: int,
    data: bytes,
    *,
    filename: str | None = None,
    client_id: str | None = None,
    sport: str | None = None,
    max_bytes: int | None = None,
    listed: dict[str, str] | None = None,
    by_recorder: bool = False,
) -> list[IngestResult]:
    """Ingest one upload; an archive gives one result per member. `by_recorder`: a file import,
    deduplicated by the recorder the file names (`dedupe_source`)."""
    steps = analyse_upload(data, filename=filename, sport=sport, max_bytes=max_bytes, listed=listed,
                           profile_zone=owner_zone(db, owner_id))
    return [_store(db, owner_id, step, client_id, by_recorder) for step in steps]


def ingest_paths(
    db: Database,
    owner_id: int,
    paths: Sequence[Path],
    *,
    client_id: str | None = None,
    sport: str | None = None,
    max_bytes: int | None = None,
    workers: int = 1,
    by_recorder: bool = True,
) -> Iterator[tuple[Path, list[IngestResult]]]:
    """Ingest files in order, yielding each file's results as it is stored. With workers > 1 the
    pure half (read, decode, validate, analyse) of the files ahead runs in that many processes
    while this one stores, one transaction per activity as always and in file order, so dedupe
    sees the files in the order given. At most 2 x workers files are in flight (memory stays
    bounded on a lifetime of files). Files are deduplicated by the recorder they name
    (`dedupe_source`) unless `by_recorder` is False; a file that is plainly not an activity is
    skipped (`_skipped_or`). A zip is read member by member, in this process (`_import_zip`)."""
    zone = owner_zone(db, owner_id)()  # once for the import (a worker process cannot ask the database)
    lists = _lists_beside(paths)
    health = _health_exports(paths)

    def first(path: Path) -> list[IngestResult] | tuple[bytes, _Fresh] | None:
        """What is known of a file before its analysis: its results already (unreadable, too large,
        an export's table, bytes the account holds, a route of an Apple Health export imported),
        or its bytes and what `_known` says; None for a file read by its own reader here (a zip,
        Apple Health's export.xml). Each file is read and hashed once."""
        if path.parent.name == "workout-routes" and _key(path.parent.parent) in health:
            return [IngestResult("skipped", filename=str(path), error=f"{path}: {HEALTH_ROUTE}")]
        data = _take(path, max_bytes)
        if data is None or isinstance(data, IngestResult):
            return None if data is None else [_skipped_or(data)]
        known = _known(db, owner_id, lists, _key(path.parent), str(path), data, lists.given.get(_key(path)),
                       max_bytes)
        return known if isinstance(known, list) else (data, known)

    def own_reader(path: Path) -> list[IngestResult]:
        """A zip or Apple Health's export.xml, read by its own reader, in this process."""
        if archive.is_zip(_head(path)):
            return _import_zip(db, owner_id, path, client_id, sport, max_bytes, zone, by_recorder)
        return _health_file(db, owner_id, path, client_id, by_recorder)

    if workers <= 1:
        for path in paths:
            known = first(path)
            if known is None:
                yield path, own_reader(path)
                continue
            if isinstance(known, list):
                yield path, known
                continue
            _, fresh = known
            steps = analyse_upload(
                fresh.data, filename=fresh.filename, sport=sport, max_bytes=max_bytes, profile_zone=lambda: zone,
                digest=fresh.digest, listed=lists.given.get(_key(path)),
            )
            yield path, _stored(db, owner_id, steps, client_id, by_recorder, fresh.relisted)
        return
    import multiprocessing
    from concurrent.futures import Future, ProcessPoolExecutor

    Work = tuple[Future[list[Analysed | IngestResult]], int | None] | list[IngestResult] | None

    # spawn, not fork: this process holds database connections a forked child must not inherit
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        pending: deque[tuple[Path, Work]] = deque()

        def ahead(path: Path) -> tuple[Path, Work]:
            # the look-up reads the file here; a worker reads it again rather than receive it pickled
            known = first(path)
            if known is None or isinstance(known, list):
                return path, known
            work = pool.submit(_analyse_path, path, sport, max_bytes, zone, lists.given.get(_key(path)))
            return path, (work, known[1].relisted)

        queue = iter(paths)
        for path in queue:
            pending.append(ahead(path))
            if len(pending) >= 2 * workers:
                break
        while pending:
            path, work = pending.popleft()
            nxt = next(queue, None)
            if nxt is not None:
                pending.append(ahead(nxt))
            if work is None:  # a zip or Apple Health's export.xml: here, in file order
                yield path, own_reader(path)
            elif isinstance(work, list):
                yield path, work
            else:
                yield path, _stored(db, owner_id, work[0].result(), client_id, by_recorder, work[1])


def _import_zip(
    db: Database, owner_id: int, path: Path, client_id: str | None, sport: str | None, max_bytes: int | None,
    zone: str | None, by_recorder: bool,
) -> list[IngestResult]:
    """A zip on disk (a lifetime's export, often: thousands of recordings, photos, films; with the
    zips inside it, one level: a Garmin export) imported member by member (archive.stream), each
    analysed and stored before the next is read, so memory holds one member: no count or total
    limit applies, unlike an upload. A member the account holds by its bytes is a duplicate before
    decoding, as a file of a folder is; an export's list among the members names the recordings
    beside it, as in a folder."""
    limit = max_bytes or archive.MAX_MEMBER_BYTES
    named = archive.stream(path, limit, only=lambda name: posixpath.basename(name).lower() in export_lists.LIST_NAMES)
    lists = _lists_in([(name, data) for name, data in named if isinstance(data, bytes)])
    try:
        members: archive.Members | None = archive.Members(path)  # Apple Health's export.xml is read by name
    except FormatError:
        members = None  # the stream below says what is wrong with the file
    health, routes = _health_members(members.names(), members.head) if members else (set(), set())
    results: list[IngestResult] = []
    try:
        for name, data in archive.stream(path, limit):
            if name in health and members is not None:
                results.extend(_health_in_zip(db, owner_id, members, name, client_id, by_recorder))
                continue
            if posixpath.dirname(name) in routes:  # the routes of its workouts: read with them
                results.append(IngestResult("skipped", filename=name, error=f"{name}: {HEALTH_ROUTE}"))
                continue
            if isinstance(data, FormatError):
                results.append(_skipped_or(_failed(name, data)))
                continue
            given = lists.given.get(posixpath.normpath(name))
            known = _known(db, owner_id, lists, posixpath.dirname(name), name, data, given, max_bytes)
            if isinstance(known, list):
                results.extend(known)
                continue
            steps = analyse_upload(known.data, filename=known.filename, sport=sport, max_bytes=max_bytes,
                                   profile_zone=lambda: zone, digest=known.digest, listed=given)
            results.extend(_stored(db, owner_id, steps, client_id, by_recorder, known.relisted))
    finally:
        if members is not None:
            members.close()
    return results


HEALTH_ROUTE = "the route of a workout of Apple Health's export.xml: imported with its workout and its heart rate"


def _head(path: Path) -> bytes:
    try:
        with path.open("rb") as fh:
            return fh.read(4096)
    except OSError:
        return b""


def _is_health_export(name: str, head: Callable[[], bytes]) -> bool:
    """Whether the file of this path, with these first bytes, is Apple Health's export.xml (only a
    file of that name is read for it: its workout-routes/ beside it are its workouts' routes)."""
    return posixpath.basename(name).lower() == "export.xml" and apple_health.is_export(head())


def _health_exports(paths: Sequence[Path]) -> set[str]:
    """The folders (by `_key`) holding Apple Health's export.xml among the files imported."""
    return {_key(p.parent) for p in paths if _is_health_export(p.name, lambda p=p: _head(p))}


def _health_steps(name: str, open_xml: Callable[[], IO[bytes]], route: Callable[[str], bytes | None],
                  held: Callable[[str], int | None] = lambda _digest: None) -> list[Analysed | IngestResult]:
    """The pure half of importing Apple Health's export.xml (`name`): read as a stream from
    `open_xml()` (it may be gigabytes: every sample the phone and the watch kept), each workout
    then analysed as an activity with its route (`route`: the bytes of the file a FileReference
    names, None when there is none) and the samples recorded during it. A workout is one step; its
    original is its <Workout> element as the file holds it, and a workout whose bytes `held` finds
    in the account is a duplicate before its analysis (the export imported again). A file that
    does not read (not well-formed, an entity declared) gives one failure and nothing else."""
    try:
        with open_xml() as fh:
            workouts, samples, sources = apple_health.read(fh, name)
    except OSError as exc:
        return [IngestResult("failed", filename=name, error=f"{name}: {exc.strerror or exc}")]
    except FormatError as exc:
        return [_failed(name, exc)]
    steps: list[Analysed | IngestResult] = []
    for w, a in apple_health.activities(workouts, samples, sources, route, name):
        if isinstance(a, FormatError):
            steps.append(_failed(name, a))
            continue
        where = f"{name} (workout {a.extras['apple_health']['workout']}, {w.attrs.get('startDate')})"
        digest = hashlib.sha256(w.raw).hexdigest()
        if (same := held(digest)) is not None:
            steps.append(IngestResult("duplicate", same, filename=where, format="xml", duplicate_of=same))
            continue
        try:
            # no profile zone: a workout without a position or HKTimeZone keeps the offset its dates
            # carry (the phone's zone, at the date: the athlete's own, daylight saving included)
            products = checked_products(a, None)
        except ActivityError as exc:
            steps.append(_failed(where, exc))
            continue
        steps.append(Analysed(a, products, digest, w.raw, "xml", where))
    return steps


def _route_in(folder: str, ref: str, read: Callable[[str], bytes | None]) -> bytes | None:
    """A route an export.xml in an archive's `folder` names (FileReference "/workout-routes/..."),
    read by its member path; None for a path climbing out of that folder, or no such member."""
    found = posixpath.normpath(posixpath.join(folder, ref.lstrip("/")))
    if found.startswith("..") or (folder and not found.startswith(folder + "/")):
        return None
    try:
        return read(found)
    except FormatError:
        return None


def _health_members(names: Iterable[str], head: Callable[[str], bytes]) -> tuple[set[str], set[str]]:
    """(the members of an archive that are Apple Health's export.xml, the folders of their routes)."""
    found = {n for n in names if _is_health_export(n, lambda n=n: head(n))}
    return found, {posixpath.join(posixpath.dirname(n), "workout-routes") for n in found}


def _health_file(db: Database, owner_id: int, path: Path, client_id: str | None, by_recorder: bool,
                 ) -> list[IngestResult]:
    """Apple Health's export.xml on disk, its routes read from the folder it lies in."""
    root = path.parent.resolve()

    def route(ref: str) -> bytes | None:
        found = (root / ref.lstrip("/")).resolve()
        if not found.is_relative_to(root) or not found.is_file() or found.stat().st_size > archive.MAX_MEMBER_BYTES:
            return None  # a path climbing out of the export, or no such file: the workout has no route
        return found.read_bytes()

    steps = _health_steps(str(path), lambda: path.open("rb"), route, _holding(db, owner_id))
    return _stored(db, owner_id, steps, client_id, by_recorder, None)


def _health_in_zip(db: Database, owner_id: int, members: archive.Members, member: str, client_id: str | None,
                   by_recorder: bool) -> list[IngestResult]:
    """Apple Health's export.xml inside a zip on disk (the Health app's export.zip), streamed out of
    it, its routes read from the zip by the paths it names, under its own folder."""
    folder = posixpath.dirname(member)
    steps = _health_steps(f"{members.name}/{member}", lambda: members.open(member),
                          lambda ref: _route_in(folder, ref, members.read), _holding(db, owner_id))
    return _stored(db, owner_id, steps, client_id, by_recorder, None)


def _holding(db: Database, owner_id: int) -> Callable[[str], int | None]:
    """The activity of the account stored from the bytes of this sha256, if any (`holding_bytes`)."""

    def held(digest: str) -> int | None:
        with db.connect() as conn:
            return repo.holding_bytes(conn, owner_id, digest)

    return held


@dataclass
class _Fresh:
    """A file of an import to analyse: its bytes and name (a .gz file's content, under its name
    without .gz, as an upload's unpack gives them: decompressed once), their sha256 (the analysis
    reuses it), and the run stored from these very bytes before the export's list naming the file
    was imported, when the list changes it (`_known`): the file overwrites that run, the list
    applied."""

    data: bytes
    filename: str
    digest: str
    relisted: int | None = None


def _known(db: Database, owner_id: int, lists: _Lists, folder: str, filename: str, data: bytes,
           given: dict[str, str] | None, max_bytes: int | None) -> list[IngestResult] | _Fresh:
    """A file's results before its analysis (an export's table; [duplicate] for bytes the account
    holds, found before decoding them: a folder imported again costs a hash and a look-up per
    file), or else what its analysis needs (`_Fresh`). `given`: what an export's list says of the
    file. A run still as imported from these bytes without the list (not edited since) takes what
    the list gives; an edited run keeps the runner's edit."""
    table = lists.table(folder, data, filename)
    if table is not None:
        return [_skipped_or(table)]
    name = filename
    if data[:2] == b"\x1f\x8b":  # a .gz file's run is stored under its content's sha256 (analyse_upload)
        try:
            ((name, data),) = archive.unpack(data, filename, max_member_bytes=max_bytes or archive.MAX_MEMBER_BYTES)
        except FormatError:
            return _Fresh(data, filename, hashlib.sha256(data).hexdigest())  # the analysis says what is wrong
    digest = hashlib.sha256(data).hexdigest()
    with db.connect() as conn:
        same = repo.holding_bytes(conn, owner_id, digest)
        stored = repo.as_imported(conn, same, digest) if same is not None and given else None
    if same is None:
        return _Fresh(data, name, digest)
    if given and stored is not None and export_lists.changes(given, stored):
        return _Fresh(data, name, digest, same)
    try:
        fmt: str | None = formats.sniff(data)
    except FormatError:
        fmt = None
    return [IngestResult("duplicate", same, filename=filename, format=fmt, duplicate_of=same)]


def _stored(db: Database, owner_id: int, steps: list[Analysed | IngestResult], client_id: str | None,
            by_recorder: bool, relisted: int | None) -> list[IngestResult]:
    """The results of a file's analysed steps once stored; `relisted` (`_Fresh`): the run the one
    activity of the file overwrites."""
    replace_id = relisted if len(steps) == 1 else None
    return [_skipped_or(_store(db, owner_id, step, client_id, by_recorder, replace_id)) for step in steps]


def _read(path: Path) -> bytes | IngestResult:
    """The file's bytes, or its failed result."""
    try:
        return path.read_bytes()
    except OSError as exc:
        return unreadable(path, exc)


def _take(path: Path, max_bytes: int | None) -> bytes | IngestResult | None:
    """A file of an import, in one open: its bytes; None for a zip (read member by member:
    `_import_zip`) and for Apple Health's export.xml (read as a stream: `_health_file`); its
    result when it cannot be read or is past `max_bytes`, which is not read whole (a lifetime's
    folder may hold a film of gigabytes): its first bytes say what it is."""
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
            if archive.is_zip(head) or apple_health.is_export(head):
                return None
            if max_bytes is not None and (size := os.fstat(fh.fileno()).st_size) > max_bytes:
                return _too_large(str(path), head, size, max_bytes)
            fh.seek(0)
            return fh.read()
    except OSError as exc:
        return unreadable(path, exc)


def unreadable(path: Path, exc: OSError) -> IngestResult:
    """The failure of a file or folder that cannot be read, naming where a link points."""
    link = f"a link to {os.readlink(path)}: " if path.is_symlink() else ""
    return IngestResult("failed", filename=str(path), error=f"{path}: {link}{exc.strerror}")


def _too_large(filename: str, head: bytes, size: int, max_bytes: int) -> IngestResult:
    """The refusal of a file past the size limit, from its first bytes: plainly no activity (a
    video: skipped in a folder import), or too large."""
    try:
        formats.sniff(head)
    except NotAnActivity as exc:
        return _failed(filename, exc)
    except FormatError:
        pass
    return IngestResult("failed", filename=filename, error=f"{filename}: the file is {size} bytes, the limit is "
                        f"{max_bytes}", error_detail={"message": "upload too large", "field": None})


def _skipped_or(result: IngestResult) -> IngestResult:
    """A file of a folder that is plainly not an activity (a photo, an account's list of its
    activities) is skipped, saying what it is, rather than failed."""
    if result.status == "failed" and (result.error_detail or {}).get("not_an_activity"):
        result.status = "skipped"
    return result


def _analyse_path(
    path: Path, sport: str | None, max_bytes: int | None, zone: str | None = None,
    listed: dict[str, str] | None = None,
) -> list[Analysed | IngestResult]:
    """analyse_upload of a file on disk (a worker process's task)."""
    data = _read(path)
    if isinstance(data, IngestResult):
        return [data]
    return analyse_upload(data, filename=str(path), sport=sport, max_bytes=max_bytes, profile_zone=lambda: zone,
                          listed=listed)


@dataclass
class _Lists:
    """The account exports (Strava's, Runkeeper's) among an import's files: what their lists give the recordings
    (titles, descriptions, sports; by path), and the folders the lists lie in, whose other CSV
    files are the account's tables (export_lists.account_table)."""

    given: dict[str, dict[str, str]]
    folders: set[str]

    def table(self, folder: str, data: bytes, filename: str) -> IngestResult | None:
        """The refusal of an export's table lying in `folder` (skipped in a folder import), else None."""
        if folder not in self.folders:
            return None
        refusal = export_lists.account_table(data, filename)
        return None if refusal is None else _failed(filename, refusal)


def _lists_in(members: list[tuple[str, bytes]]) -> _Lists:
    """The export lists among an archive's members, by member path (a gzipped member comes out of
    the archive under its name without .gz)."""
    lists = _lists((posixpath.dirname(name), data) for name, data in members)
    return _Lists({path.removesuffix(".gz"): given for path, given in lists.given.items()}, lists.folders)


def _lists_beside(paths: Sequence[Path]) -> _Lists:
    """The export lists among the files imported, by `_key` (only files of that name are read for it)."""
    named = (path for path in paths if path.name.lower() in export_lists.LIST_NAMES)
    return _lists((_key(path.parent), data) for path in named if isinstance(data := _read(path), bytes))


def _lists(found: Iterable[tuple[str, bytes]]) -> _Lists:
    """Every export list among `found`: (the folder it lies in, its bytes)."""
    lists = _Lists({}, set())
    for folder, data in found:
        if export_lists.is_activity_list(data):
            lists.given.update(export_lists.listed(data, folder))
            lists.folders.add(folder)
    return lists


def _key(path: Path) -> str:
    return posixpath.normpath(path.absolute().as_posix())


def _store(
    db: Database, owner_id: int, step: Analysed | IngestResult, client_id: str | None, by_recorder: bool = False,
    replace_id: int | None = None,
) -> IngestResult:
    if isinstance(step, IngestResult):
        return step
    return store_analysed(
        db,
        owner_id,
        step.activity,
        step.products,
        client_id=client_id,
        original=step.original,
        fmt=step.fmt,
        filename=step.filename,
        content_key=step.content_key,
        replace_id=replace_id,
        by_recorder=by_recorder,
    )


def owner_zone(db: Database, owner_id: int) -> Callable[[], str | None]:
    """The owner's time zone setting, read at most once, and only when an activity needs it."""

    @functools.cache
    def zone() -> str | None:
        with db.connect() as conn:
            row = users.get(conn, owner_id)
        return None if row is None else users.settings_of(row).get("timezone")

    return zone


def checked_products(a: Activity, profile_zone: Callable[[], str | None] | None = None) -> dict[str, Any]:
    """Validate and analyse; the products. ActivityError when the activity cannot be true."""
    a.validate()
    return prepare(a, profile_zone)  # analysis checks the summary it computes (check_summary)


def ingest_activity(
    db: Database,
    owner_id: int,
    a: Activity,
    *,
    client_id: str | None = None,
    original: bytes | None = None,
    fmt: str = "json",
    filename: str | None = None,
    content_key: str | None = None,
    replace_id: int | None = None,
) -> IngestResult:
    """Validate, analyse, dedupe and save one decoded activity in one transaction.

    `replace_id` is an explicit full update (Smashrun PUT): that activity is overwritten.
    """
    try:
        products = checked_products(a, owner_zone(db, owner_id))
    except ActivityError as exc:
        return _failed(filename, exc)
    return store_analysed(
        db,
        owner_id,
        a,
        products,
        client_id=client_id,
        original=original,
        fmt=fmt,
        filename=filename,
        content_key=content_key,
        replace_id=replace_id,
    )


def store_analysed(
    db: Database,
    owner_id: int,
    a: Activity,
    products: dict[str, Any],
    *,
    client_id: str | None = None,
    original: bytes | None = None,
    fmt: str = "json",
    filename: str | None = None,
    content_key: str | None = None,
    replace_id: int | None = None,
    by_recorder: bool = False,
) -> IngestResult:
    """Dedupe and save a validated, analysed activity in one transaction: the store half of
    `ingest_activity`, on its own so bench/store.py can time exactly this part."""
    for attempt in range(2):
        try:
            with db.begin() as conn:
                return _save(
                    conn,
                    owner_id,
                    a,
                    products,
                    client_id=client_id,
                    original=original,
                    fmt=fmt,
                    filename=filename,
                    content_key=content_key,
                    replace_id=replace_id,
                    source=dedupe_source(client_id, a, fmt, by_recorder, filename),
                    file_import=by_recorder,
                )
        except IntegrityError:
            # A concurrent upload of the same run won the race; the second pass finds it.
            if attempt:
                raise
    raise AssertionError("unreachable")


def _save(
    conn: Connection,
    owner_id: int,
    a: Activity,
    products: dict[str, Any],
    *,
    client_id: str | None,
    original: bytes | None,
    fmt: str,
    filename: str | None,
    content_key: str | None,
    replace_id: int | None,
    source: str,
    file_import: bool = False,
) -> IngestResult:
    if replace_id is not None:
        return _overwrite(
            conn, replace_id, a, products, owner_id, original, fmt, filename, content_key, owner_known=False
        )
    found = repo.find_existing(
        conn,
        owner_id,
        source,
        content_hash=content_key,
        external_id=a.external_id,
        start=a.start,
        window=timedelta(seconds=MATCH_START_SECONDS),
    )
    if content_key is not None and found.by_content is not None:
        same_id = found.by_content.id
        return IngestResult("duplicate", same_id, filename=filename, format=fmt, duplicate_of=same_id)
    candidates = [row for row in found.candidates if matches(a, row)]
    same_id = _exported_from(conn, owner_id, a, candidates, file_import, source)
    if same_id is None and file_import and _names_no_recorder(a):
        same_id = copy_of(conn, owner_id, a, fmt, source)
    if same_id is not None:  # runhub's export of a run the account holds (its externalId too)
        return IngestResult("duplicate", same_id, filename=filename, format=fmt, duplicate_of=same_id)
    if a.external_id is not None and found.by_external_id is not None:
        return _overwrite(conn, found.by_external_id.id, a, products, owner_id, original, fmt, filename, content_key)
    mine = [row for row in candidates if row.client_key == source]
    if mine and a.extras.get("import_warning"):
        # a file read only up to its break never replaces the run (a complete copy, or an earlier
        # partial one): the run stays as it was
        return IngestResult("duplicate", mine[0].id, filename=filename, format=fmt, duplicate_of=mine[0].id)
    if mine:
        return _overwrite(conn, mine[0].id, a, products, owner_id, original, fmt, filename, content_key)
    dupe_of = candidates[0].id if candidates else None
    activity_id = repo.insert_activity(
        conn, a, owner_id=owner_id, client_id=client_id, content_hash=content_key, possible_duplicate_of=dupe_of,
        client_key=source,
    )
    _store_extras(conn, activity_id, a, products, owner_id, original, fmt, filename)
    a.client_id = client_id
    return IngestResult("created", activity_id, filename=filename, format=fmt, duplicate_of=dupe_of)


def _exported_from(
    conn: Connection, owner_id: int, a: Activity, candidates: list[Row[Any]], file_import: bool, source: str
) -> int | None:
    """The run of this account this file is runhub's export of. A file that says runhub wrote it
    (FIT, TCX, GPX: formats.WRITER) names the activity (formats.EXPORT_OF), a Smashrun JSON in a
    file import by its activityId (an app posting runhub's JSON back is updating its run): that
    one, where the account holds it at the file's time, or the run imported from another export of
    it (its `source`). The file's start may lie past the run's (a GPX begins at its first position)
    and its totals differ (TCX has no pool swim): the name decides, not `matches`. Any matching run
    for an export from before runhub named the activity. None in another account: the exports of
    two recordings of one run (the watch's, Strava's) are two runs there, as in the account they
    came from."""
    written = a.extras.get("written_by") == formats.WRITER
    if written and a.extras.get(formats.EXPORT_OF) is None:
        return int(candidates[0].id) if candidates else None
    origin = _export_of(a) if written or file_import else None
    if origin is None:
        return None
    # a file import's source names the export's run (dedupe_source); an app's is the app's own runs
    imported = repo.rows_of_source(conn, owner_id, source) if source.endswith(_export_key(origin)) else []
    for row in (repo.get_row(conn, origin, owner_id), *imported):
        if row is None:
            continue
        end = row.start_utc + timedelta(seconds=max(row.elapsed_time or 0.0, 0.0) + MATCH_START_SECONDS)
        if row.start_utc - timedelta(seconds=MATCH_START_SECONDS) <= a.start <= end:
            return int(row.id)
    return None


def copy_of(conn: Connection, owner_id: int, a: Activity, fmt: str, source: str) -> int | None:
    """The run of this account whose samples `a` holds exactly, as runhub's export in `fmt` writes
    them (its timer made explicit): runhub's CSV export of it, restored. CSV cannot say who wrote
    it, but its round trip is exact, and no other recording of a run has the same samples to the
    bit. Its first line is the run's first sample, which may lie well past the run's start (a pool
    swim's, 44 s): runs starting up to COPY_LOOKBACK before it are read. A run stored from this
    file's own source is left to the rule of names (the CSV edited under its name overwrites it)."""
    if a.n_samples == 0:
        return None
    for row in repo.runs_before(conn, owner_id, a.start + timedelta(seconds=MATCH_START_SECONDS), a.n_samples,
                                COPY_LOOKBACK):
        if row.client_key == source:
            continue
        run = repo.load_activity(conn, row.id, owner_id)
        if run is not None:
            make_timer_explicit(run, fmt)
            if same_samples(a, run):
                return int(row.id)
    return None


def same_samples(a: Activity, run: Activity) -> bool:
    """Whether every channel of `a` is, sample for sample, that of `run`: its clock to the
    microsecond (CSV's resolution), every value to the bit (NaN as NaN)."""
    t = run.channels.get("time")
    if t is None or len(t) != a.n_samples or not set(a.channels) <= set(run.channels):
        return False
    shift = (a.start - run.start).total_seconds()
    if not np.allclose(a.channels["time"] + shift, t, rtol=0.0, atol=1e-6):
        return False
    return all(np.array_equal(np.asarray(v, dtype=np.float64), np.asarray(run.channels[k], dtype=np.float64),
                              equal_nan=True) for k, v in a.channels.items() if k != "time")


def _overwrite(
    conn: Connection,
    activity_id: int,
    a: Activity,
    products: dict[str, Any],
    owner_id: int,
    original: bytes | None,
    fmt: str,
    filename: str | None,
    content_key: str | None,
    *,
    owner_known: bool = True,
) -> IngestResult:
    """Overwrite `activity_id`; `owner_known`: it was found among `owner_id`'s own activities
    (an explicit replace_id is the caller's, so its stored owner is read as before). The run is
    the upload's now, edits and all: none of its fields is an edit (runhub.reanalyse reads it so)."""
    a.extras[EDITED] = []
    repo.replace_activity(
        conn, activity_id, a, content_hash=content_key, owner_id=owner_id if owner_known else None
    )
    _store_extras(conn, activity_id, a, products, owner_id, original, fmt, filename)
    return IngestResult("updated", activity_id, filename=filename, format=fmt)


def _store_extras(
    conn: Connection,
    activity_id: int,
    a: Activity,
    products: dict[str, Any],
    owner_id: int,
    original: bytes | None,
    fmt: str,
    filename: str | None,
) -> None:
    a.id = activity_id
    a.owner_id = owner_id
    if original is not None:
        repo.save_original(conn, activity_id, original, fmt, filename)
    repo.save_products(conn, activity_id, a, owner_id, products)


def _failed(filename: str | None, exc: FormatError | ActivityError) -> IngestResult:
    if isinstance(exc, FormatError) and exc.file is None:
        exc.file = filename
    return IngestResult("failed", filename=filename, error=str(exc), error_detail=exc.to_dict())
