"""CSV: SweatStack's layout (decode and encode, bit-exact both ways) and vendor layouts (decode).

SweatStack's layout: a header line, a `timestamp` column of ISO 8601 datetimes that carry a UTC
offset (naive ones are refused with their line number: a local time without a zone is ambiguous),
an optional `sport` column (else the `sport` parameter), and one column per metric under
SweatStack's metric names in SI units. Floats are written with repr(), which Python reads back to
the same float64, so decode(encode(a)) == a exactly.

The header line decides the layout: vendor_csv.py reads FIT record tables, OpenTracks exports and
the Wahoo Fitness app's CSV. Other vendor exports (PowerTap, iBike, ergomo, Joule, PeriPedal,
FitCSVTool, GPS loggers) have no absolute start, a local time with no zone, or columns whose units
the file does not say; they are refused with a message naming the layouts runhub reads.
"""

from __future__ import annotations

import csv as _csv
import io
import math
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import numpy as np

from runhub import sports
from runhub.activity import CHANNEL_UNITS, Activity
from runhub.formats import FormatError, NotAnActivity, export_lists, register, vendor_csv
from runhub.formats._common import (
    check_start,
    csv_fault,
    mask_impossible,
    micros_since_start,
    quarantine_backward_distance,
)

MEDIA_TYPE = "text/csv"
# SweatStack metric names (sweatstack-activities-api); runhub's internal names are the same.
METRICS = ("power", "speed", "heart_rate", "cadence", "altitude", "distance", "latitude", "longitude",
           "temperature", "smo2", "core_temperature", "form_power", "gps_accuracy", "satellites",
           "respiration_rate", "timer")
LAYOUT_HELP = ("runhub reads CSV in these layouts: SweatStack's (a header line with a 'timestamp' column of ISO "
               "8601 datetimes carrying a UTC offset, 2024-05-01T07:30:00+02:00, a sport parameter or 'sport' "
               f"column, and metric columns named {', '.join(METRICS[:11])}, ... in SI units); "
               f"{vendor_csv.describe()}")
VENDOR_SIGNS = {
    "iBike": "an iBike export",
    "Minutes,Torq": "a PowerTap export",
    "ZEIT,": "an ergomo export",
    "Version,Date/Time": "a CycleOps Joule export",
    "mm-dd,": "a PeriPedal export",
    "Type,Local Number,Message": "a FitCSVTool dump of a FIT file (upload the FIT file itself)",
    "INDEX,TAG,DATE,TIME": "a Columbus GPS logger export",
}


def _err(message: str, filename: str | None, location: str | None = None, fld: str | None = None) -> FormatError:
    return FormatError(message, format="csv", file=filename, location=location, field=fld)


def _vendor_refusal(first_line: str, filename: str | None) -> FormatError | None:
    """The refusal of a vendor layout runhub does not read, named by its first line."""
    for sign, what in VENDOR_SIGNS.items():
        if first_line.startswith(sign):
            return _err(f"this looks like {what}, whose columns runhub cannot read unambiguously. {LAYOUT_HELP}",
                        filename, "line 1")
    return None


def _text(data: bytes, filename: str | None) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # the vendor layouts written in Latin-1 (ergomo's HÖHE, Joule's °C) are named by their
        # first line, whose signature is ASCII, rather than refused as text of another encoding
        named = _vendor_refusal(data[:200].decode("latin-1").strip(), filename)
        if named is not None:
            raise named from exc
        raise _err(f"not UTF-8 text (byte {exc.start}). {LAYOUT_HELP}", filename, f"byte {exc.start}") from exc


def parse_timestamp(value: str, line: int, filename: str | None) -> datetime:
    try:
        d = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise _err(f"timestamp {value[:40]!r} is not an ISO 8601 datetime", filename, f"line {line}",
                   "timestamp") from exc
    if d.tzinfo is None:
        raise _err(f"timestamp {value[:40]!r} has no UTC offset (add Z or +hh:mm)", filename, f"line {line}",
                   "timestamp")
    offset = d.utcoffset()
    if offset is not None and offset.total_seconds() % 60:
        # Python reads +hh:mm:ss, ISO 8601 has no such offset, and no other format runhub writes
        # (Smashrun JSON's startDateTimeLocal) can carry it
        raise _err(f"timestamp {value[:40]!r} has a UTC offset with seconds; ISO 8601 offsets are +hh:mm",
                   filename, f"line {line}", "timestamp")
    return d


def _sport_code(name: str, filename: str | None) -> str:
    try:
        return sports.from_name(name)
    except sports.UnknownSport as exc:
        raise _err(str(exc), filename, None, "sport") from exc


def decode(data: bytes, *, filename: str | None = None, sport: str | None = None,
           **_options: Any) -> list[Activity]:
    try:
        return _decode(data, filename, sport)
    except _csv.Error as exc:  # e.g. a bare carriage return inside an unquoted field
        said, where = csv_fault(exc, _text(data, filename))
        raise _err(f"{said}. {LAYOUT_HELP}", filename, where) from exc


