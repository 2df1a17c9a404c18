"""Helpers every decoder shares: masking impossible sensor values, naming where an error is."""

from __future__ import annotations

import csv
import io
import math
import os
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from xml.sax.saxutils import escape, quoteattr

import numpy as np

from runhub import sports
from runhub.activity import CALORIES_MAX, CHANNEL_BOUNDS, OFFSET_SOURCE, OFFSET_UNSTATED, Activity, Lap
from runhub.formats import FormatError
from runhub.geodesy import track_distance

# Channels whose out-of-range samples are sensor glitches (a chest strap reporting 0 bpm, an
# altimeter spike). Time and distance are never masked: wrong there means a wrong file. A position
# off the earth is masked only as a few no-fix markers (`_mask_positions`).
MASKABLE = ("altitude", "heart_rate", "cadence", "power", "form_power", "temperature", "speed",
            "gps_accuracy", "satellites", "smo2", "core_temperature", "respiration_rate")


NO_SENSOR_ZERO = ("power", "cadence", "form_power")


def mask_impossible(channels: dict[str, np.ndarray], extras: dict[str, Any]) -> None:
    """Set samples no sensor can truly read (outside activity.CHANNEL_BOUNDS) to NaN, and say how many.

    Devices write 0 bpm for "no heart rate" and occasional garbage; refusing a whole recording
    for one such sample loses the run, keeping it breaks every average. Missing is the truth.
    """
    masked: dict[str, int] = {}
    for name in MASKABLE:
        arr = channels.get(name)
        if arr is None:
            continue
        lo, hi = CHANNEL_BOUNDS[name]
        with np.errstate(invalid="ignore"):
            bad = (arr < lo) | (arr > hi) | np.isinf(arr)
        count = int(bad.sum())
        if count:
            arr[bad] = np.nan
            masked[name] = count
    _mask_positions(channels, masked)
    for name in list(channels):
        if name != "time" and np.isnan(channels[name]).all():
            del channels[name]
    if masked:
        extras["masked_samples"] = masked
    # an app without the sensor writes 0 in every sample (sportractive's power and cadence): that
    # is no reading, and kept it showed a run at 0 W on average
    zeros = [name for name in NO_SENSOR_ZERO if name in channels and len(channels[name]) > 1
             and not np.nanmax(np.abs(channels[name]))]
    for name in zeros:
        del channels[name]
    if zeros:
        extras["all_zero_channels_left_out"] = zeros


def _mask_positions(channels: dict[str, np.ndarray], masked: dict[str, int]) -> None:
    """No-fix markers are missing positions, both coordinates: 0/0 (an app's "no fix": one such
    point in a run added 11,000 km), and positions off the earth (a watch's 200/200) when they are
    under half the samples; most of them off is a wrong file (semicircles read as degrees), left
    for validation to refuse, naming the first."""
    lat, lon = channels.get("latitude"), channels.get("longitude")
    if lat is None or lon is None or len(lat) != len(lon):
        return
    with np.errstate(invalid="ignore"):
        off = ~((np.abs(lat) <= 90.0) & (np.abs(lon) <= 180.0)) & ~(np.isnan(lat) | np.isnan(lon))
    if 2 * int(off.sum()) >= len(lat):
        off[:] = False
    off |= (lat == 0.0) & (lon == 0.0)
    count = int(off.sum())
    if count:
        lat[off] = lon[off] = np.nan
        masked["latitude"] = masked["longitude"] = count


def distance_channel(channels: dict[str, np.ndarray], sport: str, paused_steps: np.ndarray,
                     extras: dict[str, Any]) -> None:
    """The distance channel of a file that records positions only: along the track, with the
    receiver's jumps (geodesy.gps_jumps, by the sport's speed bound) read as no fix, and how many
    said. The positions stay as recorded."""
    bound = sports.max_speed(sport)
    lat, lon = channels["latitude"], channels["longitude"]
    channels["distance"], jumps = track_distance(lat, lon, channels["time"], bound, paused_steps)
    if jumps.any():
        extras["gps_jumps_left_out"] = {
            "count": int(jumps.sum()),
            "why": f"fixes reached and left faster than {bound} m/s: no distance run to them",
        }


