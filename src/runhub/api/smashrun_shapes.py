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


# analysis product `extended` (snake case, SI) -> Smashrun extended names
EXTENDED_FROM_PRODUCT = {
    "speedVariability": "pace_variability",
    "isCooperTest": "cooper_test",
    "moonPhase": "moon_phase",
    "elevationGain": "elevation_gain",
    "elevationLoss": "elevation_loss",
    "elevationAscent": "elevation_ascent",
    "elevationDescent": "elevation_descent",
    "elevationMax": "elevation_max",
    "elevationMin": "elevation_min",
    "elevationNet": "elevation_net",
    "powerMax": "max_power",
}


def local_text(utc_iso: str | None, utc_offset: int) -> str | None:
    """A UTC ISO time from analysis as local time with the activity's offset (seconds)."""
    if not utc_iso:
        return None
    from datetime import timedelta, timezone

    when = datetime.fromisoformat(utc_iso)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(timezone(timedelta(seconds=utc_offset))).isoformat(timespec="seconds")


def extended_fields(a: Activity, extended: dict[str, Any] | None) -> dict[str, Any]:
    """Extended fields (reference §5.7) in seed order from the analysis product `extended`.
    What analysis could not know (no GPS: no sun times; no place names: runhub does no reverse
    geocoding; a manual run: no elevation) is null."""
    ext = extended or {}
    out: dict[str, Any] = {}
    for key in EXTENDED_KEYS:
        source = EXTENDED_FROM_PRODUCT.get(key)
        out[key] = number(ext.get(source)) if source else None
    if ext.get("cooper_test") is not None:
        out["isCooperTest"] = int(bool(ext["cooper_test"]))
    out["sunriseLocal"] = local_text(ext.get("sunrise"), a.utc_offset)
    out["sunsetLocal"] = local_text(ext.get("sunset"), a.utc_offset)
    out["powerAverage"] = number(a.summary.power_average)
    return out


UNIT_METRES = {"km": 1000.0, "mi": 1609.344}


def split_objects(splits: list[dict[str, Any]] | None, unit: str) -> list[dict[str, Any]]:
    """Smashrun splits (reference §5.12) from the analysis product `splits_km`/`splits_mi`
    (Strava `Split` fields, SI): cumulative distance in the split unit, clock seconds since the
    start at the end of the split, speed km/h, average heart rate when recorded."""
    out = []
    covered = 0.0
    for sp in splits or []:
        covered += sp["distance"]
        item: dict[str, Any] = {
            "distance": number(round(covered / UNIT_METRES[unit], 9)),
            "seconds": number(round(sp["start_time"] + sp["elapsed_time"], 6)),
            "speed": number(round(sp["average_speed"] * 3.6, 9)),
        }
        if sp.get("average_heartrate") is not None:
            item["heartRate"] = number(sp["average_heartrate"])
        item["elevationDifference"] = number(sp.get("elevation_difference"))
        out.append(item)
    return out


def geojson(a: Activity) -> dict[str, Any] | None:
    """The recorded track as a GeoJSON Feature (LineString, [lon, lat]); missing fixes skipped."""
    import numpy as np

    lat, lon = a.channels.get("latitude"), a.channels.get("longitude")
    if lat is None or lon is None:
        return None
    ok = np.isfinite(lat) & np.isfinite(lon)
    coords = np.column_stack((lon[ok], lat[ok])).tolist()
    if len(coords) < 2:
        return None
    return {
        "type": "Feature",
        "properties": {"activityId": a.id},
        "geometry": {"type": "LineString", "coordinates": coords},
    }