def _decode(data: bytes, filename: str | None, sport: str | None) -> list[Activity]:
    text = _text(data, filename)
    first_line = text.split("\n", 1)[0].strip()
    try:
        head = list(_csv.reader(io.StringIO("\n".join(text.split("\n", 2)[:2]))))
    except _csv.Error:
        head = []  # the SweatStack reader below names the fault
    kind = vendor_csv.layout(head[0], head[1] if len(head) > 1 else None) if head else None
    if kind is not None:
        return vendor_csv.decode(kind, text, filename, _sport_code(sport, filename) if sport else None)
    listing = export_lists.layout(first_line.encode())
    if listing is not None:  # an account export's list of its activities (a summary per activity)
        raise NotAnActivity(f"this is {listing.app}'s list of an account's activities (a line of totals per "
                            f"activity, no samples); the recordings are {listing.recordings}, which take their "
                            "titles, notes and sports from it when imported with it",
                            format="csv", file=filename, location="line 1")
    named = _vendor_refusal(first_line, filename)
    if named is not None:
        raise named
    reader = _csv.reader(io.StringIO(text))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration as exc:
        raise _err(f"the file is empty. {LAYOUT_HELP}", filename, "line 1") from exc
    lowered = [h.lower() for h in header]
    if "timestamp" not in lowered:
        raise _err(f"no 'timestamp' column in the header. {LAYOUT_HELP}", filename, "line 1", "timestamp")
    vendor_csv.columns_named_once(header, filename)
    ti = lowered.index("timestamp")
    si = lowered.index("sport") if "sport" in lowered else None
    metric_cols: dict[int, str] = {}
    unknown = []
    for i, h in enumerate(lowered):
        if i in (ti, si) or not h:
            continue
        if h in METRICS:
            metric_cols[i] = h
        else:
            unknown.append(header[i])
    if unknown:
        raise _err(f"unknown column(s) {', '.join(repr(u) for u in unknown[:5])}. {LAYOUT_HELP}", filename,
                   "line 1", unknown[0])
    stamps: list[datetime] = []
    values: dict[str, list[float]] = {name: [] for name in metric_cols.values()}
    sport_value = None
    for rown, row in enumerate(reader, start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise _err(f"{len(row)} fields, the header has {len(header)}", filename, f"line {rown}")
        stamps.append(parse_timestamp(row[ti], rown, filename))
        if si is not None and sport_value is None and row[si].strip():
            sport_value = row[si].strip()
        for i, name in metric_cols.items():
            cell = row[i].strip()
            if not cell:
                values[name].append(math.nan)
                continue
            try:
                v = float(cell)
            except ValueError as exc:
                raise _err(f"{cell[:30]!r} is not a number", filename, f"line {rown}", header[i]) from exc
            if not math.isfinite(v):
                raise _err(f"{cell[:30]!r} is not a finite number", filename, f"line {rown}", header[i])
            values[name].append(v)
    if not stamps:
        raise _err("the file has a header but no samples", filename, "line 2")
    chosen = sport or sport_value
    if not chosen:
        raise _err("no sport: give the sport parameter or a 'sport' column", filename, None, "sport")
    code = _sport_code(chosen, filename)
    start = stamps[0].astimezone(UTC)
    check_start(start, "csv", filename, "line 2")
    t = np.array([(s - stamps[0]).total_seconds() for s in stamps], dtype=np.float64)
    bad = np.flatnonzero(np.diff(t) <= 0)
    if len(bad):
        raise _err("timestamps must increase from line to line", filename, f"sample {int(bad[0]) + 2}",
                   "timestamp")
    offset = stamps[0].utcoffset() or timedelta(0)
    a = Activity(start=start, sport=code, utc_offset=int(offset.total_seconds()))
    channels: dict[str, np.ndarray] = {"time": t}
    for name, vals in values.items():
        arr = np.asarray(vals, dtype=np.float64)
        if not np.isnan(arr).all():
            channels[name] = arr
    mask_impossible(channels, a.extras)
    quarantine_backward_distance(channels, a.extras)
    a.channels = channels
    return [a]


def encode(a: Activity) -> bytes:
    """Activity -> SweatStack CSV: one line per sample, timestamps in the activity's local offset
    with microseconds, values as repr() (shortest exact float text), empty for NaN. An activity
    without samples (a summary only) has no line to write, and `decode` refuses a header alone."""
    if a.n_samples == 0:
        raise FormatError("CSV holds one line per sample, and this activity has none (a summary only): FIT "
                          "carries it", format="csv")
    tz = timezone(timedelta(seconds=a.utc_offset))
    names = [n for n in METRICS if n in a.channels]
    extra = [n for n in a.channels if n not in names and n != "time" and n in CHANNEL_UNITS]
    names += extra
    buf = io.StringIO()
    w = _csv.writer(buf, lineterminator="\n")
    w.writerow(["timestamp", "sport", *names])
    sport = [""] * a.n_samples
    sport[0] = a.sport
    w.writerows(zip(_stamps(a, tz), sport, *(_texts(a.channels[n]) for n in names), strict=True))
    return buf.getvalue().encode("utf-8")


def _stamps(a: Activity, tz: timezone) -> list[str]:
    """Each sample's local time as `(base + timedelta(seconds=t)).isoformat(timespec="microseconds")`
    writes it, for all samples at once (`micros_since_start`: timedelta's rounding); numpy formats the
    wall clock, and the offset is appended."""
    base = a.start.astimezone(tz)
    wall = np.datetime64(base.replace(tzinfo=None), "us") + micros_since_start(a.channels["time"]).astype(
        "timedelta64[us]")
    suffix = base.isoformat()[19:].lstrip(".0123456789")  # "+01:00", or "+00:00"
    return [f"{s}{suffix}" for s in np.datetime_as_string(wall, unit="us")]


def _texts(values: np.ndarray) -> list[str]:
    """repr() of each value (the shortest text Python reads back to the same float64), empty for NaN."""
    values = np.asarray(values, dtype=np.float64)
    texts = list(map(repr, values.tolist()))
    for i in np.flatnonzero(np.isnan(values)).tolist():
        texts[i] = ""
    return texts


register("csv", decode, encode, MEDIA_TYPE)