def laps_ending_at(ends: list[float], clock: np.ndarray) -> list[Lap]:
    """Laps the runner marked, ending at clock seconds `ends` (increasing; the last the activity's
    end), each at its last sample at or before its end; FIT's trigger names: "manual" for a mark,
    "session_end" for the last."""
    index = np.searchsorted(clock, ends, "right") - 1
    triggers = ["manual"] * (len(ends) - 1) + ["session_end"]
    return [Lap(end_time=e, end_index=int(i), trigger=trigger, basis="time")
            for e, i, trigger in zip(ends, index, triggers, strict=True)]


def intensity_lap_types(intensities: list[str | None]) -> list[str]:
    """TCX's and GPX+'s lap intensities (TCX's Active and Resting, GPX+'s active and rest) as lap
    types: a resting lap is a recovery; an active one is the work of an interval session (one with
    rests), else a general lap, as FIT's `active` is (fit.INTENSITY_TYPES)."""
    rests = [(x or "").lower() in ("resting", "rest") for x in intensities]
    return ["recovery" if rest else "work" if any(rests) and (x or "").lower() == "active" else "general"
            for x, rest in zip(intensities, rests, strict=True)]


# Whole-number values in the XML formats' schemas: heart rate 1..255 bpm (TCX's and Garmin's
# TrackPointExtension's unsignedByte, at least 1), cadence 0..254 (their CadenceValue_t), power and
# kcal 0..65535 (unsignedShort). runhub's plausibility bounds (activity.CHANNEL_BOUNDS, CALORIES_MAX)
# reach past some of these, and a file a strict importer (Garmin Connect) refuses whole is worse than
# a reading left out: a value outside is written as missing, as FIT's writer leaves out what its
# fields cannot hold.
XML_WHOLE_RANGES = {"heart_rate": (1, 255), "cadence": (0, 254), "power": (0, 65535), "calories": (0, 65535)}


