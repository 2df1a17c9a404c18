"""CSV layouts written by other software whose columns say unambiguously what they hold.

Three layouts are read, each recognised by its header line (never by the file name):

- **FIT record table**: one row per FIT `record` message, columns named after FIT record fields
  (`timestamp,heart_rate,cadence,speed,distance,position_lat,position_long,altitude,...`) in the
  FIT profile's units (m/s, m, semicircles, degC), timestamps as `Sun Sep 25 06:00:22 PDT 2011`
  (the zone abbreviation gives the offset; only abbreviations with one meaning are accepted).
  python-fitparse ships such tables next to the FIT files they come from.
- **OpenTracks CSV export**: `#time,trackpoint_type,latitude,longitude,altitude,...` with ISO
  8601 times carrying an offset, positions in degrees and OpenTracks' SI units (m, m/s);
  SEGMENT_START/END and IDLE rows are pauses, not samples.
- **Wahoo Fitness app CSV** (iPhone app, versions 3 to 5): sections (start, sensors, workout and
  interval totals, samples) whose sample columns name the sensor and the quantity
  (`hr_heartrate`, `gps_lat`, `gps_dist`, ...), one row per second with a `paused` flag and an
  `interval` number. Its start is the phone's wall clock without a zone; the phone keeps the
  time where it is, so the zone at the first GPS position (`zones.zone_at`) places it. A file
  without a position (an indoor workout) has no such zone and is refused, as is a start that a
  daylight-saving change repeats or skips there. Columns are read where their sensor is marked
  present and their unit is the only one in use for the quantity; the others that hold readings
  are named in `columns_not_read`.

Everything else (PowerTap, ergomo, iBike, Joule, PeriPedal, Columbus loggers) either has no
absolute start, or a local time with no zone and no way to place it (a GPS logger's clock is set
to any zone its owner chose), or columns whose meaning the file does not state; csv.py refuses
those, naming these layouts.
"""

from __future__ import annotations

import csv as _csv
import functools
import io
import math
import re
from datetime import UTC, datetime, timedelta

import numpy as np

from runhub import zones
from runhub.activity import CHANNEL_BOUNDS, Activity, Lap
from runhub.formats import FormatError
from runhub.formats._common import (
    check_start,
    clock_since,
    csv_fault,
    distance_channel,
    laps_ending_at,
    mask_impossible,
    quarantine_backward_distance,
    strictly_increasing,
)
from runhub.geodesy import pause_steps

SEMICIRCLE_DEG = 180.0 / 2**31

# FIT record field -> (channel, factor to SI); the FIT profile's scaled units, as fitparse prints them.
FIT_RECORD_FIELDS: dict[str, tuple[str, float]] = {
    "heart_rate": ("heart_rate", 1.0),
    "cadence": ("cadence", 1.0),
    "speed": ("speed", 1.0),
    "enhanced_speed": ("speed", 1.0),
    "distance": ("distance", 1.0),
    "position_lat": ("latitude", SEMICIRCLE_DEG),
    "position_long": ("longitude", SEMICIRCLE_DEG),
    "altitude": ("altitude", 1.0),
    "enhanced_altitude": ("altitude", 1.0),
    "temperature": ("temperature", 1.0),
    "power": ("power", 1.0),
}
FIT_ONLY_FIELDS = {"position_lat", "position_long", "enhanced_speed", "enhanced_altitude"}

# Zone abbreviations with a single meaning (CST, IST, BST name several zones and are refused).
ZONE_ABBREVIATIONS = {"UTC": 0, "GMT": 0, "PST": -8, "PDT": -7, "MST": -7, "MDT": -6, "EST": -5, "EDT": -4,
                      "AKST": -9, "AKDT": -8, "HST": -10, "CET": 1, "CEST": 2, "EET": 2, "EEST": 3}
_JAVA_DATE = re.compile(r"^[A-Z][a-z]{2} ([A-Z][a-z]{2} +\d{1,2} \d{2}:\d{2}:\d{2}) ([A-Z]{2,5}) (\d{4})$")

OPENTRACKS_FIRST = "#time,trackpoint_type"
# OpenTracks column -> channel (OpenTracks writes SI: m, m/s, bpm, rpm, W)
OPENTRACKS_COLUMNS = {"latitude": "latitude", "longitude": "longitude", "altitude": "altitude",
                      "accuracy_horizontal": "gps_accuracy", "speed": "speed", "heartrate": "heart_rate",
                      "cadence": "cadence", "power": "power"}
