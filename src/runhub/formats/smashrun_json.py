"""The Smashrun activity JSON object, both ways (seeds/smashrun-api.txt, "The Activity JSON Object").

Decisions the seed leaves open, made here once:
- A missing sample is JSON `null`. Smashrun itself writes -1 for a missing GPS point, but -1 degC
  and -1 m are real readings, so -1 is accepted on input only as a latitude/longitude *pair*
  (the point -1,-1 lies in the open Gulf of Guinea) and never written.
- Distances are km in JSON and m inside. The conversion is a decimal shift of the number's
  shortest exact representation (units.decimal_shift), so m -> km -> m is bit-exact.
- Lap ends are written back by what the source defined them with (endDuration, endTime or
  endDistance in metres); `interval` is read as `work`. `endTime` is clock time.
- `distance` computed from latitude/longitude (no distance series sent) is marked derived and
  not written back, so the JSON that comes out is the JSON that went in.
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime
from decimal import Decimal, DecimalException
from typing import Any

import numpy as np

from runhub import sports
from runhub.activity import Activity, ActivityError, Lap, Summary, pause_mask, set_name, timer_seconds
from runhub.formats import FormatError, NotAnActivity, register
from runhub.formats._common import check_start, distance_channel
from runhub.units import KMH_PER_MS, decimal_shift

FORMAT = "json"

# recordingKeys name -> (internal channel, decimal places to shift into SI)
RECORDING_KEYS: dict[str, tuple[str, int]] = {
    "clock": ("time", 0),
    "duration": ("timer", 0),
    "distance": ("distance", 3),
    "latitude": ("latitude", 0),
    "longitude": ("longitude", 0),
    "elevation": ("altitude", 0),
    "heartRate": ("heart_rate", 0),
    "cadence": ("cadence", 0),
    "power": ("power", 0),
    "formPower": ("form_power", 0),
    "temperature": ("temperature", 0),
    "gpsAccuracy": ("gps_accuracy", 0),
    "satellites": ("satellites", 0),
}
CHANNEL_KEYS = {channel: key for key, (channel, _) in RECORDING_KEYS.items()}

LAP_TYPES = {
    "general": "general",
    "work": "work",
    "interval": "work",
    "recovery": "recovery",
    "warmup": "warmup",
    "cooldown": "cooldown",
}
HOW_FELT = ("unstoppable", "great", "soso", "tired", "injured", "none")
HOW_FELT_CANONICAL = {"unstoppable": "Unstoppable"}
TERRAINS = ("road", "trail", "track", "treadmill", "beach", "snowpack", "none")
WEATHER = (
    "indoor",
    "clear",
    "cloudy",
    "rain",
    "storm",
    "snow",
    "partlycloudy",
    "drizzle",
    "extremerain",
    "extremewind",
    "blizzard",
    "extremecold",
    "none",
)
TERRAIN_SPORT = {"trail": "running.trail", "track": "running.track", "treadmill": "running.treadmill"}

# Summary fields: JSON name -> (Summary attribute, decimal shift into SI, write as integer)
SUMMARY_FIELDS: dict[str, tuple[str, int, bool]] = {
    "distance": ("distance", 3, False),
    "duration": ("timer_time", 0, False),
    "cadenceAverage": ("cadence_average", 0, True),
    "cadenceMin": ("cadence_min", 0, True),
    "cadenceMax": ("cadence_max", 0, True),
    "heartRateAverage": ("heart_rate_average", 0, True),
    "heartRateMin": ("heart_rate_min", 0, True),
    "heartRateMax": ("heart_rate_max", 0, True),
    "temperature": ("temperature_average", 0, False),
}
INPUT_ALIASES = {
    "temperatureAverage": "temperature",
    "externalDeviceType": "deviceType",
    "externalAppVersion": "appVersion",
}
# What a run holds that Smashrun's activity object has no field for, in one object under this key
# (so that it shadows no Smashrun field): runhub's JSON export writes it, so that a JSON backup
# keeps the whole run, and a post may carry it; the API's run object leaves it out. Its fields:
# title, sport (runhub's code, where activityType and terrain do not say it), commute, private,
# deviceName, appMetadata ({app: {field: value}}, as an account export's list gave them),
# rrIntervals (seconds) and poolLengths ({column: [one number or null per length]}).
OWN_KEY = "runhub"
RR_KEY = "rrIntervals"
LENGTHS_KEY = "poolLengths"
OWN_FIELDS = ("title", "sport", "commute", "private", "deviceName", "appMetadata", RR_KEY, LENGTHS_KEY)
KNOWN_KEYS = (
    set(SUMMARY_FIELDS)
    | set(INPUT_ALIASES)
    | {
        "activityId",
        "startDateTimeLocal",
        "activityType",
        "notes",
        "bodyWeight",
        "howFelt",
        "terrain",
        "weatherType",
        "humidity",
        "windSpeed",
        "deviceType",
        "externalId",
        "appVersion",
        "pauseIndexes",
        "laps",
        "songs",
        "heartRateRecovery",
        "recordingKeys",
        "recordingValues",
        OWN_KEY,
        "calories",
        "isRace",
    }
)

_LOCAL_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$")


def _err(message: str, location: str | None = None, field: str | None = None) -> FormatError:
    return FormatError(message, format=FORMAT, location=location, field=field)


def _number(value: Any, where: str, *, shift: int = 0, allow_null: bool = False) -> float | None:
    if value is None and allow_null:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise _err(f"expected a number, got {json.dumps(value, default=str)[:40]}", where)
    try:
        return _finite(value, where, shift)
    except (DecimalException, OverflowError):  # an exponent or an integer no float holds
        raise _err("expected a finite number", where) from None


def _finite(value: int | float | Decimal, where: str, shift: int) -> float:
    if isinstance(value, Decimal):
        v = float(value.scaleb(shift)) if shift else float(value)
        if not math.isfinite(v):  # NaN, Infinity, or beyond a double (1e400)
            raise _err("expected a finite number", where)
        return v
    if isinstance(value, float) and not math.isfinite(value):
        raise _err("expected a finite number", where)
    return float(decimal_shift(value, shift)) if shift else float(value)


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise _err(f"expected a string, got {json.dumps(value, default=str)[:40]}", where)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:  # JSON's "\ud800" escape: no character, and no file can carry it
        raise _err(f"is not valid Unicode (a lone surrogate at character {exc.start})", where) from None
    return value


def _choice(value: Any, where: str, allowed: tuple[str, ...]) -> str:
    text = _string(value, where)
    key = text.lower()
    if key not in allowed:
        raise _err(f"{text!r} is not one of {', '.join(allowed)}", where)
    return key


def parse_local_time(value: Any, where: str = "startDateTimeLocal") -> tuple[datetime, int]:
    """ISO 8601 local time with offset -> (UTC start, offset seconds)."""
    text = _string(value, where)
    if not _LOCAL_TIME.match(text):
        raise _err(f"{text!r} is not an ISO 8601 local time with a UTC offset (2014-07-01T09:28:56-10:00)", where)
    try:
        local = datetime.fromisoformat(text)
    except ValueError as exc:
        raise _err(f"{text!r} is not a valid date and time ({exc})", where) from None
    offset = local.utcoffset()
    assert offset is not None  # the pattern requires one
    return local.astimezone(UTC), int(offset.total_seconds())


def format_local_time(start: datetime, utc_offset: int) -> str:
    """Seconds, or milliseconds when the time has them (the forms the seed shows)."""
    from datetime import timedelta, timezone

    local = start.astimezone(timezone(timedelta(seconds=utc_offset)))
    if local.microsecond == 0:
        spec = "seconds"
    elif local.microsecond % 1000 == 0:
        spec = "milliseconds"
    else:
        spec = "microseconds"
    return local.isoformat(timespec=spec)


# The shortest clock step read. JSON alone states time finer than a microsecond (the clock is any
# decimal); CSV, TCX and GPX times carry microseconds at most, so a recording with steps of 1e-320 s
# was kept and its CSV export, two lines of one time, read back refused (found by fuzzing). Half a
# microsecond, not one: a step of exactly 1 us at large clock values computes a hair under it.
MIN_CLOCK_STEP = 5e-7


def loads(data: bytes | str) -> Any:
    """Parse JSON keeping every decimal digit as sent (Decimal), so km -> m is exact."""
    try:
        return json.loads(data, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise _err(f"malformed JSON: {exc.msg}", f"line {exc.lineno} column {exc.colno}") from None
    except (UnicodeDecodeError, RecursionError) as exc:
        raise _err(f"malformed JSON: {exc}") from None
    except DecimalException:  # a number whose exponent no decimal holds (1e999999999999999999)
        raise _err("malformed JSON: a number beyond any range") from None


def decode(data: bytes, **_options: Any) -> list[Activity]:
    obj = loads(data)
    objects = [o for o in (obj if isinstance(obj, list) else [obj]) if isinstance(o, dict) and o]
    if objects and all(KNOWN_KEYS.isdisjoint(o) for o in objects):
        # an account export's other JSON documents (Garmin's holds dozens: gear, settings,
        # summaries): not one field of an activity. Anything with one is judged field by field.
        raise NotAnActivity("this JSON document holds no activity: none of its objects has a field of Smashrun's "
                            "activity JSON, the JSON runhub reads", format="json")
    if isinstance(obj, list):
        return [from_object(item, where=f"[{k}]") for k, item in enumerate(obj)]
    return [from_object(obj)]


def from_object(obj: Any, where: str = "") -> Activity:
    """One Smashrun activity object -> a validated Activity."""
    if not isinstance(obj, dict):
        raise _err("expected a JSON object for an activity", where or None)
    try:
        return _from_object(obj)
    except FormatError as exc:
        if where:
            exc.location = f"{where}.{exc.location}" if exc.location else where
            exc.args = (str(FormatError(exc.message, location=exc.location, field=exc.field)),)
        raise


def _from_object(obj: dict[str, Any]) -> Activity:
    obj = {INPUT_ALIASES.get(k, k): v for k, v in obj.items()}
    unknown = sorted(set(obj) - KNOWN_KEYS)
    if unknown:
        raise _err(f"unknown field(s) {', '.join(unknown)}", unknown[0])
    if "startDateTimeLocal" not in obj:
        raise _err("is required", "startDateTimeLocal")
    start, offset = parse_local_time(obj["startDateTimeLocal"])
    # as every format refuses it (its exports, read back, were refused: found by fuzzing)
    check_start(start, FORMAT, None, "startDateTimeLocal", fld=None)

    terrain = _choice(obj["terrain"], "terrain", TERRAINS) if obj.get("terrain") is not None else None
    sport = "running"
    if "activityType" in obj:
        kind = _string(obj["activityType"], "activityType")
        named = _sport_named(kind, terrain)
        if named is None:
            raise _err(f"{kind!r} is not accepted; Smashrun activities are 'running'", "activityType")
        sport = named

    summary = Summary()
    for key, (attr, shift, _) in SUMMARY_FIELDS.items():
        if obj.get(key) is not None:
            setattr(summary, attr, _number(obj[key], key, shift=shift))

    a = Activity(start=start, utc_offset=offset, sport=sport, summary=summary, terrain=terrain)
    if obj.get("activityId") is not None:
        a.id = int(_number(obj["activityId"], "activityId") or 0)
    if obj.get("notes") is not None:
        a.notes = _string(obj["notes"], "notes")
        if len(a.notes) > 800:
            raise _err(f"is {len(a.notes)} characters, at most 800", "notes")
    if obj.get("bodyWeight") is not None:
        a.body_weight = _number(obj["bodyWeight"], "bodyWeight")
    if obj.get("howFelt") is not None:
        felt = _choice(obj["howFelt"], "howFelt", HOW_FELT)
        a.how_felt = HOW_FELT_CANONICAL.get(felt, felt)
    if obj.get("weatherType") is not None:
        a.weather_type = _choice(obj["weatherType"], "weatherType", WEATHER)
    if obj.get("humidity") is not None:
        a.humidity = _number(obj["humidity"], "humidity")
    if obj.get("windSpeed") is not None:
        a.wind_speed = (_number(obj["windSpeed"], "windSpeed") or 0.0) / KMH_PER_MS
    if obj.get("calories") is not None:
        a.calories = _number(obj["calories"], "calories")
    if obj.get("isRace") is not None:
        a.is_race = bool(_number(obj["isRace"], "isRace"))
    for key, attr in (("deviceType", "device_type"), ("appVersion", "app_version")):
        if obj.get(key) is not None:
            setattr(a, attr, _string(obj[key], key))
    if obj.get("externalId") is not None:
        ext = obj["externalId"]
        if isinstance(ext, int) and not isinstance(ext, bool):
            ext = str(ext)
        a.external_id = _string(ext, "externalId")
    a.songs = _songs(obj.get("songs"))
    a.heart_rate_recovery = _hrr(obj.get("heartRateRecovery"))

    _recordings(a, obj)
    if obj.get(OWN_KEY) is not None:
        _read_own(a, obj[OWN_KEY])
    if a.summary.distance is None and not a.has_streams:
        raise _err("is required when there are no distance or latitude/longitude recordings", "distance")
    if a.summary.timer_time is None and not a.has_streams:
        raise _err("is required when there are no recordings", "duration")
    a.laps = _laps(a, obj.get("laps"))
    if not a.has_streams:
        a.manual = True
    try:
        a.validate()
    except ActivityError as exc:
        field = CHANNEL_KEYS.get(exc.field or "") if exc.index is not None else None
        raise _err(exc.message, _json_location(exc), field) from None
    return a


def _sport_named(kind: str, terrain: str | None) -> str | None:
    """The sport an activityType (with the terrain) says; None where runhub accepts no such type. A
    non-running code is runhub's own export of a non-running activity."""
    if kind.lower() == "running":
        return TERRAIN_SPORT.get(terrain or "", "running")
    return kind if kind in sports.BY_CODE else None