def svg_path(encoded: str | None) -> dict[str, Any] | None:
    """An SVG path of an encoded polyline: x = longitude scaled by cos(latitude) (so the shape is
    not stretched), y = -latitude, in a viewBox of the track's extent (degrees x 1e5)."""
    if not encoded:
        return None
    import polyline as polyline_codec

    pts = polyline_codec.decode(encoded)
    if len(pts) < 2:
        return None
    mid = math.cos(math.radians(sum(p[0] for p in pts) / len(pts)))
    xy = [(lon * mid * 1e5, -lat * 1e5) for lat, lon in pts]
    x0, y0 = min(p[0] for p in xy), min(p[1] for p in xy)
    w = max(p[0] for p in xy) - x0
    h = max(p[1] for p in xy) - y0
    d = "M" + " L".join(f"{x - x0:.1f} {y - y0:.1f}" for x, y in xy)
    return {"polyline": d, "viewBox": f"0 0 {w:.1f} {h:.1f}"}


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


def local_start(row: Row[Any]) -> datetime:
    """Naive local wall-clock start: UTC plus the run's own offset (DESIGN.md section 7)."""
    from datetime import timedelta

    return (row.start_utc + timedelta(seconds=row.utc_offset)).replace(tzinfo=None)


def run_fact(row: Row[Any]) -> Any:
    """analysis.stats.RunFact from the indexed columns (kept current by PATCH, unlike products)."""
    from runhub.analysis.stats import RunFact

    return RunFact(
        local_start=local_start(row), distance=row.distance or 0.0, duration=row.timer_time or 0.0, activity_id=row.id
    )


def notable_run(row: Row[Any], best_efforts: list[dict[str, Any]] | None) -> Any:
    """analysis.notables.NotableRun from columns, the stored summary and the best_efforts product."""
    from runhub.analysis.notables import NotableRun

    return NotableRun(
        id=row.id,
        local_start=local_start(row),
        distance=row.distance or 0.0,
        duration=row.timer_time or 0.0,
        elevation_gain=(row.summary or {}).get("elevation_gain"),
        best_efforts={e["name"]: e["elapsed_time"] for e in best_efforts or [] if e.get("elapsed_time") is not None},
    )


# notable reason codes whose value and previous best are distances (m inside, km outside)
_NOTABLE_METRES = ("distance", "distancedays")


def notable_object(n: dict[str, Any]) -> dict[str, Any]:
    """Notable (reference §5.9) from analysis.notables: `text` is Smashrun's `description`."""
    value, best = n.get("value"), n.get("previousBest")
    if n.get("reasonCode") in _NOTABLE_METRES:
        value, best = km(value), km(best)
    return {
        "description": n["text"],
        "reasonCode": n["reasonCode"],
        "period": n["period"],
        "supportingValue": number(n.get("supportingValue")),
        "isImperial": bool(n.get("isImperial")),
        "value": number(value),
        "previousBest": number(best),
    }


STATS_KEYS = (
    "runCount",
    "totalDistance",
    "averageSpeed",
    "averagePace",
    "longestRun",
    "longestRunWhen",
    "longestBreakBetweenRuns",
    "longestBreakBetweenRunsDate",
    "longestStreak",
    "longestStreakDate",
    "daysRunAM",
    "daysRunPM",
    "daysRunBoth",
    "averageDistancePerDay",
    "averageRunLength",
    "averageDaysRunPerWeek",
    "mostOftenRunOnDay",
    "mostOftenRunOnCount",
    "mostOftenRunOnAverageDistance",
    "leastOftenRunOnDay",
    "leastOftenRunOnCount",
    "leastOftenRunOnAverageDistance",
)
# Smashrun name (GO struct's JSON tags, reference 5.11) -> analysis.stats name where they differ
STATS_FROM_ANALYSIS = {
    "mostOftenRunOnCount": "mostOftenRunOnDayCount",
    "mostOftenRunOnAverageDistance": "mostOftenRunOnDayAverageDistance",
    "leastOftenRunOnCount": "leastOftenRunOnDayCount",
    "leastOftenRunOnAverageDistance": "leastOftenRunOnDayAverageDistance",
}


def stats_object(stats: dict[str, Any]) -> dict[str, Any]:
    """Stats (reference §5.11) in seed order; a field analysis leaves out (no runs) is null."""
    return {key: number(stats.get(key, stats.get(STATS_FROM_ANALYSIS.get(key, key)))) for key in STATS_KEYS}