def xml_whole_channels(channels: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """`channels` with heart rate, cadence and power rounded to the whole numbers the XML formats
    write, NaN where they cannot hold them (once per activity, not per sample)."""
    out = dict(channels)
    for name in ("heart_rate", "cadence", "power"):
        if name in out:
            lo, hi = XML_WHOLE_RANGES[name]
            whole = np.round(out[name])
            with np.errstate(invalid="ignore"):
                out[name] = np.where((whole >= lo) & (whole <= hi), whole, np.nan)
    return out


def xml_whole(value: float | None, kind: str) -> int | None:
    """One total (a lap's heart rate, its kcal) as the whole number the XML formats write, or None
    where they cannot hold it (XML_WHOLE_RANGES)."""
    if value is None or not math.isfinite(value):
        return None
    lo, hi = XML_WHOLE_RANGES[kind]
    whole = int(round(value))
    return whole if lo <= whole <= hi else None


def xml_time(unix: float) -> str:
    """A time as the XML formats write it: UTC (ISO 8601, "Z"), to the millisecond, or to the
    microsecond where the time lies between milliseconds: xsd:dateTime takes any fraction, and
    samples under a millisecond apart (a JSON clock may step 0.4 ms) were written as one time."""
    us = round(unix * 1_000_000)
    whole = datetime.fromtimestamp(us // 1_000_000, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    frac = us % 1_000_000
    return f"{whole}.{frac // 1000:03d}Z" if frac % 1000 == 0 else f"{whole}.{frac:06d}Z"


def xml_longitude(lon: float) -> str:
    """A longitude as the XML formats write it, to 1e-7 deg: their schemas hold -180 <= lon < 180
    (GPX's longitudeType, TCX's DegreesLongitude_t), so 180 (or a value that rounds to it) is
    written as -180, the same meridian."""
    text = f"{lon:.7f}"
    return "-180.0000000" if text == "180.0000000" else text


def device_calories(value: float | None, extras: dict[str, Any]) -> float | None:
    """A file's energy total, or None (and why, in `extras`) where it is none a body can burn: one
    garbage lap total must not refuse the recording (a client sending one is still refused)."""
    if value is None or 0 <= value <= CALORIES_MAX:
        return value
    extras["calories_dropped"] = f"{value} kcal in the file is outside 0..{CALORIES_MAX}"
    return None


def quarantine_backward_distance(
    channels: dict[str, np.ndarray], extras: dict[str, Any], tolerance: float = 0.01
) -> None:
    """A cumulative distance that runs backwards is not a distance (an app interleaving two
    counters, a reset mid-file). Keep the values under `distance_recorded` so nothing is lost,
    and leave `distance` absent so analysis derives it from positions, as for a GPX file."""
    d = channels.get("distance")
    if d is None:
        return
    known = d[~np.isnan(d)]
    if len(known) > 1 and (np.diff(known) < -tolerance).any():
        channels["distance_recorded"] = channels.pop("distance")
        extras["distance_quarantined"] = "the recorded cumulative distance goes backwards; kept as distance_recorded"


def strictly_increasing(t: np.ndarray, cols: dict[str, np.ndarray]) -> tuple[np.ndarray, dict[str, np.ndarray], int]:
    """Drop samples whose time does not follow the previous kept one (duplicates, clock steps back).

    Nothing is averaged or interpolated: a dropped sample only lends values its kept neighbour
    lacks. Returns the kept times, columns and how many samples were dropped.
    """
    if len(t) < 2 or (np.diff(t) > 0).all():
        return t, cols, 0
    # in array passes, not a loop a sample (a 32 MB TCX of one repeated time took 5 s): the last
    # kept time is the largest before, and each dropped sample belongs to the last kept one
    keep = np.ones(len(t), dtype=bool)
    with np.errstate(invalid="ignore"):  # a time that is NaN is no later than any: dropped, and not the last
        keep[1:] = t[1:] > np.fmax.accumulate(t)[:-1] if not np.isnan(t[0]) else False
    owner = np.maximum.accumulate(np.where(keep, np.arange(len(t)), 0))
    dropped = ~keep
    for arr in cols.values():
        lend = np.flatnonzero(dropped & ~np.isnan(arr))
        if len(lend):  # the first such value after a kept sample fills it, where it has none
            to, first = np.unique(owner[lend], return_index=True)
            empty = np.isnan(arr[to])
            arr[to[empty]] = arr[lend[first[empty]]]
    return t[keep], {k: v[keep] for k, v in cols.items()}, int(dropped.sum())


EARLIEST_YEAR = 1980  # no consumer GPS or heart-rate recorder wrote files before this


def clock_since(ts: Any, first: float) -> Any:
    """Seconds from `first` to `ts` (Unix seconds parsed from a file's text: an array or one), on
    whole microseconds. Parsed to float64, a time of day is off by up to ~1.2e-7 s (float64's step
    at 1.7e9 s is 2.4e-7 s), so their plain difference is too; the files write a time to the
    microsecond at most, so the nearest whole microsecond is the one written (the error and the
    product's rounding stay under half of one), and the clock is the written one, correctly
    rounded: as a CSV's (its timestamps to the microsecond) or Python's timedelta gives it."""
    return (np.round(np.multiply(ts, 1e6)) - round(first * 1e6)) / 1e6


def micros_since_start(t: np.ndarray) -> np.ndarray:
    """Each clock second of `t` (>= 0) as whole microseconds the way CPython's timedelta(seconds=)
    rounds a float: the fraction of a second times 10**6, half to even. The text and table exports
    write their times so (CSV's line times, Parquet's timestamps)."""
    frac, whole = np.modf(np.asarray(t, dtype=np.float64))
    return whole.astype(np.int64) * 1_000_000 + np.rint(frac * 1e6).astype(np.int64)


def csv_fault(exc: Exception, text: str) -> tuple[str, str | None]:
    """(what is wrong, where) for Python's csv reader giving up on `text`: its errors name no line
    and speak of file modes ("new-line character seen in unquoted field - do you need to open the
    file in universal-newline mode?"), so the text is read again to find the line."""
    said = str(exc)
    if said.startswith("new-line character seen in unquoted field"):
        said = "a carriage return inside a field that is not quoted"
    reader = csv.reader(io.StringIO(text))
    try:
        for _ in reader:
            pass
    except csv.Error:
        return f"not readable as CSV ({said})", f"line {reader.line_num}"
    return f"not readable as CSV ({said})", None


def check_start(start: datetime, fmt: str, filename: str | None, location: str, fld: str | None = "time") -> None:
    """A start before 1980 or after tomorrow is a broken clock, not an activity."""
    latest = datetime.now(UTC) + timedelta(days=1)
    if start.year < EARLIEST_YEAR or start > latest:
        raise FormatError(f"start time {start.isoformat()} is not plausible (before {EARLIEST_YEAR} or in the future)",
                          format=fmt, file=filename, location=location, field=fld)


# what XML 1.0 cannot hold at all, even escaped (its Char production): C0 controls but tab, line
# feed and carriage return, lone surrogates, U+FFFE and U+FFFF. Text runhub keeps may hold them
# (Smashrun JSON notes with "\u0001"); a writer puts U+FFFD in their place, or the file it
# writes is no XML any reader takes.
_NOT_XML = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """`text` as XML character data: escaped, and what XML cannot hold replaced."""
    return escape(_NOT_XML.sub("\ufffd", text))


def xml_attr(text: str) -> str:
    """`text` as a quoted XML attribute value, likewise."""
    return quoteattr(_NOT_XML.sub("\ufffd", text))


_DTD = re.compile(rb"<!DOCTYPE|<!ENTITY", re.I)


_LEAD_BEFORE_DECLARATION = re.compile(rb"(\xef\xbb\xbf)?([ \t\r\n]+)(<\?xml[^>]*\?>)")


def declaration_first(data: bytes) -> bytes:
    """The bytes with any whitespace before the XML declaration moved after it.

    Strava's exports (every TCX of an account export, some GPX) start with ten spaces before
    `<?xml`, which XML forbids and every strict parser refuses (GoldenCheetah #3149, trimmed in
    #3470; GPSBabel #371; sweatpy #99). Moving the newlines after the declaration keeps every
    line number of an error message right. The stored original keeps the bytes as they came."""
    m = _LEAD_BEFORE_DECLARATION.match(data)
    if m is None:
        return data
    return (m.group(1) or b"") + m.group(3) + b"\n" * m.group(2).count(b"\n") + data[m.end():]


def parse_xml(data: bytes, fmt: str, filename: str | None, max_bytes: int | None = None) -> Any:
    """Parse untrusted XML: no DTD, no entities (no billion laughs, no XXE), no network, size-capped.

    A DOCTYPE has no business in TCX or GPX, so any is refused outright rather than parsed safely.
    """
    from lxml import etree

    if max_bytes is not None and len(data) > max_bytes:
        raise FormatError(f"the file is {len(data)} bytes, over the {max_bytes} byte limit", format=fmt, file=filename)
    if _DTD.search(data[:65536]):
        raise FormatError("XML with a DOCTYPE or entity declarations is refused (entity expansion is unsafe)",
                          format=fmt, file=filename, location="prolog")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                             huge_tree=False, remove_comments=True, remove_pis=True, collect_ids=False)
    try:
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        line = getattr(exc, "lineno", None)
        raise FormatError(f"not well-formed XML ({exc.msg if hasattr(exc, 'msg') else exc})", format=fmt,
                          file=filename, location=f"line {line}" if line else None) from exc


def xml_float(text: str | None) -> float:
    """An XML element's number, NaN when absent, unparsable or not finite (a missing sample)."""
    if text is None:
        return math.nan
    try:
        v = float(text)
    except ValueError:
        return math.nan
    return v if math.isfinite(v) else math.nan


def set_stated_offset(a: Activity, text: str | None) -> None:
    """The activity's local time from the offset an ISO 8601 time of its file states (`text`, as
    written), else marked unstated for analysis.local_time. GPX and TCX times are UTC by their
    schemas, but some writers (pytrainer, OpenTracks, converters) write the local time with its
    offset, which says the run's local time as a FIT file's local_timestamp does. "Z" and +00:00
    state none: they are how UTC is written. Nor does an offset with seconds (+02:00:01, which
    Python reads): xsd:dateTime has none, no time zone uses one today, and the JSON and CSV exports
    could not carry it; the instants stand, the local time is inferred as for UTC."""
    try:
        offset = datetime.fromisoformat(text.strip()).utcoffset() if text else None
    except ValueError:
        offset = None
    if offset and not offset.total_seconds() % 60:
        a.utc_offset = int(offset.total_seconds())
    else:
        a.extras[OFFSET_SOURCE] = OFFSET_UNSTATED  # times are UTC; the local offset is not said


def parse_time(text: str | None) -> float | None:
    """ISO 8601 to Unix seconds; a time without offset is taken as UTC (TCX and GPX say UTC)."""
    if not text:
        return None
    text = text.strip()
    try:
        d = datetime.fromisoformat(text)
    except ValueError:
        return None
    if d.tzinfo is None:
        d = d.replace(tzinfo=UTC)
    return d.timestamp()


def localname(tag: Any) -> str:
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]


