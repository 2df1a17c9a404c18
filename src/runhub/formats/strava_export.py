"""Strava's account export: what its activities.csv says of each recording.

The export (a zip, or the folder it unpacks to) holds the recordings in activities/ as the athlete
uploaded them (FIT, TCX, GPX, often gzipped) and, at its root, activities.csv: a line per activity
whose Filename column names its recording relative to the export's root. The recordings do not
carry what the athlete wrote on Strava (a FIT file has no title at all), the list does: its
Activity Name and Activity Description. A runner moving a lifetime over expects to find the runs
under the titles they gave them, so an import that brings the list with the files applies them.
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

from runhub.formats import FormatError, NotAnActivity, sniff
from runhub.formats.csv import STRAVA_ACTIVITY_LIST

LIST_NAME = "activities.csv"
_BOM = b"\xef\xbb\xbf"
# column -> Activity attribute: the title, and the description (runhub's notes)
_COLUMNS = {"Activity Name": "name", "Activity Description": "notes"}


def is_activity_list(data: bytes) -> bool:
    """Whether `data` is an export's activities.csv (by its header, whatever the file is called)."""
    return data.removeprefix(_BOM).startswith(STRAVA_ACTIVITY_LIST.encode())


def titles(data: bytes, root: str = "") -> dict[str, dict[str, str]]:
    """The recording's path (`root` joined with its Filename, normalised, '/' separated) -> the
    attributes the list gives it ({"name": ..., "notes": ...}, empty values left out). Lines
    without a Filename (activities entered by hand) give nothing, and so does a list that is not
    UTF-8 CSV: the list only adds to the recordings, so a fault in it never stops their import."""
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
            if given:
                out[posixpath.normpath(posixpath.join(root, row[at_file].strip()))] = given
        return out
    except (UnicodeDecodeError, csv.Error):
        return {}


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
