"""The one canonical in-memory activity, shared by every format, analysis and dialect.

Channels are the samples exactly as recorded: equal-length float64 arrays, SI units, NaN for a
missing sample. Nothing here resamples, interpolates or fills. `validate()` rejects what cannot
be a recording, naming the field and the index, so every entry path fails the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

import numpy as np

# Internal channel names and their SI units (DESIGN.md section 3). A source may carry more
# (developer fields): those are kept under their declared names and only length-checked.
CHANNEL_UNITS: dict[str, str] = {
    "time": "s",  # seconds since start, clock time including pauses
    "timer": "s",  # seconds excluding pauses, when the source records it (Smashrun `duration`)
    "distance": "m",
    "latitude": "deg",
    "longitude": "deg",
    "altitude": "m",
    "heart_rate": "bpm",
    "cadence": "rpm",  # one leg for running, as Smashrun
    "power": "W",
    "form_power": "W",
    "temperature": "degC",
    "speed": "m/s",
    "gps_accuracy": "m",
    "satellites": "count",
    "smo2": "%",
    "core_temperature": "degC",
    "respiration_rate": "1/min",
}

# Plausibility bounds for recorded samples: anything outside cannot come from a real recording
# on Earth (and is far outside any sport's records), so it is refused rather than stored.
CHANNEL_BOUNDS: dict[str, tuple[float, float]] = {
    "time": (0.0, 60 * 86400.0),  # 60 days: longer is no single activity
    "timer": (0.0, 60 * 86400.0),
    "distance": (0.0, 2.0e7),  # half the equator
    "latitude": (-90.0, 90.0),
    "longitude": (-180.0, 180.0),
    "altitude": (-500.0, 9000.0),
    "heart_rate": (20.0, 260.0),
    "cadence": (0.0, 300.0),
    "power": (0.0, 3000.0),
    "form_power": (0.0, 1000.0),
    "temperature": (-60.0, 70.0),
    "speed": (0.0, 150.0),
    "gps_accuracy": (0.0, 10000.0),
    "satellites": (0.0, 100.0),
    "smo2": (0.0, 100.0),
    "core_temperature": (25.0, 45.0),
    "respiration_rate": (0.0, 120.0),
}

LAP_TYPES = ("general", "work", "recovery", "warmup", "cooldown")

# A gap in distance of more than this (metres) counts as going backwards; devices write
# sub-millimetre float noise into cumulative distance, which is not a real step back.
# `Activity.extras[OFFSET_SOURCE]` is OFFSET_UNSTATED when the file holds no local time (GPX and TCX
# times in UTC, "Z"; a FIT file without its activity message's local_timestamp): utc_offset 0
# is then a placeholder that analysis.local_time replaces from the position where there is one.
OFFSET_SOURCE = "utc_offset_source"
OFFSET_UNSTATED = "none"
# Smashrun's limit on an activity's notes; a longer text from a file is cut to it, the whole kept in
# extras[NOTES_FULL] (set_notes)
NOTES_MAX = 800
NOTES_FULL = "notes_full"
NAME_MAX = 255  # activities.name is VARCHAR(255); a longer title from a file is cut (set_name)
NAME_FULL = "name_full"
# extras[EDITED]: the Smashrun PATCH fields changed since the import (their values outlive a
# reanalysis); extras[REANALYSED]: when `runhub reanalyse` last rewrote the run (ISO time)
EDITED = "edited"
REANALYSED = "reanalysed"
EXTERNAL_ID_MAX = 255  # activities.external_id is VARCHAR(255)
CALORIES_MAX = 100_000  # a week of non-stop ultra running burns some 80,000 kcal
DISTANCE_BACKSTEP_TOLERANCE_M = 0.01
# RR intervals in seconds: FIT's hrv field holds whole milliseconds up to 0xFFFE (0xFFFF: invalid);
# no heart beats faster than 1 ms apart, so nothing shorter is lost by FIT's resolution
RR_MIN, RR_MAX = 0.001, 65.534
# A pool swim's lengths as the watch counted them (FIT `length` messages, rests included): one
# column per quantity, an entry per length, and its bounds (NaN: not recorded; `start` is required).
# start and end are clock seconds since the activity's start (end: when the watch logged it);
# stroke is FIT's swim_stroke code (0 freestyle, 1 backstroke, 2 breaststroke, 3 butterfly, 4 drill,
# 5 mixed, 6 individual medley ...); active is 1 for a swum length, 0 for a rest (an idle length).
LENGTH_BOUNDS: dict[str, tuple[float, float]] = {
    "start": (0.0, 60 * 86400.0),
    "end": (0.0, 60 * 86400.0),
    "elapsed": (0.0, 86400.0),
    "timer": (0.0, 86400.0),
    "strokes": (0.0, 65534.0),
    "stroke": (0.0, 254.0),
    "active": (0.0, 1.0),
    "cadence": (0.0, 254.0),  # strokes per minute
    "speed": (0.0, 65.534),  # m/s
    "calories": (0.0, 65534.0),  # kcal
}


class ActivityError(ValueError):
    """A recording that cannot be true; `field` and `index` say where (index None: whole field)."""

    def __init__(self, message: str, field: str | None = None, index: int | None = None) -> None:
        self.field = field
        self.index = index
        where = ""
        if field is not None:
            where = f"{field}[{index}]" if index is not None else field
        super().__init__(f"{where}: {message}" if where else message)
        self.message = message

    def to_dict(self) -> dict[str, Any]:
        return {"message": self.message, "field": self.field, "index": self.index}


@dataclass
class Lap:
    """End of one lap: the index of its last sample (inclusive), and where it ends in time.

    `end_time` is clock seconds since start; `end_timer` excludes pauses; `end_distance` is in
    metres. `basis` says which of them the source defined the lap by, so an encoder can write
    it back the way it came. A lap of a manual entry defined by distance has no end time.
    """

    end_time: float | None = None
    end_index: int | None = None
    end_timer: float | None = None
    end_distance: float | None = None
    lap_type: str = "general"
    trigger: str | None = None
    basis: str = "time"  # time | timer | distance
    totals: dict[str, Any] = field(default_factory=dict)  # the source's own lap totals, kept


@dataclass
class Summary:
    """Per-activity figures. Derived from channels at ingest (analysis.summary); for a manual
    entry or a summary-only file they are what the source declared. Units SI."""

    distance: float | None = None  # m
    elapsed_time: float | None = None  # s, clock
    timer_time: float | None = None  # s, pauses excluded
    moving_time: float | None = None  # s
    average_speed: float | None = None  # m/s, distance / moving time
    max_speed: float | None = None
    heart_rate_average: float | None = None
    heart_rate_min: float | None = None
    heart_rate_max: float | None = None
    cadence_average: float | None = None
    cadence_min: float | None = None
    cadence_max: float | None = None
    power_average: float | None = None
    power_max: float | None = None
    temperature_average: float | None = None
    elevation_gain: float | None = None
    elevation_loss: float | None = None
    elevation_min: float | None = None
    elevation_max: float | None = None
    start_latitude: float | None = None
    start_longitude: float | None = None
    end_latitude: float | None = None
    end_longitude: float | None = None
    bbox: tuple[float, float, float, float] | None = None  # min_lat, min_lon, max_lat, max_lon

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Summary:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if values.get("bbox") is not None:
            values["bbox"] = tuple(values["bbox"])
        return cls(**values)


@dataclass
class Activity:
    """One recorded (or manually entered) activity."""

    start: datetime  # UTC, aware
    sport: str = "running"  # internal taxonomy code, see sports.py
    utc_offset: int = 0  # seconds to add to UTC for local time
    timezone: str | None = None  # IANA zone where known
    channels: dict[str, np.ndarray] = field(default_factory=dict)
    pauses: list[int] = field(default_factory=list)  # indexes of samples that follow a pause
    laps: list[Lap] = field(default_factory=list)
    summary: Summary = field(default_factory=Summary)
    device_summary: dict[str, Any] | None = None  # the source's own session totals, for comparison
    # the heart's beat-to-beat (RR) intervals in seconds, in order, as recorded (FIT hrv): a series at
    # its own rate without timestamps, kept beside the channels, never resampled onto them
    rr_intervals: np.ndarray | None = None
    pool_lengths: dict[str, np.ndarray] = field(default_factory=dict)  # columns of LENGTH_BOUNDS

    # identity (set by the store)
    id: int | None = None
    owner_id: int | None = None
    external_id: str | None = None
    client_id: str | None = None

    # what people write and what sources carry besides samples
    name: str | None = None
    notes: str | None = None
    how_felt: str | None = None
    terrain: str | None = None
    weather_type: str | None = None
    humidity: float | None = None  # %
    wind_speed: float | None = None  # m/s
    body_weight: float | None = None  # kg
    calories: float | None = None  # kcal
    device_type: str | None = None
    device_name: str | None = None
    app_version: str | None = None
    songs: list[dict[str, Any]] = field(default_factory=list)
    heart_rate_recovery: list[dict[str, float]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    private: bool = False
    commute: bool = False
    trainer: bool = False
    manual: bool = False
    is_race: bool = False
    app_metadata: dict[str, Any] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)  # anything else a source carried

    @property
    def n_samples(self) -> int:
        t = self.channels.get("time")
        return 0 if t is None else len(t)

    @property
    def has_streams(self) -> bool:
        return self.n_samples > 0

    @property
    def has_gps(self) -> bool:
        lat = self.channels.get("latitude")
        return lat is not None and bool(np.isfinite(lat).any())

    @property
    def local_start(self) -> datetime:
        from datetime import timedelta, timezone

        return self.start.astimezone(timezone(timedelta(seconds=self.utc_offset)))

    def channel(self, name: str) -> np.ndarray | None:
        return self.channels.get(name)

    def validate(self) -> Activity:
        """Raise ActivityError on anything that cannot be a recording; return self when fine."""
        validate(self)
        return self


def set_notes(a: Activity, text: str | None) -> None:
    """Notes from a file or an export, which may say more than the limit: cut, the whole kept."""
    _set_cut(a, "notes", text, NOTES_MAX, NOTES_FULL)


def set_name(a: Activity, text: str | None) -> None:
    """A title from a file or an export list, which may be longer than a title is kept: cut, the
    whole kept."""
    _set_cut(a, "name", text, NAME_MAX, NAME_FULL)


def _set_cut(a: Activity, attr: str, text: str | None, most: int, full_key: str) -> None:
    setattr(a, attr, text)
    if text and len(text) > most:
        a.extras[full_key] = text
        setattr(a, attr, text[:most])


def validate(a: Activity) -> None:
    if a.start.tzinfo is None:
        raise ActivityError("start time must carry a UTC offset", "start")
    if not 1900 <= a.start.year <= datetime.now(UTC).year + 1:
        raise ActivityError(f"start year {a.start.year} is not plausible", "start")
    if abs(a.utc_offset) > 14 * 3600:
        raise ActivityError(f"UTC offset {a.utc_offset} s is outside +-14 h", "utc_offset")
    if a.notes is not None and len(a.notes) > NOTES_MAX:
        raise ActivityError(f"notes are {len(a.notes)} characters, at most {NOTES_MAX}", "notes")
    if a.name is not None and len(a.name) > NAME_MAX:
        raise ActivityError(f"the name is {len(a.name)} characters, at most {NAME_MAX}", "name")
    for attr in ("name", "external_id"):  # columns of their own: PostgreSQL's text holds no NUL
        if "\x00" in (getattr(a, attr) or ""):
            raise ActivityError("contains a NUL character", attr)
    _validate_channels(a)
    n = a.n_samples
    _validate_pauses(a.pauses, n)
    _validate_laps(a.laps, n)
    _validate_rr(a.rr_intervals, n)
    _validate_lengths(a.pool_lengths, n)
    validate_summary(a)
    if a.humidity is not None and not 0 <= a.humidity <= 100:
        raise ActivityError(f"{a.humidity} is outside 0..100", "humidity")
    if a.wind_speed is not None and not 0 <= a.wind_speed <= 120:
        raise ActivityError(f"{a.wind_speed} m/s is outside 0..120", "wind_speed")
    if a.body_weight is not None and not 20 <= a.body_weight <= 400:
        raise ActivityError(f"{a.body_weight} kg is outside 20..400", "body_weight")
    if a.calories is not None and not 0 <= a.calories <= CALORIES_MAX:
        raise ActivityError(f"{a.calories} kcal is outside 0..{CALORIES_MAX}", "calories")
    if a.external_id is not None and len(a.external_id) > EXTERNAL_ID_MAX:
        raise ActivityError(f"is {len(a.external_id)} characters, at most {EXTERNAL_ID_MAX}", "external_id")


def validate_summary(a: Activity) -> None:
    """The summary's figures in range: after analysis recomputes them, only they can have changed."""
    check_summary(a.summary)


