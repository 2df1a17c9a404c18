"""Smashrun JSON shapes (reference §5): rows, activities and analysis products -> the objects the
Smashrun API returns. Translation only: names, units (m -> km, m/s -> km/h), integer flags, date
formats. Every number is read from the stored summary (computed by analysis at ingest) or from
an analysis product; nothing is computed here.

Conventions taken once:
- optional keys whose value is unknown are omitted, as the real API does (reference §1); the
  keys the real API always sends (`calories`, `syncDateTimeUTC`) are `null` when unknown;
- UTC timestamps are written without a zone designator, with milliseconds
  (`2022-11-09T15:01:39.440`), as the `...UTC` fields of the real API;
- distances in km are the exact decimal shift of the stored metres (units.decimal_shift).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row

from runhub import sports
from runhub.activity import Activity
from runhub.formats import smashrun_json
from runhub.units import KMH_PER_MS, decimal_shift

# Extended fields (reference §5.7) in seed order.
EXTENDED_KEYS = (
    "speedVariability",
    "isCooperTest",
    "sunriseLocal",
    "sunsetLocal",
    "moonPhase",
    "countryCode",
    "country",
    "city",
    "state",
    "elevationGain",
    "elevationLoss",
    "elevationAscent",
    "elevationDescent",
    "elevationMax",
    "elevationMin",
    "elevationNet",
    "powerMax",
    "powerAverage",
)


def utc_text(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    return dt.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="milliseconds")


def km(metres: float | None) -> float | None:
    if metres is None or not math.isfinite(metres):
        return None
    return float(decimal_shift(metres, -3))


def number(v: Any) -> Any:
    """A float as JSON: None for unknown/NaN, integral floats as int (what was sent as 155 stays 155)."""
    if v is None or isinstance(v, bool):
        return v
    if isinstance(v, float):
        if not math.isfinite(v):
            return None
        if v.is_integer() and abs(v) < 2**53:
            return int(v)
    return v


def rounded(v: float | None) -> int | None:
    """Fields the seed types as round integers (bpm, steps/min, %, km/h): half away from zero."""
    if v is None or not math.isfinite(v):
        return None
    return int(math.floor(abs(v) + 0.5)) * (1 if v >= 0 else -1)


def source_of(a: Activity) -> str:
    if a.manual:
        return "manual"
    return a.client_id or "runhub"


def summary_object(row: Row[Any], a: Activity) -> dict[str, Any]:
    """ActivitySummary (reference §5.5), keys in the order of the real response."""
    s = a.summary
    out: dict[str, Any] = {
        "activityId": a.id,
        "activityType": "running" if sports.is_running(a.sport) else a.sport,
        "duration": number(s.timer_time),
        "distance": km(s.distance),
        "calories": rounded(a.calories),
        "notes": a.notes or "",
        "startDateTimeLocal": smashrun_json.format_local_time(a.start, a.utc_offset),
    }
    if a.external_id is not None:
        out["externalId"] = a.external_id
    out["source"] = source_of(a)
    out["appVersion"] = a.app_version or ""
    out["deviceType"] = a.device_type or ""
    out["hasDetails"] = int(row.n_samples > 0)
    out["hasDetailsGPS"] = int(bool(row.has_gps))
    if s.start_latitude is not None and s.start_longitude is not None:
        out["startLatitude"] = s.start_latitude
        out["startLongitude"] = s.start_longitude
    for key, v in (
        ("heartRateMax", s.heart_rate_max),
        ("heartRateMin", s.heart_rate_min),
        ("heartRateAverage", s.heart_rate_average),
        ("cadenceMax", s.cadence_max),
        ("cadenceMin", s.cadence_min),
        ("cadenceAverage", s.cadence_average),
    ):
        if v is not None:
            out[key] = rounded(v)
    if a.weather_type is not None:
        out["weatherType"] = a.weather_type
    if s.temperature_average is not None:
        out["temperature"] = number(s.temperature_average)
    if a.humidity is not None:
        out["humidity"] = rounded(a.humidity)
    if a.wind_speed is not None:
        out["windSpeed"] = rounded(a.wind_speed * KMH_PER_MS)
    if a.body_weight is not None:
        out["bodyWeight"] = number(a.body_weight)
    out["howFelt"] = a.how_felt or "none"
    out["terrain"] = a.terrain or "none"
    out["isRace"] = int(a.is_race)
    out["isTreadmill"] = int(a.sport == "running.treadmill" or a.terrain == "treadmill" or a.trainer)
    flags = (a.extras or {}).get("flags") or {}
    out["isBadHR"] = int(bool(flags.get("bad_heart_rate")))
    out["isBadElevation"] = int(bool(flags.get("bad_elevation")))
    out["syncDateTimeUTC"] = utc_text(row.updated_at)
    out["dateCreatedUTC"] = utc_text(row.created_at)
    out["dateUpdatedUTC"] = utc_text(row.updated_at)
    return out


def brief_object(row: Row[Any]) -> dict[str, Any]:
    """Brief (reference §5.6) straight from the columns: no JSON column is decoded."""
    return {
        "activityId": row.id,
        "startDateTimeLocal": smashrun_json.format_local_time(row.start_utc, row.utc_offset),
        "distance": km(row.distance),
        "duration": number(row.timer_time),
    }


def extended_fields(a: Activity, extended: dict[str, Any] | None) -> dict[str, Any]:
    """Extended fields (reference §5.7) from the analysis product `smashrun_extended` (already in
    Smashrun names and units, local times as ISO with offset) plus the summary's power/elevation.
    Keys analysis could not determine (no GPS for sunrise, no place name) are null."""
    ext = dict(extended or {})
    s = a.summary
    fallback = {
        "elevationGain": s.elevation_gain,
        "elevationLoss": s.elevation_loss,
        "elevationMax": s.elevation_max,
        "elevationMin": s.elevation_min,
        "powerMax": s.power_max,
        "powerAverage": s.power_average,
    }
    out: dict[str, Any] = {}
    for key in EXTENDED_KEYS:
        v = ext.get(key)
        if v is None:
            v = fallback.get(key)
        if key == "isCooperTest":
            v = int(bool(v)) if v is not None else None
        out[key] = number(v) if isinstance(v, float) else v
    return out


def detail_object(row: Row[Any], a: Activity, extended: dict[str, Any] | None) -> dict[str, Any]:
    """ActivityDetail (reference §5.8): summary, then the recordings exactly as stored (the codec's
    exact km text), pauses, laps, songs, heart-rate recovery, then the extended fields."""
    out = summary_object(row, a)
    posted = smashrun_json.to_object(a)
    if a.has_streams:
        out["recordingKeys"] = posted.get("recordingKeys", [])
        out["recordingValues"] = posted.get("recordingValues", [])
        out["pauseIndexes"] = posted.get("pauseIndexes", [])
    else:
        out["recordingKeys"] = []
        out["recordingValues"] = []
        out["pauseIndexes"] = []
    out["laps"] = posted.get("laps", [])
    out["songs"] = posted.get("songs", [])
    out["heartRateRecovery"] = posted.get("heartRateRecovery", [])
    out.update(extended_fields(a, extended))
    return out
