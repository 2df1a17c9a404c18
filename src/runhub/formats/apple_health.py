"""Apple Health's export: each workout of export.xml as an activity.

The Health app exports `export.xml` (often hundreds of MB: every sample the phone and the watch
recorded, then the workouts) and, in `workout-routes/`, a GPX file for each workout with a
route. A runner leaving an Apple Watch has nothing else: no FIT, no TCX. A workout is read here
with what the export holds of it:
- its type (HKWorkoutActivityType..., HKIndoorWorkout: a treadmill run, a trainer ride), its
  source (the watch, or the app that wrote it), its totals and statistics as `device_summary`,
  its time zone (HKTimeZone) where the export names one;
- its route: the points of the GPX file its WorkoutRoute's FileReference names (positions,
  elevation, speed), as the GPX decoder reads them;
- the samples recorded during it: the Records of heart rate, of the distance type of its sport,
  of running or cycling power and of cycling cadence, from one source (the workout's own, its
  watch), each at its own time: the samples of the route and of the records are merged on one
  time axis, none resampled (a channel is NaN where it has no sample);
- a run's or a ride's speed (where it has no route: the route's speed is the GPS's); a run's
  stride length, vertical oscillation and ground contact time, under the FIT record fields'
  names and units (step_length, vertical_oscillation in mm, stance_time in ms), and its cadence
  from the step counts: each record's steps over its interval, as one leg's strides a minute
  (Smashrun's cadence);
- its pauses: the Pause/Resume (and MotionPaused/MotionResumed) events, as the pause indexes and
  as its timer (the watch goes on recording while paused); its laps: the segments the runner
  marked (Segment events).
Left out: a pool's lengths (Lap events) and strokes, the daily activity summaries.

The file is read as a stream by expat, hardened by hand as defusedxml does it: the internal DTD
subset Apple writes (ELEMENT and ATTLIST declarations) is allowed, any ENTITY declaration refuses
the file (no entity expansion, so no billion laughs) and no external entity is ever read. The
dates are parsed by hand (millions of records: strptime would take seconds more); Apple writes
them as "2024-04-04 06:30:00 +0200".
"""

from __future__ import annotations

import calendar
import functools
import math
import re
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import IO, Any
from xml.parsers import expat

import numpy as np

from runhub import zones
from runhub.activity import OFFSET_SOURCE, OFFSET_UNSTATED, Activity, Lap, Summary
from runhub.formats import FormatError
from runhub.formats._common import (
    clock_since,
    device_calories,
    laps_ending_at,
    mask_impossible,
    running_spans,
    timer_channel,
)