# What a summary's figures can be (`check_summary`).
SUMMARY_RANGES: dict[str, tuple[float, float]] = {
    "distance": (0.0, 2.0e7),
    "elapsed_time": (0.0, 60 * 86400.0),
    "timer_time": (0.0, 60 * 86400.0),
    "heart_rate_average": (20.0, 260.0),
    "heart_rate_max": (20.0, 260.0),
    "heart_rate_min": (20.0, 260.0),
}


def plausible(name: str, v: float) -> bool:
    """Whether `v` is a figure the summary's `name` can be."""
    lo, hi = SUMMARY_RANGES[name]
    return math.isfinite(v) and lo <= v <= hi


def check_summary(s: Summary) -> None:
    """`validate_summary` of a summary not yet set on its activity: analysis checks the one it
    computes before it builds products on it (a track whose jumps add up to 10^9 m asked for a
    split per kilometre, minutes and gigabytes, before the summary's check refused it)."""
    for name, (lo, hi) in SUMMARY_RANGES.items():
        v = getattr(s, name)
        if v is not None and not plausible(name, v):
            raise ActivityError(f"{v} is outside {lo}..{hi}", f"summary.{name}")


def _first_bad(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _validate_channels(a: Activity) -> None:
    ch = a.channels
    if not ch:
        return
    if "time" not in ch:
        raise ActivityError("a recording needs a time channel", "time")
    n = len(ch["time"])
    for name, arr in ch.items():
        if not isinstance(arr, np.ndarray) or arr.dtype != np.float64 or arr.ndim != 1:
            raise ActivityError("channel must be a 1-D float64 array", name)
        if len(arr) != n:
            raise ActivityError(f"has {len(arr)} samples, time has {n}", name)
    t = ch["time"]
    if n == 0:
        raise ActivityError("a recording needs at least one sample", "time")
    # the common case in one comparison: a NaN time makes a step NaN, which is not > 0
    if n == 1 or not bool((np.diff(t) > 0).all()):
        if np.isnan(t).any():
            raise ActivityError("time cannot be missing", "time", _first_bad(np.isnan(t)))
        if n > 1:
            dt = np.diff(t)
            if (dt <= 0).any():
                i = _first_bad(dt <= 0) + 1
                raise ActivityError(f"time must increase strictly ({t[i - 1]} then {t[i]})", "time", i)
    within = _within_bounds(ch)
    for name, arr in ch.items():
        if within.get(name):
            continue
        bounds = CHANNEL_BOUNDS.get(name)
        if np.isinf(arr).any():
            raise ActivityError("infinite value", name, _first_bad(np.isinf(arr)))
        if bounds is None:
            continue
        lo, hi = bounds
        with np.errstate(invalid="ignore"):
            bad = (arr < lo) | (arr > hi)
        if bad.any():
            i = _first_bad(bad)
            if name == "time" and arr[i] > hi:  # tracks of several days in one file (a GPX of a year)
                raise ActivityError(f"{arr[i] / 86400:.0f} days after the first sample: one activity lasts at most "
                                    f"{hi / 86400:.0f} days (does the file hold several?)", name, i)
            raise ActivityError(f"{arr[i]} {CHANNEL_UNITS[name]} is outside {lo}..{hi}", name, i)
    d = ch.get("distance")
    if d is not None and n > 1:
        known = np.flatnonzero(~np.isnan(d))
        if len(known) > 1:
            steps = np.diff(d[known])
            if (steps < -DISTANCE_BACKSTEP_TOLERANCE_M).any():
                i = int(known[_first_bad(steps < -DISTANCE_BACKSTEP_TOLERANCE_M) + 1])
                raise ActivityError("cumulative distance goes backwards", "distance", i)
    lat, lon = ch.get("latitude"), ch.get("longitude")
    if (lat is None) != (lon is None):
        raise ActivityError("latitude and longitude come together", "latitude" if lon is None else "longitude")
    if lat is not None and lon is not None:
        half = np.isnan(lat) != np.isnan(lon)
        if half.any():
            raise ActivityError("a position needs both latitude and longitude", "latitude", _first_bad(half))


def _within_bounds(ch: dict[str, np.ndarray]) -> dict[str, bool]:
    """Which bounded channels hold no value outside their bounds (NaN skipped), all at once: the
    channels stacked, then two reductions along them (two per channel cost ~5 us each on a short
    activity). Every bound is finite, so an infinite value fails too and is then reported by
    the channel-by-channel checks."""
    names = [name for name in ch if name in CHANNEL_BOUNDS]
    if not names:
        return {}
    block = np.stack([ch[name] for name in names])
    lo = np.array([CHANNEL_BOUNDS[name][0] for name in names])
    hi = np.array([CHANNEL_BOUNDS[name][1] for name in names])
    ok = ~(np.fmin.reduce(block, axis=1) < lo) & ~(np.fmax.reduce(block, axis=1) > hi)
    return dict(zip(names, ok.tolist(), strict=True))


def _validate_pauses(pauses: list[int], n: int) -> None:
    if not pauses:
        return
    arr = np.asarray(pauses)
    if arr.dtype.kind in "iu" and arr.ndim == 1:  # the usual case, checked at numpy speed
        if 1 <= arr.min() and arr.max() < max(n, 1) and (len(arr) < 2 or bool((np.diff(arr) > 0).all())):
            return
    prev = 0
    for k, p in enumerate(pauses):
        if not isinstance(p, int | np.integer):
            raise ActivityError("pause index must be an integer", "pauses", k)
        if not 1 <= p < max(n, 1):
            raise ActivityError(f"pause index {p} is outside 1..{n - 1}", "pauses", k)
        if p <= prev and k > 0:
            raise ActivityError("pause indexes must increase", "pauses", k)
        prev = p


def _validate_rr(rr: np.ndarray | None, n: int) -> None:
    if rr is None:
        return
    if not n:  # the store keeps them beside the samples (store/blob.py)
        raise ActivityError("RR intervals come with a recording, and this run has no samples", "rr_intervals")
    if rr.ndim != 1 or rr.dtype != np.float64:
        raise ActivityError("must be a list of seconds", "rr_intervals")
    bad = ~((rr >= RR_MIN) & (rr <= RR_MAX))  # NaN included
    if bad.any():
        k = _first_bad(bad)
        raise ActivityError(f"{rr[k]} s is not an interval between heartbeats ({RR_MIN}..{RR_MAX} s)",
                            "rr_intervals", k)


def _validate_lengths(lengths: dict[str, np.ndarray], n: int) -> None:
    if not lengths:
        return
    if not n:  # kept beside the samples, as the RR intervals
        raise ActivityError("pool lengths come with a recording, and this run has no samples", "pool_lengths")
    if "start" not in lengths:
        raise ActivityError("each length needs its start", "pool_lengths")
    count = len(lengths["start"])
    for name, col in lengths.items():
        where = f"pool_lengths.{name}"
        if name not in LENGTH_BOUNDS:
            raise ActivityError(f"is none of {', '.join(LENGTH_BOUNDS)}", where)
        if col.ndim != 1 or col.dtype != np.float64 or len(col) != count:
            raise ActivityError(f"must hold one number per length ({count})", where)
        lo, hi = LENGTH_BOUNDS[name]
        bad = (col < lo) | (col > hi) | np.isinf(col) | (np.isnan(col) if name == "start" else False)
        if bad.any():
            k = _first_bad(bad)
            raise ActivityError(f"{col[k]} is outside {lo}..{hi}", where, k)


def _validate_laps(laps: list[Lap], n: int) -> None:
    prev = {"end_time": -math.inf, "end_timer": -math.inf, "end_distance": -math.inf}
    prev_index = -1
    for k, lap in enumerate(laps):
        if lap.lap_type not in LAP_TYPES:
            raise ActivityError(f"lap type {lap.lap_type!r} is not one of {', '.join(LAP_TYPES)}", "laps", k)
        if lap.end_time is None and lap.end_timer is None and lap.end_distance is None:
            raise ActivityError("a lap needs an end time, duration or distance", "laps", k)
        for attr in prev:
            v = getattr(lap, attr)
            if v is None:
                continue
            most = CHANNEL_BOUNDS["distance" if attr == "end_distance" else "time"][1]
            if not math.isfinite(v) or not 0 <= v <= most:
                raise ActivityError(f"lap {attr} {v} is outside 0..{most}", "laps", k)
            if v < prev[attr] or (attr == lap_basis_attr(lap) and v == prev[attr]):
                raise ActivityError(f"laps must end in increasing order ({attr})", "laps", k)
            prev[attr] = v
        if lap.end_index is not None:
            if n and not 0 <= lap.end_index < n:
                raise ActivityError(f"lap end index {lap.end_index} is outside 0..{n - 1}", "laps", k)
            if lap.end_index < prev_index:
                raise ActivityError("lap end indexes must not decrease", "laps", k)
            prev_index = lap.end_index


def lap_basis_attr(lap: Lap) -> str:
    return {"time": "end_time", "timer": "end_timer", "distance": "end_distance"}.get(lap.basis, "end_time")


def pause_mask(a: Activity) -> np.ndarray:
    """True for each interval i -> i+1 (length n-1) that is a pause."""
    n = a.n_samples
    mask = np.zeros(max(n - 1, 0), dtype=bool)
    if a.pauses:
        mask[np.asarray(a.pauses, dtype=np.int64) - 1] = True
    return mask


def timer_seconds(a: Activity) -> np.ndarray:
    """Seconds excluding pauses at each sample: the recorded timer channel, else clock time
    with each pause's clock difference removed (the Smashrun rule). A recorded timer's missing
    readings are placed by clock between its known ones, as a distance's are (geo.distance_stream),
    and hold the nearest reading past them: a timer with a gap does not lose its run."""
    t = a.channels["time"]
    timer = a.channels.get("timer")
    if timer is not None:
        known = np.isfinite(timer)
        if known.all():
            return timer
        if known.any():
            return np.interp(t, t[known], timer[known])
    if len(t) == 0:
        return t
    dt = np.diff(t)
    dt[pause_mask(a)] = 0.0
    return np.concatenate(([t[0]], t[0] + np.cumsum(dt)))