OPENTRACKS_PAUSE_ROWS = {"SEGMENT_START_MANUAL", "SEGMENT_END_MANUAL", "IDLE"}
OPENTRACKS_SAMPLE_ROWS = {"TRACKPOINT", "SEGMENT_START_AUTOMATIC"}

# Wahoo Fitness app sample column -> (the sensor whose "present" flag says it holds readings,
# channel). Units, checked on the corpus walk against the app's own totals: degrees, m (altitude
# and the cumulative distance), m/s; bpm, rpm and W are the only units of their quantities.
WAHOO_COLUMNS = {"hr_heartrate": ("hr", "heart_rate"), "gps_lat": ("gps", "latitude"),
                 "gps_lon": ("gps", "longitude"), "gps_altitude": ("gps", "altitude"),
                 "gps_dist": ("gps", "distance"), "gps_speed": ("gps", "speed"),
                 "cad_cadence": ("cad", "cadence"), "pwr_instpwr": ("pwr", "power")}
WAHOO_GPS_ONLY = ("altitude", "speed")  # the receiver writes 0 for these while it has no fix
# "Year,2014,Month,6,Day,1,Hour,19,..." and app 5.5's "Year,2015,Month,2,Day5,Hou16,Minu19,Sec2"
_WAHOO_START = re.compile(r"Year,(\d{4}),Month,(\d{1,2}),Day,?(\d{1,2}),Hou(?:r)?,?(\d{1,2}),"
                          r"Minu(?:te)?,?(\d{1,2}),Sec(?:ond)?,?(\d{1,2})(?:,|$)")


def _err(message: str, filename: str | None, location: str | None = None, fld: str | None = None) -> FormatError:
    return FormatError(message, format="csv", file=filename, location=location, field=fld)


def layout(header: list[str], first_row: list[str] | None) -> str | None:
    """The vendor layout a header (and, for FIT tables without FIT-only names, the first timestamp) announces."""
    if header and header[0] == "#time" and len(header) > 1 and header[1] == "trackpoint_type":
        return "opentracks"
    if header and header[0] == "Device" and "AppVersion" in header and first_row and first_row[0] == "Year":
        return "wahoo"
    lowered = [h.strip().lower() for h in header]
    if "timestamp" in lowered and all(h == "timestamp" or h in FIT_RECORD_FIELDS or not h for h in lowered):
        if FIT_ONLY_FIELDS & set(lowered):
            return "fit_records"
        if first_row and len(first_row) == len(header) and _JAVA_DATE.match(first_row[lowered.index("timestamp")]):
            return "fit_records"
    return None


def _java_time(value: str, line: int, filename: str | None) -> tuple[float, int]:
    """'Sun Sep 25 06:00:22 PDT 2011' -> (Unix seconds, UTC offset in seconds)."""
    m = _JAVA_DATE.match(value.strip())
    if not m:
        raise _err(f"timestamp {value[:40]!r} is not like 'Sun Sep 25 06:00:22 PDT 2011'", filename, f"line {line}",
                   "timestamp")
    zone = m.group(2)
    if zone not in ZONE_ABBREVIATIONS:
        raise _err(f"time zone {zone!r} is ambiguous or unknown; runhub reads {', '.join(ZONE_ABBREVIATIONS)}",
                   filename, f"line {line}", "timestamp")
    offset = ZONE_ABBREVIATIONS[zone] * 3600
    month, day, clock = m.group(1).split()
    hh, mm, ss = (int(x) for x in clock.split(":"))
    midnight = _local_midnight(f"{month} {day} {m.group(3)}")
    if midnight is None or hh > 23 or mm > 59 or ss > 61:  # strptime's ranges (%S allows leap seconds)
        raise _err(f"timestamp {value[:40]!r} is not a valid date", filename, f"line {line}", "timestamp")
    return midnight + hh * 3600 + mm * 60 + ss - offset, offset


@functools.lru_cache(maxsize=64)
def _local_midnight(month_day_year: str) -> float | None:
    """'Sep 25 2011' -> that local midnight counted as if it were UTC (None: no such date); one
    strptime per day of the file instead of one per row."""
    try:
        return datetime.strptime(month_day_year, "%b %d %Y").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None


def _number(cell: str, line: int, column: str, filename: str | None) -> float:
    cell = cell.strip()
    if not cell:
        return math.nan
    try:
        v = float(cell)
    except ValueError as exc:
        raise _err(f"{cell[:30]!r} is not a number", filename, f"line {line}", column) from exc
    if not math.isfinite(v):
        raise _err(f"{cell[:30]!r} is not a finite number", filename, f"line {line}", column)
    return v