FMT = "apple_health"
HEART_RATE = "HKQuantityTypeIdentifierHeartRate"
STEPS = "HKQuantityTypeIdentifierStepCount"  # a count over an interval: the running cadence
PER_MINUTE = {"count/min": 1.0}
WATTS = {"W": 1.0}
SPEEDS = {"m/s": 1.0, "km/hr": 1 / 3.6, "km/h": 1 / 3.6, "mi/hr": 0.44704, "mph": 0.44704}
# the channels read from records at an instant, by the sport's family ("*": any): the record type
# and the units it may come in, each with its factor to the channel's unit (a value in another is
# left out). The running dynamics keep the FIT record fields' names and units (mm, ms), so that a
# FIT export writes them where a Garmin writes its own. Units: as the Health app writes them
# (heart rate, power: the same in every locale), and the others a locale may choose.
SAMPLED: dict[str, dict[str, tuple[str, dict[str, float]]]] = {
    "heart_rate": {"*": (HEART_RATE, PER_MINUTE)},
    "power": {"running": ("HKQuantityTypeIdentifierRunningPower", WATTS),
              "walking": ("HKQuantityTypeIdentifierRunningPower", WATTS),
              "cycling": ("HKQuantityTypeIdentifierCyclingPower", WATTS)},
    "cadence": {"cycling": ("HKQuantityTypeIdentifierCyclingCadence", PER_MINUTE)},
    "speed": {"running": ("HKQuantityTypeIdentifierRunningSpeed", SPEEDS),
              "cycling": ("HKQuantityTypeIdentifierCyclingSpeed", SPEEDS)},
    "step_length": {"running": ("HKQuantityTypeIdentifierRunningStrideLength",  # Apple's "stride": one step
                                {"m": 1000.0, "cm": 10.0, "mm": 1.0, "ft": 304.8, "in": 25.4})},
    "vertical_oscillation": {"running": ("HKQuantityTypeIdentifierRunningVerticalOscillation",
                                         {"cm": 10.0, "mm": 1.0, "m": 1000.0, "in": 25.4})},
    "stance_time": {"running": ("HKQuantityTypeIdentifierRunningGroundContactTime", {"ms": 1.0, "s": 1000.0})},
}
# the distance records of a workout, by its sport's family
DISTANCE_TYPES = {
    "running": "HKQuantityTypeIdentifierDistanceWalkingRunning",
    "walking": "HKQuantityTypeIdentifierDistanceWalkingRunning",
    "hiking": "HKQuantityTypeIdentifierDistanceWalkingRunning",
    "cycling": "HKQuantityTypeIdentifierDistanceCycling",
    "swimming": "HKQuantityTypeIdentifierDistanceSwimming",
}
STEP_FAMILIES = ("running", "walking", "hiking")  # a cadence from the step counts (cycling has its own)
# HKWorkoutActivityType... -> (runhub's sport, its indoor variant)
SPORTS: dict[str, tuple[str, str]] = {
    "Running": ("running", "running.treadmill"),
    "Walking": ("walking", "walking"),
    "Hiking": ("hiking", "hiking"),
    "Cycling": ("cycling", "cycling.trainer"),
    "Swimming": ("swimming", "swimming.pool"),
    "Rowing": ("rowing", "rowing.indoor"),
    "CrossCountrySkiing": ("skiing.cross_country", "skiing.cross_country"),
    "DownhillSkiing": ("skiing.alpine", "skiing.alpine"),
}
PAUSE = {"HKWorkoutEventTypePause", "HKWorkoutEventTypeMotionPaused"}
RESUME = {"HKWorkoutEventTypeResume", "HKWorkoutEventTypeMotionResumed"}
SEGMENT = "HKWorkoutEventTypeSegment"  # a segment the runner marked (a double tap on the watch)
# units Apple writes distances and durations in -> metres, seconds
METRES = {"km": 1000.0, "m": 1.0, "mi": 1609.344, "yd": 0.9144, "ft": 0.3048, "cm": 0.01}
# every record type read, and the factor of each unit it may come in
FACTORS: dict[str, dict[str, float]] = {
    **{kind: factors for by_family in SAMPLED.values() for kind, factors in by_family.values()},
    **{kind: METRES for kind in DISTANCE_TYPES.values()},
    STEPS: {"count": 1.0},
}
SECONDS = {"min": 60.0, "s": 1.0, "hr": 3600.0, "h": 3600.0, "ms": 0.001}
KCAL = {"kcal": 1.0, "Cal": 1.0, "kJ": 1 / 4.184}
_DATE = re.compile(r"(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.\d+)? ?([+-])(\d\d):?(\d\d)$")
_ROOT = re.compile(rb"<!DOCTYPE\s+HealthData\b|<HealthData\b")
CHUNK = 1 << 20


def is_export(head: bytes) -> bool:
    """Whether these first bytes are those of Apple Health's export.xml."""
    return _ROOT.search(head) is not None


def parse_date(text: str) -> tuple[float, int]:
    """(Unix seconds, UTC offset in seconds) of Apple's "2024-04-04 06:30:00 +0200"."""
    if len(text) == 25 and text.isascii() and text[20] in "+-" and text[4] + text[7] + text[13] + text[16] == "--::":
        digits = text[:4] + text[5:7] + text[8:10] + text[11:13] + text[14:16] + text[17:19] + text[21:25]
        if digits.isdigit():  # the layout Apple writes, read by slices (a third of the regex's time)
            offset = (int(text[21:23]) * 3600 + int(text[23:25]) * 60) * (-1 if text[20] == "-" else 1)
            clock = int(text[11:13]) * 3600 + int(text[14:16]) * 60 + int(text[17:19])
            return _day(text[:10]) * 86400 + clock - offset, offset
    m = _DATE.match(text.strip())
    if m is None:
        raise ValueError(f"not a date as Apple writes them: {text!r}")
    y, mo, d, h, mi, s = (int(g) for g in m.group(1, 2, 3, 4, 5, 6))
    offset = (int(m.group(8)) * 3600 + int(m.group(9)) * 60) * (-1 if m.group(7) == "-" else 1)
    return calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0)) - offset, offset


