"""An account export's list of its activities: what it says of each recording.

Two apps export a lifetime as its recordings plus one CSV line per activity naming its file:
* Strava: a zip (or the folder it unpacks to) with the recordings in activities/ as the athlete
  uploaded them (FIT, TCX, GPX, often gzipped) and, at its root, activities.csv, whose Filename
  column names each recording relative to the export's root; its Activity Name, Activity
  Description and Activity Type (as the athlete last set it) are what the athlete wrote on Strava,
  and so are Commute, Activity Private Note and Activity Gear (the bike or shoes the athlete
  chose), kept with the Strava activity's id in the run's `app_metadata["strava"]`: runhub has no
  gear of its own, and a private note is not the description every app reads.
* Runkeeper (now ASICS Runkeeper): a zip of one GPX file per activity and cardioActivities.csv,
  whose GPX File column names them; its Type and Notes (and a Route Name, when one was chosen).
The recordings do not carry these (a FIT file has no title at all; Runkeeper's GPX says no
sport), the list does. A runner moving a lifetime over expects to find the runs under the titles,
notes and sports they gave them, so an import that brings the list with the files applies them
(`apply`). A list is read with the csv module, as the apps write it (quoted fields with commas and
line breaks, repeated column names: the first of a name is the one used here).

Beside a list lie the account's other CSV tables (Strava's bikes, shoes, profile, comments...,
some forty; Runkeeper's measurements...): none is a recording, so an import that finds them next
to a list passes them by (`account_table`) instead of failing each as a CSV layout it cannot read.
"""

from __future__ import annotations

import csv
import io
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from runhub import sports
from runhub.activity import Activity, set_name, set_notes
from runhub.formats import FormatError, NotAnActivity, sniff

_BOM = b"\xef\xbb\xbf"


def _strava_sport(activity_type: str) -> str | None:
    """Strava's sport type as the site shows it ("Trail Run", "Virtual Ride", "E-Bike Ride")."""
    try:
        return sports.from_strava(re.sub(r"[\s-]", "", activity_type))
    except sports.UnknownSport:
        return None


def _named_sport(activity_type: str) -> str | None:
    """A sport by its plain English name (Runkeeper's "Running", "Cross-Country Skiing")."""
    try:
        return sports.from_name(activity_type)
    except sports.UnknownSport:
        return None


@dataclass(frozen=True)
class Layout:
    """One app's list: its file name, how its header starts, the column naming each recording,
    column -> Activity attribute (title, notes, sport), the sport of a type, and what the CSV
    decoder says of the list itself."""

    app: str
    file_name: str
    header: str
    file_column: str
    columns: dict[str, str]
    sport: Callable[[str], str | None]
    recordings: str


LAYOUTS = (
    Layout("Strava", "activities.csv", "Activity ID,Activity Date,Activity Name,Activity Type", "Filename",
           {"Activity Name": "name", "Activity Description": "notes", "Activity Type": "sport", "Commute": "commute",
            "Activity ID": "strava.activity_id", "Activity Private Note": "strava.private_note",
            "Activity Gear": "strava.gear"}, _strava_sport, "the files of the export's activities/ folder"),
    Layout("Runkeeper", "cardioactivities.csv", "Activity Id,Date,Type,Route Name", "GPX File",
           {"Route Name": "name", "Notes": "notes", "Type": "sport"}, _named_sport, "the GPX files beside it"),
)
LIST_NAMES = frozenset(lay.file_name for lay in LAYOUTS)  # lower case


def layout(data: bytes) -> Layout | None:
    """The app whose list of activities `data` is (by its header, whatever the file is called)."""
    text = data.removeprefix(_BOM)
    return next((lay for lay in LAYOUTS if text.startswith(lay.header.encode())), None)


def is_activity_list(data: bytes) -> bool:
    return layout(data) is not None