# ---------------------------------------------------------------------------- the fast path's checks
#
# lxml builds a Python proxy per element touched, about 1 us each; a 1-hour GPX or TCX has 40,000+
# elements. So libxml2 checks every file first (well_formed(): the same hardened parser, no tree,
# no callbacks) and a compiled pass then reads the now-known-good bytes (xml_scan); anything
# outside what that pass reads exactly sends the decoder to lxml's tree, as before.


def well_formed(data: bytes, fmt: str, filename: str | None, max_bytes: int | None = None) -> None:
    """The checks of parse_xml (size, no DTD, well-formed) with libxml2's parser and no tree."""
    from lxml import etree

    if max_bytes is not None and len(data) > max_bytes:
        raise FormatError(f"the file is {len(data)} bytes, over the {max_bytes} byte limit", format=fmt, file=filename)
    if _DTD.search(data[:65536]):
        raise FormatError("XML with a DOCTYPE or entity declarations is refused (entity expansion is unsafe)",
                          format=fmt, file=filename, location="prolog")

    class _NoTree:  # a parser target without start/end/data callbacks: libxml2 parses in C only
        def close(self) -> None:
            return None

    parser = etree.XMLParser(target=_NoTree(), resolve_entities=False, no_network=True, load_dtd=False,
                             dtd_validation=False, huge_tree=False)
    try:
        etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        line = getattr(exc, "lineno", None)
        raise FormatError(f"not well-formed XML ({exc.msg if hasattr(exc, 'msg') else exc})", format=fmt,
                          file=filename, location=f"line {line}" if line else None) from exc