def _column(cells: list[str], lines: list[int], column: str, filename: str | None, scale: float = 1.0) -> np.ndarray:
    """A column of number cells as float64 (empty cells NaN): the whole column parsed at C speed,
    each cell on its own only when that fails, which also names the bad cell's line."""
    try:
        arr = np.array(list(map(float, cells)), dtype=np.float64)
        if np.isfinite(arr).all():
            return arr * scale if scale != 1.0 else arr
    except ValueError:
        pass
    return np.array([_number(c, line, column, filename) for c, line in zip(cells, lines, strict=True)]) * scale


def _finish(times: list[float], offset: int, values: dict[str, list[float]] | dict[str, np.ndarray],
            pauses: list[int], sport: str, filename: str | None, source: str) -> Activity:
    if len(times) < 2:
        raise _err(f"{len(times)} sample(s): not an activity", filename, "line 2", "timestamp")
    t = np.asarray(times, dtype=np.float64)
    cols = {name: np.asarray(vals, dtype=np.float64) for name, vals in values.items()}
    raw_index = np.arange(len(t))
    if len(t) > 1 and not (np.diff(t) > 0).all():
        # the same rule as FIT/GPX: a record at or before the previous one's time is dropped (FIT
        # devices write two records for one second at a lap button press); pauses follow the kept ones
        cols["_raw"] = raw_index.astype(np.float64)
        t, cols, dropped = strictly_increasing(t, cols)
        raw_index = cols.pop("_raw").astype(np.int64)
        pauses = [int(np.searchsorted(raw_index, p, side="left")) for p in pauses]
    else:
        dropped = 0
    if len(t) < 2:
        raise _err("only one distinct time: not an activity", filename, "line 2", "timestamp")
    start = datetime.fromtimestamp(float(t[0]), UTC)
    check_start(start, "csv", filename, "line 2")
    a = Activity(start=start, sport=sport, utc_offset=offset)
    a.extras["csv_layout"] = source
    if dropped:
        a.extras["dropped_points"] = {"count": dropped, "why": "time not after the previous sample"}
    channels: dict[str, np.ndarray] = {"time": clock_since(t, float(t[0]))}
    for name, arr in cols.items():
        if not np.isnan(arr).all():
            channels[name] = arr
    a.pauses = sorted({p for p in pauses if 0 < p < len(t)})
    mask_impossible(channels, a.extras)  # first: a no-fix position must not make a distance
    if "distance" not in channels and "latitude" in channels and "longitude" in channels:
        distance_channel(channels, a.sport, pause_steps(a.pauses), a.extras)
        a.extras["distance_source"] = "computed: WGS84 geodesic (pyproj), none across pauses"
    quarantine_backward_distance(channels, a.extras)
    a.channels = channels
    return a


def columns_named_once(header: list[str], filename: str | None) -> None:
    """Refuse a header line that names a column twice (any case): which of the two holds the
    channel is not said, and each read as the one would give a sample two values."""
    seen: dict[str, int] = {}
    for i, h in enumerate(header):
        key = h.strip().lower()
        if key and key in seen:
            raise _err(f"the header names the column {h.strip()[:40]!r} twice (columns {seen[key] + 1} and "
                       f"{i + 1}): which one to read is not said", filename, "line 1", h.strip()[:40])
        seen[key] = i


def decode_fit_records(text: str, filename: str | None, sport: str) -> Activity:
    reader = _csv.reader(io.StringIO(text))
    header = [h.strip().lower() for h in next(reader)]
    columns_named_once(header, filename)
    ti = header.index("timestamp")
    cols = {i: FIT_RECORD_FIELDS[h] for i, h in enumerate(header) if h in FIT_RECORD_FIELDS}
    # enhanced_* wins over its 16-bit twin when both are present (FIT profile: same quantity, more range)
    chosen: dict[str, int] = {}
    for i, (channel, _f) in cols.items():
        if channel not in chosen or header[i].startswith("enhanced_"):
            chosen[channel] = i
    rows: list[list[str]] = []
    lines: list[int] = []
    times: list[float] = []
    offset = 0
    for line, row in enumerate(reader, start=2):
        if not row or (len(row) <= ti or not row[ti].strip()) and all(not c.strip() for c in row):
            continue  # a blank line (a row with a time is never blank: checked first, it is cheaper)
        if len(row) != len(header):
            raise _err(f"{len(row)} fields, the header has {len(header)}", filename, f"line {line}")
        t, off = _java_time(row[ti], line, filename)
        if not times:
            offset = off
        times.append(t)
        rows.append(row)
        lines.append(line)
    cells = list(zip(*rows, strict=True)) if rows else [()] * len(header)
    values = {channel: _column(list(cells[i]), lines, header[i], filename, cols[i][1]) for channel, i in chosen.items()}
    return _finish(times, offset, values, [], sport, filename, "FIT record table")