@functools.lru_cache(maxsize=1024)
def _day(text: str) -> int:
    """Days from 1970-01-01 to the date "2024-04-04" (a record's date repeats thousands of times)."""
    return date(int(text[:4]), int(text[5:7]), int(text[8:10])).toordinal() - _EPOCH_DAY


_EPOCH_DAY = date(1970, 1, 1).toordinal()


@dataclass
class Workout:
    """One <Workout> element: its attributes, metadata, events, statistics, route files, and its
    bytes as the file holds them (the activity's original)."""

    attrs: dict[str, str]
    metadata: dict[str, str] = field(default_factory=dict)
    events: list[tuple[str, float, float]] = field(default_factory=list)  # (type, Unix seconds, duration s)
    statistics: dict[str, dict[str, str]] = field(default_factory=dict)
    routes: list[str] = field(default_factory=list)
    raw: bytes = b""
    at: tuple[int, int] = (-1, -1)  # byte offsets of its start tag and of its end tag (equal: <Workout/>)


class _Samples:
    """One record type's samples: (start, end, value, source) in file order, compactly."""

    def __init__(self) -> None:
        self.start, self.end, self.value = array("d"), array("d"), array("d")
        self.source: list[int] = []  # index into _Reader.sources

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        order = np.argsort(np.frombuffer(self.end, dtype=np.float64), kind="stable")
        return (np.frombuffer(self.start, dtype=np.float64)[order], np.frombuffer(self.end, dtype=np.float64)[order],
                np.frombuffer(self.value, dtype=np.float64)[order], np.asarray(self.source, dtype=np.int64)[order])


class _Reader:
    """expat's handlers: the workouts, and the samples of the record types a workout reads."""

    def __init__(self, kept_types: dict[str, dict[str, float]]) -> None:
        self.kept = kept_types  # record type -> its units' factors
        self.samples: dict[str, _Samples] = {k: _Samples() for k in kept_types}
        self.sources: dict[str, int] = {}
        self.workouts: list[Workout] = []
        self.current: Workout | None = None
        self.inside: list[str] = []  # the open elements inside the open workout
        self.root_seen = False
        self.parser = expat.ParserCreate()
        p = self.parser
        p.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        p.EntityDeclHandler = self._entity
        p.UnparsedEntityDeclHandler = self._entity
        p.ExternalEntityRefHandler = self._external
        p.StartElementHandler = self._start
        p.EndElementHandler = self._end

    def _entity(self, *_args: Any) -> None:
        raise FormatError("an XML entity declaration: refused (entity expansion is unsafe)", format=FMT,
                          location=f"line {self.parser.CurrentLineNumber}")

    def _external(self, *_args: Any) -> int:
        raise FormatError("an external entity: refused (no file or network is read)", format=FMT,
                          location=f"line {self.parser.CurrentLineNumber}")

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        if name == "Record" and self.current is None:
            kind = attrs.get("type")
            if kind in self.kept:
                try:
                    start, end = attrs["startDate"], attrs["endDate"]
                    t0 = parse_date(start)[0]
                    t1 = t0 if end == start else parse_date(end)[0]  # a heart rate's are one instant
                    v = float(attrs["value"])
                except (KeyError, ValueError):
                    return  # a record without a readable time or value says nothing
                v *= self.kept[kind].get(attrs.get("unit", ""), math.nan)  # another unit: left out (NaN)
                s = self.samples[kind]
                s.start.append(t0)
                s.end.append(t1)
                s.value.append(v)
                s.source.append(self.sources.setdefault(attrs.get("sourceName", ""), len(self.sources)))
            return
        if name == "Workout" and self.current is None:
            self.current = Workout(dict(attrs), at=(self.parser.CurrentByteIndex, -1))
            self.inside = []
            return
        w = self.current
        if w is None:
            if name == "HealthData":
                self.root_seen = True
            return
        parent = self.inside[-1] if self.inside else "Workout"
        self.inside.append(name)
        if parent == "WorkoutRoute" and name == "FileReference" and attrs.get("path"):
            w.routes.append(attrs["path"])
        if parent != "Workout":
            return  # a WorkoutActivity's own (iOS 16: one part of a multi-sport workout), a route's metadata
        if name == "MetadataEntry" and "key" in attrs:
            w.metadata.setdefault(attrs["key"], attrs.get("value", ""))
        elif name == "WorkoutEvent" and "date" in attrs:
            try:
                duration = _quantity(attrs.get("duration"), attrs.get("durationUnit"), SECONDS) or 0.0
                w.events.append((attrs.get("type", ""), parse_date(attrs["date"])[0], duration))
            except ValueError:
                pass
        elif name == "WorkoutStatistics" and "type" in attrs:
            w.statistics[attrs["type"]] = dict(attrs)

    def _end(self, name: str) -> None:
        if self.inside:
            self.inside.pop()
        elif name == "Workout" and self.current is not None:
            self.current.at = (self.current.at[0], self.parser.CurrentByteIndex)
            self.workouts.append(self.current)
            self.current = None

    def read(self, stream: IO[bytes]) -> None:
        """Feed the file through in chunks, keeping the bytes of the open workout (from its start
        tag on) so that each workout's own bytes are at hand when it ends."""
        keep = bytearray()
        keep_at = 0  # the offset of keep[0] in the file
        done = 0
        while True:
            chunk = stream.read(CHUNK)
            keep += chunk
            try:
                self.parser.Parse(chunk, not chunk)
            except expat.ExpatError as exc:
                raise FormatError(f"not well-formed XML ({expat.ErrorString(exc.code)})", format=FMT,
                                  location=f"line {exc.lineno}") from exc
            except LookupError as exc:  # the declaration names an encoding Python does not know
                raise FormatError(f"an XML declaration of an unknown encoding ({exc})", format=FMT,
                                  location="line 1") from exc
            for w in self.workouts[done:]:
                start, end = w.at[0] - keep_at, w.at[1] - keep_at
                close = keep.find(b">", end)  # the end tag's, or the start tag's own "/>"
                w.raw = bytes(keep[start:close + 1])
            done = len(self.workouts)
            if not chunk:
                return
            cut = len(keep) if self.current is None else self.current.at[0] - keep_at
            del keep[:cut]
            keep_at += cut