_BOTH_AT_ONCE = 128 * 1024  # bytes from which well_formed_while checks on a second thread
_checker: tuple[int, ThreadPoolExecutor] | None = None  # (process id, pool)
T = TypeVar("T")


def well_formed_while(data: bytes, fmt: str, filename: str | None, max_bytes: int | None,
                      scan: Callable[[bytes], T]) -> T:
    """well_formed(data, ...) and scan(data) at once: scan's result, once the check has passed.

    Why: libxml2's check (~4 ms/MB) and the compiled scan (xml_scan, ~2 ms/MB) both release the
    GIL, so with the check on a second thread a decode waits for the longer of the two, not their
    sum (measured: a 1-hour GPX decodes in 8 ms instead of 14, the 2.3-hour one in 20 instead of
    31). The check's verdict always comes first: a refused file raises the check's FormatError
    whatever the scan made of its bytes (the scan is bounds-checked on any bytes, and what it
    read is used only after the check passes); a scan's own error is raised only for a file the
    check accepts. Small files, and one-CPU machines, run the two one after the other.
    """
    global _checker
    if max_bytes is not None and len(data) > max_bytes:  # refused before any work
        well_formed(data, fmt, filename, max_bytes)
    if len(data) < _BOTH_AT_ONCE or (os.cpu_count() or 1) < 2:
        well_formed(data, fmt, filename, max_bytes)
        return scan(data)
    if _checker is None or _checker[0] != os.getpid():  # a forked child has none of its parent's threads
        _checker = (os.getpid(), ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1),
                                                    thread_name_prefix="xml-check"))
    check = _checker[1].submit(well_formed, data, fmt, filename, max_bytes)
    try:
        result = scan(data)
    except Exception:
        check.result()  # the check's refusal first
        raise
    check.result()
    return result


