"""Bring stored runs up to today's readers and analysis (`runhub reanalyse`).

runhub keeps every upload byte for byte, so a run imported from a file is read again from it by
today's decoder (a fix to a reader reaches the runs imported before it: a GPS jump now left out of
a GPX's distance, a no-fix marker, a sport name); a run without its file (posted as JSON by an app,
the demo's runs) is analysed again from its stored channels. Each run is rewritten in its own
transaction, under the same id; its file stays as it was.

What the athlete or an app said of a run stays: its title, notes, tags and flags, and its sport
(unless it had none, "generic", and the file now names one). So does whatever was edited after the
import: a field changed through the Smashrun API's PATCH (its start, distance, duration, notes:
`extras["edited"]`, recorded since this command exists; a run a newer upload replaced records
none) keeps its value. A run changed after its import before edits were recorded (its row's
updated_at is later than its created_at, and it says neither which fields nor that it was
reanalysed) keeps all four: it may have been edited.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import Row, select

from runhub import formats, sports
from runhub.activity import EDITED, NAME_FULL, NOTES_FULL, REANALYSED, Activity, ActivityError
from runhub.analysis import facts
from runhub.formats import FormatError
from runhub.ingest import checked_products, dedupe_key, owner_zone
from runhub.store import Database
from runhub.store import activities as repo
from runhub.store.tables import activities, activity_originals

# what the athlete or the sending app said of a run, never the file's reading: kept as stored
KEPT = ("name", "notes", "how_felt", "terrain", "weather_type", "humidity", "wind_speed", "body_weight", "songs",
        "tags", "private", "commute", "trainer", "manual", "is_race", "app_metadata")
KEPT_EXTRAS = (NAME_FULL, NOTES_FULL)
# the Smashrun PATCH's fields (api.smashrun.PATCHABLE) -> what each one set
EDITABLE = ("startDateTimeLocal", "distance", "duration", "notes")
# the figures a report compares, before and after
FIGURES = ("distance", "timer_time", "elapsed_time", "moving_time", "elevation_gain", "max_speed")


@dataclass
class Outcome:
    activity_id: int
    status: Literal["changed", "unchanged", "failed"]
    source: Literal["file", "stored channels"]
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # figure -> (before, after)
    kept: list[str] = field(default_factory=list)  # edited fields kept as they were
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"activity_id": self.activity_id, "status": self.status, "source": self.source,
                "changes": {k: list(v) for k, v in self.changes.items()}, "kept": self.kept, "error": self.error}


def runs(db: Database, owner_id: int | None = None) -> list[Row[Any]]:
    """The runs `reanalyse` goes through (of `owner_id`, None: of every account), in id order:
    each one's id, owner, sport, content key and whether its file is kept."""
    with db.connect() as conn:
        q = (select(activities.c.id, activities.c.owner_id, activities.c.sport, activities.c.content_hash,
                    activity_originals.c.activity_id.is_not(None).label("has_file"))
             .outerjoin(activity_originals, activity_originals.c.activity_id == activities.c.id)
             .where(activities.c.deleted_at.is_(None)).order_by(activities.c.id))
        if owner_id is not None:
            q = q.where(activities.c.owner_id == owner_id)
        return list(conn.execute(q).all())


def reanalyse(db: Database, owner_id: int | None = None, *, dry_run: bool = False,
              rows: list[Row[Any]] | None = None) -> Iterator[Outcome]:
    """Reanalyse every run of `owner_id` (None: of every account; `rows`: those `runs` listed),
    in id order, yielding each run's outcome as it is stored (`dry_run`: computed, nothing
    written). The runs of a file that holds several (a multisport FIT) are read from it together,
    when its first run comes."""
    if rows is None:
        rows = runs(db, owner_id)
    by_key = {(r.owner_id, r.content_hash): r.id for r in rows if r.content_hash is not None}
    done: set[int] = set()
    zones: dict[int, Callable[[], str | None]] = {}
    for r in rows:
        if r.id in done:
            continue
        zone = zones.setdefault(r.owner_id, owner_zone(db, r.owner_id))
        read = _from_file(db, r, by_key) if r.has_file else None
        for activity_id, fresh in read if read is not None else [(r.id, None)]:
            done.add(activity_id)
            yield _one(db, activity_id, fresh, zone, dry_run)