def read(stream: IO[bytes], filename: str | None = None) -> tuple[list[Workout], dict[str, tuple[np.ndarray, ...]],
                                                                    list[str]]:
    """(the workouts, the kept record types' samples as (start, end, value, source index) sorted by
    end, the source names by index) of an export.xml read from `stream`."""
    reader = _Reader(FACTORS)
    try:
        reader.read(stream)
    except FormatError as exc:  # raised where the file is not known, inside expat's handlers
        raise FormatError(exc.message, format=FMT, file=filename, location=exc.location) from exc
    if not reader.root_seen:
        raise FormatError("not Apple Health's export.xml (no <HealthData>)", format=FMT, file=filename)
    return reader.workouts, {k: s.arrays() for k, s in reader.samples.items()}, list(reader.sources)


def _sport(w: Workout) -> str:
    kind = w.attrs.get("workoutActivityType", "").removeprefix("HKWorkoutActivityType")
    if kind == "Swimming":
        where = w.metadata.get("HKSwimmingLocationType")
        return {"1": "swimming.pool", "2": "swimming.open_water"}.get(where or "", "swimming")
    outdoor, indoor = SPORTS.get(kind, ("generic", "generic"))
    return indoor if w.metadata.get("HKIndoorWorkout") == "1" else outdoor


def _quantity(value: str | None, unit: str | None, scale: dict[str, float]) -> float | None:
    """A value in one of `scale`'s units, converted; None when absent, unreadable or in another unit."""
    if value is None:
        return None
    try:
        v = float(value)
    except ValueError:
        return None
    factor = scale.get((unit or "").strip())
    return v * factor if factor is not None and math.isfinite(v) else None


def _metadata_quantity(text: str | None, scale: dict[str, float]) -> float | None:
    """A metadata value as Apple writes it, "4500 cm", converted."""
    value, _, unit = (text or "").partition(" ")
    return _quantity(value, unit, scale)