def floats(values: np.ndarray) -> np.ndarray:
    """'S' array -> float64 as xml_float reads each value: blank, unparsable or not finite is NaN.

    numpy's cast reads the whole array in one call, correctly rounded as float() is; when a value
    is not one numpy reads (a word, an underscore), every value is read by xml_float instead.
    """
    out = np.full(len(values), np.nan)
    if len(values) == 0:
        return out
    filled = (np.ascontiguousarray(values).view(np.uint8).reshape(len(values), -1) > 32).any(axis=1)
    try:
        out[filled] = values[filled].astype(np.float64)
    except ValueError:
        out[filled] = [xml_float(v.decode("utf-8", "replace")) for v in values[filled]]
    out[~np.isfinite(out)] = np.nan
    return out


def running_spans(switches: list[tuple[float, bool]], start: float, running: bool,
                  floor: float = -math.inf) -> list[tuple[float, float]]:
    """(from, to) of each stretch a timer ran, from its switches in time order ((when, True) for a
    stop, (when, False) for a start); the last one may be open (to = inf). It runs from `start` when
    `running` until the first stop; a start never counts from before the previous stop or `floor`.
    A stop at or before its start leaves a stretch of no length: FIT's whole seconds put a resume
    and the final stop in one second, and the resume still ends a pause."""
    spans: list[tuple[float, float]] = []
    since: float | None = start if running else None
    for when, stop in switches:
        if stop and since is not None:
            spans.append((since, max(when, since)))
            since = None
        elif not stop and since is None:
            since = max(when, spans[-1][1] if spans else floor)
    if since is not None:
        spans.append((since, math.inf))
    return spans


def timer_channel(t: np.ndarray, spans: list[tuple[float, float]]) -> np.ndarray:
    """Seconds the timer had run at each sample, from the spans (start, end; end inf: still
    running) the source says it ran in (FIT's timer events, Apple's pause events): a pause rarely
    begins and ends on a sample, so whole sample intervals cannot give the device's own timer."""
    s0 = np.array([s for s, _ in spans])
    s1 = np.array([e for _, e in spans])
    done = np.concatenate(([0.0], np.cumsum(np.where(np.isfinite(s1), s1 - s0, 0.0))))
    k = np.searchsorted(s0, t, side="right") - 1  # the last span that began at or before each sample
    kk = np.maximum(k, 0)
    return np.where(k >= 0, done[kk] + np.minimum(t, s1[kk]) - s0[kk], 0.0)