def _json_location(exc: ActivityError) -> str | None:
    if exc.field in CHANNEL_KEYS:
        key = CHANNEL_KEYS[exc.field]
        return f"recordingValues[{key}][{exc.index}]" if exc.index is not None else key
    if exc.field == "pauses":
        return f"pauseIndexes[{exc.index}]"
    if exc.field == "laps":
        return f"laps[{exc.index}]"
    if exc.field == "rr_intervals":
        return _own(RR_KEY) if exc.index is None else _own(f"{RR_KEY}[{exc.index}]")
    if (exc.field or "").startswith("pool_lengths"):
        where = _own(LENGTHS_KEY + (exc.field or "")[len("pool_lengths"):])
        return where if exc.index is None else f"{where}[{exc.index}]"
    summary_keys = {f"summary.{attr}": key for key, (attr, _, _) in SUMMARY_FIELDS.items()}
    other = {"start": "startDateTimeLocal", "utc_offset": "startDateTimeLocal", "wind_speed": "windSpeed",
             "body_weight": "bodyWeight", "external_id": "externalId", "name": _own("title")}
    return summary_keys.get(exc.field or "", other.get(exc.field or "", exc.field))


SONG_TEXT_MAX = 500
SONG_BOUNDS = {"BPM": (0, 400), "startClock": (0, 60 * 86400), "endClock": (0, 60 * 86400)}