def decode_opentracks(text: str, filename: str | None, sport: str) -> Activity:
    reader = _csv.reader(io.StringIO(text))
    header = [h.strip() for h in next(reader)]
    columns_named_once(header, filename)
    cols = {i: OPENTRACKS_COLUMNS[h] for i, h in enumerate(header) if h in OPENTRACKS_COLUMNS}
    values: dict[str, list[float]] = {c: [] for c in cols.values()}
    times: list[float] = []
    pauses: list[int] = []
    offset = 0
    for line, row in enumerate(reader, start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise _err(f"{len(row)} fields, the header has {len(header)}", filename, f"line {line}")
        kind = row[1].strip()
        if kind in OPENTRACKS_PAUSE_ROWS:
            pauses.append(len(times))
            continue
        if kind not in OPENTRACKS_SAMPLE_ROWS:
            raise _err(f"unknown trackpoint_type {kind[:30]!r}", filename, f"line {line}", "trackpoint_type")
        if kind == "SEGMENT_START_AUTOMATIC":
            pauses.append(len(times))
        try:
            d = datetime.fromisoformat(row[0].strip())
        except ValueError as exc:
            raise _err(f"time {row[0][:40]!r} is not an ISO 8601 datetime", filename, f"line {line}",
                       "#time") from exc
        if d.tzinfo is None:
            raise _err(f"time {row[0][:40]!r} has no UTC offset", filename, f"line {line}", "#time")
        if not times:
            offset = int((d.utcoffset() or timedelta(0)).total_seconds())
        times.append(d.timestamp())
        for i, channel in cols.items():
            values[channel].append(_number(row[i], line, header[i], filename))
    a = _finish(times, offset, values, pauses, sport, filename, "OpenTracks CSV export")
    if "sensor_distance" in header:
        a.extras["columns_not_read"] = ["sensor_distance (per-point sensor increments; distance comes from GPS)"]
    return a


def decode_wahoo(text: str, filename: str | None, sport: str) -> Activity:
    rows = list(_csv.reader(io.StringIO(text)))
    if len(rows) < 2:
        raise _err("no start line (line 2: 'Year,...,Month,...')", filename, "line 2")
    m = _WAHOO_START.match(",".join(rows[1]).strip())
    try:
        wall = datetime(*(int(g) for g in m.groups())) if m else None
    except ValueError:
        wall = None
    if wall is None:
        raise _err(f"start {','.join(rows[1])[:60]!r} is not like 'Year,2014,Month,6,Day,1,Hour,19,Minute,32,"
                   "Second,14'", filename, "line 2")
    present: set[str] = set()
    summary: dict[str, float | str] = {}
    head = None
    for k, row in enumerate(rows):
        if row[:2] == ["sensor", "present"]:
            for sensor in rows[k + 1:]:
                if len(sensor) < 2 or sensor[1] not in ("yes", "no"):
                    break
                if sensor[1] == "yes":
                    present.add(sensor[0])
        elif row[:1] == ["workout"] and k + 1 < len(rows):  # the app's own totals of the workout
            summary = {name: _summary_value(v) for name, v in zip(row[1:], rows[k + 1][1:], strict=False) if name}
        elif row[:1] == ["time"]:
            head = k
            break
    if head is None:
        raise _err("no sample table (a header line starting 'time,')", filename)
    header = rows[head]
    samples: list[list[str]] = []
    lines: list[int] = []
    for line, row in enumerate(rows[head + 1:], start=head + 2):
        if not row or all(not c.strip() for c in row):
            break  # the table ends at the first blank line
        if len(row) != len(header):
            raise _err(f"{len(row)} fields, the header has {len(header)}", filename, f"line {line}")
        samples.append(row)
        lines.append(line)
    if len(samples) < 2:
        raise _err(f"{len(samples)} sample row(s): not an activity", filename, f"line {head + 2}")
    cells = dict(zip(header, zip(*samples, strict=True), strict=False))
    clock = _column(list(cells["time"]), lines, "time", filename)
    bad = np.flatnonzero(~((clock >= 0) & (clock <= CHANNEL_BOUNDS["time"][1])))
    if len(bad):
        raise _err(f"time {samples[bad[0]][0][:30]!r} is not a number of seconds since the start", filename,
                   f"line {lines[bad[0]]}", "time")
    read = [name for name, (sensor, _) in WAHOO_COLUMNS.items() if sensor in present and name in cells]
    values = {WAHOO_COLUMNS[name][1]: _column(list(cells[name]), lines, name, filename) for name in read}
    lat, lon = values.get("latitude"), values.get("longitude")
    fixed = np.empty(0, dtype=np.int64)
    if lat is not None and lon is not None:
        no_fix = (lat == 0.0) & (lon == 0.0)
        for channel in WAHOO_GPS_ONLY:
            if channel in values:
                values[channel][no_fix] = math.nan
        with np.errstate(invalid="ignore"):  # NaN: no position
            fixed = np.flatnonzero((np.abs(lat) <= 90) & (np.abs(lon) <= 180) & ~no_fix)
    local = _wahoo_start(wall, (float(lat[fixed[0]]), float(lon[fixed[0]])) if len(fixed) else None, filename)
    paused = _column(list(cells.get("paused", ())), lines, "paused", filename)
    pauses = [int(i) for i in np.flatnonzero(paused == 1) if i > 0]
    times = list(local.timestamp() + clock)
    offset = int((local.utcoffset() or timedelta(0)).total_seconds())
    a = _finish(times, offset, values, pauses, sport, filename, "Wahoo Fitness app CSV")
    a.timezone = str(local.tzinfo)
    a.device_summary = summary or None
    if "interval" in cells:
        a.laps = _wahoo_laps(_column(list(cells["interval"]), lines, "interval", filename), np.asarray(times),
                             a.channels["time"])
    unread = sorted(name for name in cells if name not in read and name not in ("time", "interval", "paused")
                    and np.nan_to_num(_column(list(cells[name]), lines, name, filename)).any())
    if unread:
        a.extras["columns_not_read"] = unread
    return a


def _summary_value(v: str) -> float | str:
    try:
        return float(v)
    except ValueError:
        return v


def _wahoo_start(wall: datetime, first_fix: tuple[float, float] | None, filename: str | None) -> datetime:
    """A Wahoo start (the phone's wall clock) as the instant it names in the zone at the first fix,
    in that zone."""
    if first_fix is None:
        raise _err("the Wahoo Fitness app writes its start as the phone's local time without a time zone, and "
                   "this file has no GPS position to find the zone by: runhub cannot tell when it was recorded "
                   "(import its FIT or TCX, which carry UTC times)", filename, "line 2")
    name = zones.zone_at(*first_fix)
    tz = zones.zone(name)
    if name is None or tz is None:
        raise _err(f"no time zone is known at the first position {first_fix} to place the "
                   "start (the phone's local time) by", filename, "line 2")
    try:
        return zones.wall_instant(wall, tz).astimezone(tz)
    except ValueError as exc:
        raise _err(f"the start {wall.isoformat()} is the phone's local time, which names no single instant: {exc}",
                   filename, "line 2") from exc


def _wahoo_laps(interval: np.ndarray, t: np.ndarray, time: np.ndarray) -> list[Lap]:
    """The app's intervals as laps, a lap ending at the last sample of its interval; none for a
    workout of one interval. `t`: each row's Unix time; `time`: the kept samples' clock."""
    last = float(time[-1])
    changes = np.flatnonzero(interval[1:] != interval[:-1])
    ends = sorted({e for e in clock_since(t[changes], float(t[0])).tolist() if 0 < e < last})
    return laps_ending_at([*ends, last], time) if ends else []


def decode(kind: str, text: str, filename: str | None, sport: str | None) -> list[Activity]:
    chosen = sport or "generic"  # no layout names the sport
    try:
        if kind == "opentracks":
            return [decode_opentracks(text, filename, chosen)]
        if kind == "wahoo":
            return [decode_wahoo(text, filename, chosen)]
        return [decode_fit_records(text, filename, chosen)]
    except _csv.Error as exc:
        said, where = csv_fault(exc, text)
        raise _err(said, filename, where) from exc


def describe() -> str:
    return ("a FIT record table (header 'timestamp,' plus FIT record field names such as position_lat, "
            "timestamps like 'Sun Sep 25 06:00:22 PDT 2011'), an OpenTracks CSV export "
            "(header '#time,trackpoint_type,...'), or a Wahoo Fitness app CSV with GPS positions (first line "
            "'Device,...,AppVersion,...')")

