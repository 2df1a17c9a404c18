"""Strava's account export: what its activities.csv says of each recording.

The export (a zip, or the folder it unpacks to) holds the recordings in activities/ as the athlete
uploaded them (FIT, TCX, GPX, often gzipped) and, at its root, activities.csv: a line per activity
whose Filename column names its recording relative to the export's root. The recordings do not
carry what the athlete wrote on Strava (a FIT file has no title at all), the list does: its
Activity Name and Activity Description, and the Activity Type as the athlete last set it. A runner
moving a lifetime over expects to find the runs under the titles they gave them, so an import that
brings the list with the files applies them (`apply`).
The list is read with the csv module, as Strava writes it (quoted fields with commas and line
breaks, repeated column names: the first of a name is the one used here).

Beside the list, at the export's root, lie some forty other CSV tables of the account (bikes,
shoes, profile, comments, kudos, ...): none is a recording, so an import that finds them next to
the list passes them by (`account_table`) instead of failing each as a CSV layout it cannot read.
"""

from __future__ import annotations

import csv
import io
import posixpath
import re

from runhub import sports
from runhub.activity import NOTES_MAX, Activity, set_notes
from runhub.formats import FormatError, NotAnActivity, sniff
from runhub.formats.csv import STRAVA_ACTIVITY_LIST

LIST_NAME = "activities.csv"
_BOM = b"\xef\xbb\xbf"
# column -> Activity attribute: the title, the description (runhub's notes), the sport
_COLUMNS = {"Activity Name": "name", "Activity Description": "notes", "Activity Type": "sport"}


def is_activity_list(data: bytes) -> bool:
    """Whether `data` is an export's activities.csv (by its header, whatever the file is called)."""
    return data.removeprefix(_BOM).startswith(STRAVA_ACTIVITY_LIST.encode())


def listed(data: bytes, root: str = "") -> dict[str, dict[str, str]]:
    """The recording's path (`root` joined with its Filename, normalised, '/' separated) -> the
    attributes the list gives it ({"name": ..., "notes": ..., "sport": runhub's code}, empty or
    unknown values left out). Lines without a Filename (activities entered by hand) give nothing,
    and so does a list that is not UTF-8 CSV: the list only adds to the recordings, so a fault in
    it never stops their import."""
    try:
        rows = csv.reader(io.StringIO(data.removeprefix(_BOM).decode("utf-8")))
        header = next(rows, [])
        where = {attr: header.index(col) for col, attr in _COLUMNS.items() if col in header}
        at_file = header.index("Filename") if "Filename" in header else None
        if at_file is None:
            return {}
        out: dict[str, dict[str, str]] = {}
        for row in rows:
            if at_file >= len(row) or not row[at_file].strip():
                continue
            given = {attr: row[k].strip() for attr, k in where.items() if k < len(row) and row[k].strip()}
            sport = _sport(given.pop("sport", ""))
            if sport is not None:
                given["sport"] = sport
            if given:
                out[posixpath.normpath(posixpath.join(root, row[at_file].strip()))] = given
        return out
    except (UnicodeDecodeError, csv.Error):
        return {}


def _sport(activity_type: str) -> str | None:
    """runhub's code for the list's Activity Type, which is Strava's sport type as the site shows
    it ("Trail Run", "Virtual Ride", "E-Bike Ride"); None for what says no sport runhub knows (a
    "Workout", a "Yoga", a type in another language's export)."""
    try:
        code = sports.from_strava(re.sub(r"[\s-]", "", activity_type))
    except sports.UnknownSport:
        return None
    return None if code in (sports.DEFAULT.code, "multisport") else code


def apply(a: Activity, given: dict[str, str], alone: bool) -> None:
    """Give `a` what the list says of its recording. The title and the description are the
    athlete's own words, so they win. The sport wins where the file says none, or another one
    (the athlete set it right on Strava: a hike the watch recorded as a run), or only the family
    ("running" for the list's "Trail Run"); a file's finer sport of the same family stays
    ("running.treadmill" for the list's "Run"). `alone`: the file holds this one activity (the
    list's one sport is not every part of a multisport file)."""
    for key, value in given.items():
        if key == "notes":
            set_notes(a, value)
        elif key == "sport":
            a.sport = _sport_after(a.sport, value, alone)
        else:
            setattr(a, key, value)


def changes(given: dict[str, str], name: str | None, notes: str | None, sport: str) -> bool:
    """Whether `apply` would change a run of one activity stored with this name, notes and sport
    (a recording imported before its list was)."""
    return (given.get("name", name) != name
            or ("notes" in given and given["notes"][:NOTES_MAX] != notes)
            or _sport_after(sport, given.get("sport", sport), True) != sport)


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
        "this is one of the tables of a Strava account export (bikes, shoes, profile, comments, ...), which "
        "lie beside its activities.csv; it holds no recording: the export's runs are the files of its "
        "activities/ folder",
        format="csv",
        file=filename,
    )