def _from_file(db: Database, r: Row[Any], by_key: dict[tuple[int, str], int]
               ) -> list[tuple[int, Activity | FormatError]] | None:
    """The runs a stored file holds, each as today's decoder reads it (or why it cannot), by the
    key each one was stored under; None when the file is not the one the run was stored from (an
    app's JSON stored beside a run it named otherwise): the run is analysed from its channels."""
    with db.connect() as conn:
        data, fmt, filename = repo.load_original(conn, r.id) or (b"", "", None)
    digest = hashlib.sha256(data).hexdigest()
    try:
        options = {"sport": r.sport} if fmt == "csv" else {}  # a CSV says no sport: the one it was stored with
        decoded = formats.decode(data, fmt, filename=filename, **options)
    except (FormatError, ActivityError, ValueError, KeyError, IndexError, TypeError, OverflowError) as exc:
        if r.content_hash not in (digest, dedupe_key(digest, 0, 2)):  # a run of it, alone or the first of several
            return None
        err = exc if isinstance(exc, FormatError) else FormatError(f"{type(exc).__name__}: {exc}", format=fmt)
        return [(r.id, err)]
    n = len(decoded)
    if r.content_hash != dedupe_key(digest, 0, n):
        return None
    found = []
    for k, a in enumerate(decoded):
        activity_id = r.id if k == 0 else by_key.get((r.owner_id, dedupe_key(digest, k, n)))
        if activity_id is not None:
            found.append((activity_id, a))
    return found


def _one(db: Database, activity_id: int, fresh: Activity | FormatError | None,
         zone: Callable[[], str | None], dry_run: bool) -> Outcome:
    source: Literal["file", "stored channels"] = "stored channels" if fresh is None else "file"
    if isinstance(fresh, FormatError):
        return Outcome(activity_id, "failed", source, error=f"the stored file no longer reads: {fresh}; the run "
                       "stays as it was")
    with db.connect() as conn:
        row = repo.get_row(conn, activity_id)
        if row is None:  # deleted meanwhile
            return Outcome(activity_id, "unchanged", source)
        channels, series = repo.load_streams(conn, activity_id)
    old = repo.row_to_activity(row, channels, series)
    a = fresh if fresh is not None else repo.row_to_activity(
        row, {k: v.copy() for k, v in channels.items()}, {k: v.copy() for k, v in series.items()})
    _keep_said(a, old)
    try:
        products = checked_products(a, zone)
    except ActivityError as exc:
        return Outcome(activity_id, "failed", source, error=f"{exc}; the run stays as it was")
    kept = _keep_edited(a, old, row)
    if kept:  # the facts longitudinal stats read are the edited run's (as after the edit itself)
        products["facts"] = facts(a, a.summary)
    changes = {name: (getattr(old.summary, name), getattr(a.summary, name)) for name in FIGURES
               if not _same(getattr(old.summary, name), getattr(a.summary, name))}
    changed = bool(changes) or not _same_run(a, old)
    if dry_run:
        return Outcome(activity_id, "changed" if changed else "unchanged", source, changes, kept)
    now = datetime.now(UTC)
    if changed:
        a.extras[REANALYSED] = now.isoformat()
    with db.begin() as conn:
        written = repo.rewrite_analysis(conn, activity_id, a, products, row.owner_id, row.updated_at,
                                        now if changed else None)
    if not written:
        return Outcome(activity_id, "failed", source, error="the run changed while it was reanalysed (an edit or "
                       "an upload): it stays as it is now; run reanalyse again")
    return Outcome(activity_id, "changed" if changed else "unchanged", source, changes, kept)


def _keep_said(a: Activity, old: Activity) -> None:
    """What the athlete or the app said of the run (KEPT, its sport), over the file's reading."""
    for name in KEPT:
        setattr(a, name, getattr(old, name))
    for key in KEPT_EXTRAS:
        a.extras.pop(key, None)
        if key in old.extras:
            a.extras[key] = old.extras[key]
    if old.sport != sports.DEFAULT.code or a.sport == sports.DEFAULT.code:
        a.sport = old.sport
    for key in (EDITED, REANALYSED):
        if key in old.extras:
            a.extras[key] = old.extras[key]


def _keep_edited(a: Activity, old: Activity, row: Row[Any]) -> list[str]:
    """Put back what was edited after the import (see the module docstring); the fields kept."""
    edited = old.extras.get(EDITED)
    if edited is None:
        untouched = repo.untouched_since_import(row.updated_at, row.created_at, old.extras)
        edited = [] if untouched else list(EDITABLE)
    for name in edited:
        if name == "startDateTimeLocal":
            a.start, a.utc_offset = old.start, old.utc_offset
        elif name == "distance":
            a.summary.distance = old.summary.distance
        elif name == "duration":
            a.summary.timer_time = old.summary.timer_time
    return [name for name in EDITABLE if name in edited]


def _same(x: Any, y: Any) -> bool:
    if isinstance(x, float) and isinstance(y, float):
        return x == y or (x != x and y != y)
    return bool(x == y)


def _same_run(a: Activity, old: Activity) -> bool:
    """Whether the row and the streams would be written as they are, but for the time of the
    last reanalysis (the products are rewritten either way: derived, they change no run)."""
    mine, theirs = repo.stored_form(a), repo.stored_form(old)
    for form in (mine, theirs):
        form["meta"]["extras"].pop(REANALYSED, None)
    return mine == theirs