def _device_summary(w: Workout) -> dict[str, Any]:
    """Apple's own totals of the workout: its attributes (but the device's description, which
    holds a memory address that changes from export to export), statistics and metadata, as written."""
    out: dict[str, Any] = {k: v for k, v in w.attrs.items() if k != "device"}
    for kind, stat in w.statistics.items():
        out[kind.removeprefix("HKQuantityTypeIdentifier")] = {k: v for k, v in stat.items() if k != "type"}
    out["metadata"] = dict(w.metadata)
    return out


def _distance_total(w: Workout, family: str) -> float | None:
    total = _quantity(w.attrs.get("totalDistance"), w.attrs.get("totalDistanceUnit"), METRES)
    stat = w.statistics.get(DISTANCE_TYPES.get(family, ""))
    if total is None and stat is not None:
        total = _quantity(stat.get("sum"), stat.get("unit"), METRES)
    return total


def _in_window(samples: tuple[np.ndarray, ...] | None, source: int | None, t0: float, t1: float,
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(starts, ends, values) of the samples lying within [t0, t1] from one source: the workout's
    own when it has any there, else the one with the most there (a phone's and a watch's records
    of one run are never mixed: two sources' distances would add up to twice the run)."""
    if samples is None:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    start, end, value, src = samples
    lo, hi = np.searchsorted(end, t0, "left"), np.searchsorted(end, t1, "right")
    start, end, value, src = start[lo:hi], end[lo:hi], value[lo:hi], src[lo:hi]
    inside = (start >= t0) & np.isfinite(value)
    if not inside.any():
        return np.zeros(0), np.zeros(0), np.zeros(0)
    if source is None or not (inside & (src == source)).any():
        source = int(np.bincount(src[inside]).argmax())  # the lowest index on a tie: the first in the file
    inside &= src == source
    return start[inside], end[inside], value[inside]


def _merged(series: dict[str, tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Every series' samples on one time axis (the union of their times): each channel holds its
    own values at its own times (the last of one time) and NaN at the others'."""
    times = np.unique(np.concatenate([t for t, _ in series.values()])) if series else np.zeros(0)
    channels: dict[str, np.ndarray] = {}
    for name, (t, v) in series.items():
        if not len(t):
            continue
        col = np.full(len(times), np.nan)
        col[np.searchsorted(times, t)] = v  # in time order: a later value of one time overwrites
        channels[name] = col
    return times, channels


def activities(workouts: list[Workout], samples: dict[str, tuple[np.ndarray, ...]], sources: list[str],
               route: Callable[[str], bytes | None], filename: str | None = None,
               ) -> Iterator[tuple[Workout, Activity | FormatError]]:
    """Each workout and its Activity (or, for a workout that cannot be read, why): `route` gives the
    bytes of a route file by the path its FileReference names (None: not found)."""
    from runhub.formats import gpx

    source_index = {name: k for k, name in enumerate(sources)}
    for k, w in enumerate(workouts):
        where = f"Workout {k + 1}"
        try:
            t0, date_offset = parse_date(w.attrs.get("startDate", ""))
            t1, _ = parse_date(w.attrs.get("endDate", ""))
        except ValueError as exc:
            yield w, FormatError(str(exc), format=FMT, file=filename, location=where, field="startDate")
            continue
        sport = _sport(w)
        family = sport.split(".")[0]
        source = source_index.get(w.attrs.get("sourceName", ""))
        series: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for path in w.routes[:1]:
            data = route(path)
            if data is None:
                continue
            try:
                (r,) = gpx.decode(data, filename=path)
            except FormatError:
                continue  # a route that cannot be read: the workout keeps its samples
            rt = r.start.timestamp() + r.channels["time"]
            for name in ("latitude", "longitude", "altitude", "speed", "distance"):
                if name in r.channels:
                    series[name] = (rt, r.channels[name])
        for channel, by_family in SAMPLED.items():
            kind = (by_family.get(family) or by_family.get("*") or ("", {}))[0]
            _, at, values = _in_window(samples.get(kind), source, t0, t1)
            if len(values) and channel not in series:  # the route's speed, where it has one
                series[channel] = (at, values)
        if family in STEP_FAMILIES:  # steps over each record's interval, as one leg's strides a minute
            s0, s1, steps = _in_window(samples.get(STEPS), source, t0, t1)
            timed = s1 > s0
            if timed.any():
                series["cadence"] = (s1[timed], steps[timed] / (s1[timed] - s0[timed]) * 30.0)
        d0, d1, dv = _in_window(samples.get(DISTANCE_TYPES.get(family, "")), source, t0, t1)
        forward = dv >= 0  # a distance covered cannot be negative: such a record says nothing
        d0, d1, dv = d0[forward], d1[forward], dv[forward]
        if len(dv):  # each record: the distance covered from its start to its end (the route's, computed, yields)
            series["distance"] = (np.concatenate((d0[:1], d1)), np.concatenate(([0.0], np.cumsum(dv))))
        times, channels = _merged(series)
        start = float(times[0]) if len(times) else t0
        a = Activity(start=datetime.fromtimestamp(start, UTC), sport=sport, trainer=sport == "cycling.trainer")
        mask_impossible(channels, a.extras)  # as every decoder: a sample no sensor can read is missing
        zone = w.metadata.get("HKTimeZone")
        named = zones.zone(zone)
        offset = a.start.astimezone(named).utcoffset() if named is not None else None
        if offset is not None:
            a.timezone, a.utc_offset = zone, int(offset.total_seconds())
        else:  # the dates carry the offset of the phone's zone at each date: a position says better
            a.utc_offset = date_offset
            a.extras[OFFSET_SOURCE] = OFFSET_UNSTATED
        if len(times):
            a.channels = {"time": clock_since(times, start), **channels}
            a.pauses = _pauses(w.events, times)
            a.laps = _laps(w.events, times)
            # the watch says when it paused: its timer, exactly (samples go on while it is paused),
            # and no pause is to be guessed from a gap in the samples
            a.extras["pause_source"] = "apple health workout events"
            first = float(times[0])  # the workout runs from its first sample on
            switches = [(t, kind in PAUSE) for kind, t, _ in sorted(w.events, key=lambda e: e[1])
                        if kind in PAUSE or kind in RESUME]
            spans = running_spans(switches, first, running=True, floor=first)
            if spans != [(first, math.inf)]:
                a.channels["timer"] = timer_channel(times, spans)
        timer = _quantity(w.attrs.get("duration"), w.attrs.get("durationUnit"), SECONDS)
        a.summary = Summary(distance=_distance_total(w, family), elapsed_time=max(t1 - t0, 0.0), timer_time=timer)
        a.device_summary = _device_summary(w)
        a.device_name = (w.attrs.get("sourceName") or "").strip()[:200] or None
        a.app_version = w.attrs.get("sourceVersion")
        energy = w.statistics.get("HKQuantityTypeIdentifierActiveEnergyBurned", {})  # where iOS 16 writes it
        burned = _quantity(w.attrs.get("totalEnergyBurned", energy.get("sum")),
                           w.attrs.get("totalEnergyBurnedUnit", energy.get("unit")), KCAL)
        a.calories = device_calories(burned, a.extras)
        ascent = _metadata_quantity(w.metadata.get("HKElevationAscended"), METRES)
        if ascent is not None:
            a.device_summary["elevation_gain_m"] = ascent
        a.extras["apple_health"] = {"workout": k + 1, "route": w.routes[0] if w.routes else None}
        yield w, a


def _laps(events: list[tuple[str, float, float]], times: np.ndarray) -> list[Lap]:
    """The segments the runner marked, as laps: a lap ends where a segment ends, the last one with
    the run; none when no segment ends inside it (Apple's Lap events, a pool's lengths, are not laps)."""
    first, last = float(times[0]), float(times[-1])
    ends = sorted({t + d - first for kind, t, d in events if kind == SEGMENT and first < t + d < last})
    if not ends:
        return []
    ends.append(last - first)
    return laps_ending_at(ends, times - first)


def _pauses(events: list[tuple[str, float, float]], times: np.ndarray) -> list[int]:
    """The samples that follow a pause: the first at or after each resume that ends a pause."""
    out: set[int] = set()
    paused = False
    for kind, t, _ in sorted(events, key=lambda e: e[1]):
        if kind in PAUSE:
            paused = True
        elif kind in RESUME and paused:
            paused = False
            i = int(np.searchsorted(times, t, "left"))
            if 0 < i < len(times):
                out.add(i)
    return sorted(out)