def listed(data: bytes, root: str = "") -> dict[str, dict[str, str]]:
    """The recording's path (`root` joined with its file column, normalised, '/' separated) -> the
    attributes the list gives it ({"name": ..., "notes": ..., "sport": runhub's code, "commute":
    "true" or "false", "app.field": a value kept in app_metadata[app]}, empty or unknown values
    left out). Lines without a file (activities entered by hand) give nothing,
    and so does a list that is not UTF-8 CSV: the list only adds to the recordings, so a fault in
    it never stops their import."""
    lay = layout(data)
    if lay is None:
        return {}
    try:
        rows = csv.reader(io.StringIO(data.removeprefix(_BOM).decode("utf-8")))
        header = next(rows, [])
        where = {attr: header.index(col) for col, attr in lay.columns.items() if col in header}
        at_file = header.index(lay.file_column) if lay.file_column in header else None
        if at_file is None:
            return {}
        out: dict[str, dict[str, str]] = {}
        for row in rows:
            if at_file >= len(row) or not row[at_file].strip():
                continue
            given = {attr: row[k].strip() for attr, k in where.items() if k < len(row) and row[k].strip()}
            sport = _sport(lay, given.pop("sport", ""))
            if sport is not None:
                given["sport"] = sport
            commute = _COMMUTE.get(given.pop("commute", "").lower())
            if commute is not None:
                given["commute"] = commute
            if given:
                out[posixpath.normpath(posixpath.join(root, row[at_file].strip()))] = given
        return out
    except (UnicodeDecodeError, csv.Error):
        return {}


# Strava's Commute column: "true"/"false" in today's exports; 1/0 in the raw-number columns
_COMMUTE = {"true": "true", "1": "true", "1.0": "true", "false": "false", "0": "false", "0.0": "false"}


def _sport(lay: Layout, activity_type: str) -> str | None:
    """runhub's code for the list's type of an activity; None for what says no sport runhub knows
    (a "Workout", a "Yoga", a type in another language's export)."""
    code = lay.sport(activity_type) if activity_type else None
    return None if code in (sports.DEFAULT.code, "multisport") else code


def apply(a: Activity | AsListed, given: dict[str, str], alone: bool) -> None:
    """Give `a` what the list says of its recording. The title and the description are the
    athlete's own words, so they win. The sport wins where the file says none, or another one
    (the athlete set it right in the app: a hike the watch recorded as a run), or only the family
    ("running" for the list's "Trail Run"); a file's finer sport of the same family stays
    ("running.treadmill" for the list's "Run"). `alone`: the file holds this one activity (the
    list's one sport is not every part of a multisport file)."""
    for key, value in given.items():
        if key == "notes":
            set_notes(a, value)  # type: ignore[arg-type]  # AsListed has what it sets
        elif key == "name":
            set_name(a, value)  # type: ignore[arg-type]
        elif key == "sport":
            a.sport = _sport_after(a.sport, value, alone)
        elif key == "commute":
            a.commute = value == "true"
        else:
            app, _, name = key.partition(".")
            a.app_metadata[app] = {**a.app_metadata.get(app, {}), name: value}


@dataclass
class AsListed:
    """What the list sets of a run of one activity, as stored (`changes`)."""

    name: str | None
    notes: str | None
    sport: str
    commute: bool
    app_metadata: dict[str, Any]
    extras: dict[str, Any] = field(default_factory=dict)


def changes(given: dict[str, str], stored: AsListed) -> bool:
    """Whether `apply` would change a run of one activity stored as `stored` (a recording
    imported before its list was)."""
    after = replace(stored, app_metadata=dict(stored.app_metadata), extras={})
    apply(after, given, alone=True)
    return (after.name, after.notes, after.sport, after.commute, after.app_metadata) != (
        stored.name, stored.notes, stored.sport, stored.commute, stored.app_metadata)


def _sport_after(sport: str, listed_sport: str, alone: bool) -> str:
    """The sport of a recording of `sport` once the list says `listed_sport` (`apply` says when)."""
    if alone and (sport.split(".")[0] != listed_sport.split(".")[0] or "." not in sport):
        return listed_sport
    return sport


def account_table(data: bytes, filename: str | None) -> NotAnActivity | None:
    """What to say of a file lying beside an export's list (the caller knows where it lies): one of
    the account's CSV tables (any CSV but the list itself) is not an activity; None for anything
    else, which is imported as usual (a FIT file put there, say)."""
    if is_activity_list(data):
        return None  # the list: the CSV decoder says what it is for
    try:
        if sniff(data) != "csv":
            return None
    except FormatError:
        return None
    return NotAnActivity(
        "this is one of the tables of an account export, which lie beside its list of activities (Strava's "
        "bikes, shoes, profile, comments, ... beside activities.csv; Runkeeper's beside cardioActivities.csv); it "
        "holds no recording: the export's runs are its FIT, TCX and GPX files",
        format="csv",
        file=filename,
    )