def _songs(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _err("expected an array", "songs")
    songs = []
    for k, song in enumerate(value):
        where = f"songs[{k}]"
        if not isinstance(song, dict):
            raise _err("expected an object", where)
        out: dict[str, Any] = {}
        for key, v in song.items():
            if key in ("album", "artist", "song"):
                out[key] = _string(v, f"{where}.{key}")
                if len(out[key]) > SONG_TEXT_MAX:
                    raise _err(f"is {len(out[key])} characters, at most {SONG_TEXT_MAX}", f"{where}.{key}")
            elif key in ("BPM", "startClock", "endClock"):
                x = _number(v, f"{where}.{key}") or 0.0
                lo, hi = SONG_BOUNDS[key]
                if not lo <= x <= hi:
                    raise _err(f"{_plain(x)} is outside {lo}..{hi}", f"{where}.{key}")
                out[key] = _plain(x)
            else:
                raise _err(f"unknown field {key}", f"{where}.{key}")
        songs.append(out)
    return songs


def _hrr(value: Any) -> list[dict[str, float]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _err("expected an array", "heartRateRecovery")
    out = []
    for k, item in enumerate(value):
        where = f"heartRateRecovery[{k}]"
        if not isinstance(item, dict) or set(item) - {"duration", "heartRate"}:
            raise _err("expected an object with duration and heartRate", where)
        hr = _number(item.get("heartRate"), f"{where}.heartRate") or 0.0
        if not 20 <= hr <= 260:
            raise _err(f"{hr} bpm is outside 20..260", f"{where}.heartRate")
        out.append({"duration": _plain(_number(item.get("duration"), f"{where}.duration")), "heartRate": _plain(hr)})
    return out


def _own(name: str) -> str:
    return f"{OWN_KEY}.{name}"


def _read_own(a: Activity, value: Any) -> None:
    """The `runhub` object's fields onto the run (OWN_KEY)."""
    if not isinstance(value, dict):
        raise _err("expected an object", OWN_KEY)
    unknown = sorted(set(value) - set(OWN_FIELDS))
    if unknown:
        raise _err(f"unknown field(s) {', '.join(unknown)}; runhub's are {', '.join(OWN_FIELDS)}", _own(unknown[0]))
    if value.get("title") is not None:
        set_name(a, _string(value["title"], _own("title")))
    if value.get("sport") is not None:
        code = _string(value["sport"], _own("sport"))
        if code not in sports.BY_CODE:
            raise _err(f"{code!r} is no sport runhub knows", _own("sport"))
        a.sport = code
    for key in ("commute", "private"):
        if value.get(key) is not None:
            if not isinstance(value[key], bool):
                raise _err("expected true or false", _own(key))
            setattr(a, key, value[key])
    if value.get("deviceName") is not None:
        a.device_name = _string(value["deviceName"], _own("deviceName"))
    meta = value.get("appMetadata")
    if meta is not None:
        if not isinstance(meta, dict) or not all(isinstance(v, dict) for v in meta.values()):
            raise _err("expected an object of objects, one per app", _own("appMetadata"))
        try:  # Decimals as the numbers they are; what no database can keep refused here
            text = json.dumps(meta, default=float, ensure_ascii=False, allow_nan=False)
            text.encode("utf-8")
        except (ValueError, UnicodeEncodeError):
            raise _err("holds a number beyond a double, NaN, or a lone surrogate", _own("appMetadata")) from None
        a.app_metadata = json.loads(text)
    rr = value.get(RR_KEY)
    if rr is not None:
        if not isinstance(rr, list):
            raise _err("expected an array of seconds", _own(RR_KEY))
        a.rr_intervals = np.array([_number(v, _own(f"{RR_KEY}[{k}]")) for k, v in enumerate(rr)], dtype=np.float64)
    lengths = value.get(LENGTHS_KEY)
    if lengths is not None:
        if not isinstance(lengths, dict) or not all(isinstance(v, list) for v in lengths.values()):
            raise _err("expected an object of arrays, one per quantity", _own(LENGTHS_KEY))
        a.pool_lengths = {
            str(name): np.array([np.nan if v is None else _number(v, _own(f"{LENGTHS_KEY}.{name}[{k}]"))
                                 for k, v in enumerate(col)], dtype=np.float64)
            for name, col in lengths.items()}


def _write_own(a: Activity, obj: dict[str, Any]) -> None:
    """What `_read_own` reads back, where the run holds it."""
    own: dict[str, Any] = {}
    if a.name is not None:
        own["title"] = a.name
    if a.sport != _sport_named(obj["activityType"], a.terrain):
        own["sport"] = a.sport
    for key, v in (("commute", a.commute), ("private", a.private)):
        if v:
            own[key] = True
    if a.device_name is not None:
        own["deviceName"] = a.device_name
    if a.app_metadata:
        own["appMetadata"] = a.app_metadata
    if a.rr_intervals is not None and a.has_streams:
        own[RR_KEY] = _Raw(_series_json(a.rr_intervals, False))
    if a.pool_lengths and a.has_streams:
        own[LENGTHS_KEY] = {name: _Raw(_series_json(col, False)) for name, col in a.pool_lengths.items()}
    if own:
        obj[OWN_KEY] = own


def _plain(v: float | None) -> float | int | None:
    """Integral floats back to int, so what was sent as 155 is written as 155."""
    if v is not None and float(v).is_integer() and abs(v) < 2**53 and math.copysign(1.0, v) > 0:
        return int(v)
    return v


def _recordings(a: Activity, obj: dict[str, Any]) -> None:
    keys, values = obj.get("recordingKeys"), obj.get("recordingValues")
    if keys is None and values is None:
        if obj.get("pauseIndexes"):
            raise _err("pause indexes need recordings", "pauseIndexes")
        return
    if not isinstance(keys, list) or not isinstance(values, list):
        raise _err("recordingKeys and recordingValues must both be arrays", "recordingKeys")
    if len(keys) != len(values):
        raise _err(f"{len(keys)} keys but {len(values)} series", "recordingValues")
    seen: set[str] = set()
    n: int | None = None
    channels: dict[str, np.ndarray] = {}
    for k, key in enumerate(keys):
        if not isinstance(key, str) or key not in RECORDING_KEYS:
            raise _err(f"unknown recording key {key!r}; known: {', '.join(RECORDING_KEYS)}", f"recordingKeys[{k}]")
        if key in seen:
            raise _err(f"recording key {key!r} appears twice", f"recordingKeys[{k}]")
        seen.add(key)
        series = values[k]
        if not isinstance(series, list):
            raise _err("expected an array of numbers", f"recordingValues[{k}]", key)
        if n is None:
            n = len(series)
        elif len(series) != n:
            raise _err(f"has {len(series)} values, {keys[0]} has {n}", f"recordingValues[{k}]", key)
        channel, shift = RECORDING_KEYS[key]
        channels[channel] = _series(series, k, key, shift)
    if "time" not in channels:
        raise _err("clock is required in recordings", "recordingKeys")
    if "gps_accuracy" in channels and "satellites" in channels:
        raise _err("send gpsAccuracy or satellites, not both", "recordingKeys")
    if ("latitude" in channels) != ("longitude" in channels):
        raise _err("latitude and longitude come together", "recordingKeys")
    if "distance" not in channels and "latitude" not in channels:
        raise _err("recordings need distance or latitude/longitude", "recordingKeys")
    if n == 0:
        raise _err("recordings are empty", "recordingValues")
    if "latitude" in channels:
        lat, lon = channels["latitude"], channels["longitude"]
        smashrun_missing = (lat == -1.0) & (lon == -1.0)
        lat[smashrun_missing] = np.nan
        lon[smashrun_missing] = np.nan
    a.channels = channels
    t = channels["time"]
    steps = np.diff(t)
    if np.any(steps <= 0):
        i = int(np.flatnonzero(steps <= 0)[0]) + 1
        raise _err(f"clock must increase strictly ({t[i - 1]} then {t[i]})", f"recordingValues[clock][{i}]", "clock")
    if np.any(steps < MIN_CLOCK_STEP):
        i = int(np.flatnonzero(steps < MIN_CLOCK_STEP)[0]) + 1
        raise _err(f"clock steps by less than half a microsecond ({t[i - 1]} then {t[i]}): no recording is that "
                   "fast, and the times of every other format runhub writes would make the two samples one",
                   f"recordingValues[clock][{i}]", "clock")
    if obj.get("pauseIndexes") is not None:
        pauses = obj["pauseIndexes"]
        if not isinstance(pauses, list):
            raise _err("expected an array of integers", "pauseIndexes")
        for k, p in enumerate(pauses):
            if isinstance(p, bool) or not isinstance(p, int):
                raise _err("expected an integer index", f"pauseIndexes[{k}]")
            if not 1 <= p < len(t):  # the laps below read the timer the pauses make
                raise _err(f"pause index {p} is outside 1..{len(t) - 1}", f"pauseIndexes[{k}]")
        a.pauses = list(pauses)
    elif "timer" in channels:
        a.pauses = _pauses_from_timer(t, channels["timer"])
    if "distance" not in channels:
        distance_channel(channels, a.sport, np.flatnonzero(pause_mask(a)), a.extras)
        a.extras["derived_channels"] = ["distance"]


_FAST_TYPES = {int, Decimal, type(None)}


def _series(series: list[Any], k: int, key: str, shift: int) -> np.ndarray:
    try:
        return _series_values(series, k, key, shift)
    except (DecimalException, OverflowError):  # 1e999999999 in metres, an integer of 400 digits
        raise _err("a number beyond any range", f"recordingValues[{k}]", key) from None


def _series_values(series: list[Any], k: int, key: str, shift: int) -> np.ndarray:
    if set(map(type, series)) <= _FAST_TYPES:
        # numpy calls float() on each Decimal/int in C and maps None to NaN; a Decimal's
        # float() is correctly rounded. Anything else takes the checking loop below.
        if not shift:
            return np.array(series, dtype=np.float64)
        return np.array([np.nan if v is None else float(Decimal(v).scaleb(shift)) for v in series])
    out = np.empty(len(series), dtype=np.float64)
    for i, v in enumerate(series):
        if v is None:
            out[i] = np.nan
        elif isinstance(v, Decimal) and v.is_finite():
            out[i] = float(v.scaleb(shift)) if shift else float(v)
        elif isinstance(v, int) and not isinstance(v, bool):
            out[i] = float(v * 10**shift) if shift >= 0 else float(decimal_shift(v, shift))
        else:
            raise _err(
                f"expected a number or null, got {json.dumps(v, default=str)[:40]}", f"recordingValues[{k}][{i}]", key
            )
    return out


def _pauses_from_timer(clock: np.ndarray, timer: np.ndarray) -> list[int]:
    """Seed: pauses are inferred from differences between clock and duration."""
    if np.isnan(timer).any():
        i = int(np.flatnonzero(np.isnan(timer))[0])
        raise _err("duration cannot be missing", f"recordingValues[duration][{i}]", "duration")
    gap = np.diff(clock) - np.diff(timer)
    return [int(i) + 1 for i in np.flatnonzero(gap > 1e-3)]


def _laps(a: Activity, value: Any) -> list[Lap]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _err("expected an array", "laps")
    t = a.channels.get("time")
    timer = None
    if t is not None:
        timer = timer_seconds(a)
    laps = []
    for k, item in enumerate(value):
        where = f"laps[{k}]"
        if not isinstance(item, dict):
            raise _err("expected an object", where)
        extra = set(item) - {"lapType", "endTime", "endDuration", "endDistance"}
        if extra:
            raise _err(f"unknown field(s) {', '.join(sorted(extra))}", where)
        kind = _string(item.get("lapType", "general"), f"{where}.lapType").lower()
        if kind not in LAP_TYPES:
            raise _err(f"lap type {kind!r} is not one of general, work, recovery, warmup, cooldown", f"{where}.lapType")
        lap = Lap(lap_type=LAP_TYPES[kind])
        # The seed: if both duration and distance are sent, duration is used.
        key = next((k for k in LAP_ENDS if item.get(k) is not None), None)
        if key is None:
            raise _err("needs endDuration, endTime or endDistance", where)
        _set_end(lap, key, _number(item[key], f"{where}.{key}"))
        if t is not None and timer is not None:
            _place_lap(lap, t, timer, a.channels.get("distance"))
        laps.append(lap)
    return laps


# a lap's end keys, in the order they are read (the first given decides): key -> (basis, Lap field)
LAP_ENDS = {"endDuration": ("timer", "end_timer"), "endTime": ("time", "end_time"),
            "endDistance": ("distance", "end_distance")}


def _set_end(lap: Lap, key: str, value: float | None) -> None:
    """`lap` ends where `key` (of LAP_ENDS) says, by that measure."""
    lap.basis, attr = LAP_ENDS[key]
    setattr(lap, attr, value)


def _place_lap(lap: Lap, t: np.ndarray, timer: np.ndarray, dist: np.ndarray | None) -> None:
    """The last sample at or before the lap's end time (clock or timer), by the measure the
    lap was defined with; for a distance lap the first sample that reaches the distance."""
    if lap.basis == "timer":
        axis, end = timer, lap.end_timer
    elif lap.basis == "time":
        axis, end = t, lap.end_time
    else:
        if dist is None:
            return
        # a distance lap ends at the first sample that reaches its distance
        axis = np.fmax.accumulate(np.where(np.isnan(dist), -np.inf, dist))
        lap.end_index = min(int(np.searchsorted(axis, lap.end_distance, side="left")), len(t) - 1)
        return
    idx = int(np.searchsorted(axis, end, side="right")) - 1
    lap.end_index = min(max(idx, 0), len(t) - 1)


# ---------------------------------------------------------------- encoding


def _km(m: float) -> str:
    """Metres as the shortest exact km text: 333.0 m is 0.333 (not 0.3330), 12000.0 m is 12, never
    an exponent. Only trailing zeros go, the value is the same decimal, so km -> m stays bit-exact."""
    return format(decimal_shift(m, -3).normalize(), "f")


def _num(v: float | None, as_int: bool = False) -> Any:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return None
    if as_int:
        return int(math.floor(v + 0.5))
    return _plain(v)


class _Raw(str):
    """A number already written as exact JSON text."""


def to_object(a: Activity) -> dict[str, Any]:
    """The activity as a Smashrun JSON object (POST shape); absent values are omitted."""
    obj: dict[str, Any] = {}
    if a.id is not None:
        obj["activityId"] = a.id
    obj["startDateTimeLocal"] = format_local_time(a.start, a.utc_offset)
    spec = sports.get(a.sport)
    obj["activityType"] = "running" if sports.is_running(a.sport) else spec.code
    s = a.summary
    for key, (attr, shift, as_int) in SUMMARY_FIELDS.items():
        v = getattr(s, attr)
        if v is None:
            continue
        obj[key] = _Raw(_km(v)) if shift == 3 else _num(v, as_int)
    if a.notes is not None:
        obj["notes"] = a.notes
    if a.body_weight is not None:
        obj["bodyWeight"] = _num(a.body_weight)
    for key, v in (("howFelt", a.how_felt), ("terrain", a.terrain), ("weatherType", a.weather_type)):
        if v is not None:
            obj[key] = v
    if a.humidity is not None:
        obj["humidity"] = _num(a.humidity)
    if a.wind_speed is not None:
        obj["windSpeed"] = _num(round(a.wind_speed * KMH_PER_MS, 9))
    if a.calories is not None:
        obj["calories"] = _num(a.calories)
    if a.is_race:
        obj["isRace"] = 1
    if a.device_type is not None:
        obj["deviceType"] = a.device_type
    if a.external_id is not None:
        obj["externalId"] = a.external_id
    if a.app_version is not None:
        obj["appVersion"] = a.app_version
    if a.has_streams:
        obj["pauseIndexes"] = [int(p) for p in a.pauses]
    if a.laps:
        obj["laps"] = _lap_objects(a)
    if a.songs:
        obj["songs"] = a.songs
    if a.heart_rate_recovery:
        obj["heartRateRecovery"] = a.heart_rate_recovery
    if a.has_streams:
        derived = set((a.extras or {}).get("derived_channels", []))
        names = [c for c in CHANNEL_KEYS if c in a.channels and c not in derived]
        if "gps_accuracy" in names and "satellites" in names:  # the seed takes one of the two, not both
            names.remove("satellites")
        obj["recordingKeys"] = [CHANNEL_KEYS[c] for c in names]
        obj["recordingValues"] = [_Raw(_series_json(a.channels[c], c == "distance")) for c in names]
    return obj


def _lap_objects(a: Activity) -> list[dict[str, Any]]:
    """Each lap by the measure its source defined it with, where that places it, read back, at its
    own end sample (`_place_lap`); else by the clock at that sample. A TCX's lap timers are its
    own totals, which may disagree with the timer its track's pauses give (found by fuzzing: a lap
    of TotalTimeSeconds 0 between two timed ones; its JSON export read back refused for lap ends
    that decrease)."""
    out = [_lap_object(lap) for lap in a.laps]
    t = a.channels.get("time")
    if t is None:
        return out
    timer, dist = timer_seconds(a), a.channels.get("distance")
    for k, lap in enumerate(a.laps):
        key = next((key for key in LAP_ENDS if key in out[k]), None)
        if key is None or lap.end_index is None or not 0 <= lap.end_index < len(t):
            continue
        probe = Lap()
        _set_end(probe, key, float(out[k][key]))
        _place_lap(probe, t, timer, dist)
        if probe.end_index != lap.end_index:
            out[k] = {"lapType": lap.lap_type, "endTime": _plain(float(t[lap.end_index]))}
    return out


def _lap_object(lap: Lap) -> dict[str, Any]:
    out: dict[str, Any] = {"lapType": lap.lap_type}
    if lap.basis == "timer" and lap.end_timer is not None:
        out["endDuration"] = _plain(lap.end_timer)
    elif lap.basis == "distance" and lap.end_distance is not None:
        out["endDistance"] = _plain(lap.end_distance)
    elif lap.end_time is not None:
        out["endTime"] = _plain(lap.end_time)
    elif lap.end_timer is not None:
        out["endDuration"] = _plain(lap.end_timer)
    elif lap.end_distance is not None:
        out["endDistance"] = _plain(lap.end_distance)
    return out


def _series_json(arr: np.ndarray, km: bool) -> str:
    if km:
        items = ("null" if math.isnan(v) else _km(v) for v in arr.tolist())
    else:
        items = ("null" if math.isnan(v) else repr(_plain(v)) for v in arr.tolist())
    return "[" + ",".join(items) + "]"


def dumps(obj: Any, indent: int | None = None) -> str:
    """JSON text where `_Raw` values are written verbatim (exact km and series)."""
    raws: list[str] = []

    def default(o: Any) -> Any:
        raise TypeError(f"not JSON serialisable: {type(o).__name__}")

    def swap(o: Any) -> Any:
        if isinstance(o, _Raw):
            raws.append(str(o))
            return f"\x00RAW{len(raws) - 1}\x00"
        if isinstance(o, dict):
            return {k: swap(v) for k, v in o.items()}
        if isinstance(o, list):
            return [swap(v) for v in o]
        return o

    text = json.dumps(swap(obj), indent=indent, default=default, ensure_ascii=False)
    return re.sub(r'"\\u0000RAW(\d+)\\u0000"', lambda m: raws[int(m.group(1))], text)


def encode(a: Activity) -> bytes:
    """Refuses what `decode` would refuse: Smashrun needs a distance, as a recording or a total,
    so an indoor ride with heart rate only cannot be written as a Smashrun activity."""
    obj = to_object(a)
    _write_own(a, obj)  # the export's, not the API's run object
    keys = obj.get("recordingKeys") or []
    if keys and "distance" not in keys and "latitude" not in keys:
        raise FormatError("Smashrun JSON recordings need distance or latitude/longitude, and this activity has "
                          "neither (an indoor activity?): FIT, TCX and CSV carry it", format=FORMAT,
                          field="recordingKeys")
    for key, what in (("distance", "a distance"), ("duration", "a duration")):
        if not keys and obj.get(key) is None:
            raise FormatError(f"Smashrun JSON needs {what} when there are no recordings, and this activity has "
                              "none: FIT carries it", format=FORMAT, field=key)
    return dumps(obj).encode()


register(FORMAT, decode, encode, "application/json")
