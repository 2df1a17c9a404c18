"""Pure metrics over the canonical Activity's arrays (no database, no HTTP). Definitions and
time-base conventions for API users: docs/metrics.md.

`analyse()` is what ingest calls: the summary plus every per-activity product that is stored
once at import so that longitudinal queries never re-read raw streams.

Products (name -> value; numpy arrays are stored as raw float64, the rest as JSON):

* `splits_km`, `splits_mi`: list of Strava `Split` dicts (+ start_time, start/end_index), SI.
* `laps`: list of Strava `Lap` dicts recomputed from the streams (one lap when none recorded).
* `best_efforts` (running, walking, hiking): list of {name, distance, elapsed_time, moving_time, start_time, end_time,
  start_index, end_index} for the standard distances covered (best_efforts.STANDARD_DISTANCES).
* `mm_<metric>` and `mm_<metric>_start` for metric in power, speed, heart_rate, cadence:
  float64 arrays aligned with `mean_max.GRID[:len(array)]` (the grid up to the activity's
  length): best average (W, m/s, bpm, rpm) and the clock second (since the activity start) the
  best window starts. NaN where a duration has no value. The store keeps them as float32 in
  their own table (store.activities: activity_curves) for longitudinal queries.
* `hist_<metric>`: float64 seconds per bin (zones.HIST_BINS: 1 bpm, 1 W, 0.01 m/s, 1 rpm),
  pauses and missing samples out; gives zones, AWD and TRIMP without the streams.
* `extended`: Smashrun extended fields (pace variability, Cooper, sun/moon, night, elevation
  gain/loss/ascent/descent/max/min/net, max power) as a dict.
* `summary_polyline`: Google encoded polyline (precision 5) of the track simplified at 10 m
  (Strava's map.summary_polyline); a full-resolution `map.polyline` is
  `extended.encoded_polyline(lat, lon, tolerance_m=1.0)` on request.
* `facts`: plain per-activity facts for longitudinal stats (local start, distance, times,
  elevation gain, average heart rate).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from runhub.activity import Activity, Summary, check_summary


@dataclass
class Analysis:
    summary: Summary
    products: dict[str, Any] = field(default_factory=dict)  # name -> JSON-serialisable value or ndarray


MEAN_MAX_METRICS = ("power", "speed", "heart_rate", "cadence")
FOOT_SPORTS = ("running", "walking", "hiking")  # best efforts are a running record (Strava: runs only)


def facts(a: Activity, s: Summary) -> dict[str, Any]:
    """What longitudinal stats/notables/goals need of one activity, as plain data."""
    local = a.local_start
    return {
        "local_start": local.replace(tzinfo=None).isoformat(),
        "sport": a.sport,
        "distance": s.distance,
        "elapsed_time": s.elapsed_time,
        "timer_time": s.timer_time,
        "moving_time": s.moving_time,
        "elevation_gain": s.elevation_gain,
        "elevation_loss": s.elevation_loss,
        "heart_rate_average": s.heart_rate_average,
        "temperature_average": s.temperature_average,
        "is_race": a.is_race,
    }


def analyse(activity: Activity) -> Analysis:
    """Summary and every stored product of one activity. ActivityError when the summary is out of
    range (`check_summary`), checked before any product is built on it."""
    from runhub.analysis.best_efforts import best_efforts
    from runhub.analysis.elevation import elevation_stats
    from runhub.analysis.extended import cooper, encoded_polyline, is_night, pace_variability, sun_moon
    from runhub.analysis.geo import distance_stream
    from runhub.analysis.mean_max import mean_max
    from runhub.analysis.splits import KM, MILE, Cumulative, laps, split_lists
    from runhub.analysis.summary import summarize
    from runhub.analysis.timebase import time_base
    from runhub.analysis.zones import HIST_BINS, histogram, speed_histogram

    a = activity
    if not a.has_streams or a.n_samples < 2:
        s = a.summary if not a.has_streams else summarize(a)
        check_summary(s)
        return Analysis(summary=s, products={"facts": facts(a, s)})
    tb = time_base(a)
    ch = a.channels
    alt = ch.get("altitude")
    elev = elevation_stats(alt, tb.t, tb.paused) if alt is not None and np.isfinite(alt).any() else None
    dist = distance_stream(a, tb)
    s = summarize(a, tb, elev, dist)
    check_summary(s)  # the products below grow with the distance: none of an impossible one
    products: dict[str, Any] = {"facts": facts(a, s)}
    cum = Cumulative.build(a, tb, dist)
    if dist is not None and dist[-1] > dist[0]:
        products["splits_km"], products["splits_mi"] = split_lists(a, tb, dist, (KM, MILE), cum, elev=elev)
        if a.sport.split(".")[0] in FOOT_SPORTS:
            products["best_efforts"] = best_efforts(tb.t, dist, a.sport, cum.moving)
    products["laps"] = laps(a, tb, dist, cum, elev)
    for metric in MEAN_MAX_METRICS:
        x = dist if metric == "speed" else ch.get(metric)
        if x is None or (metric != "speed" and not np.isfinite(x).any()):
            continue
        if metric == "speed" and x[-1] <= x[0]:
            continue
        _, vals, starts = mean_max(tb, metric, x)
        products[f"mm_{metric}"] = vals
        products[f"mm_{metric}_start"] = starts
    for metric, width in HIST_BINS.items():
        if metric == "speed":
            if dist is None:
                continue
            h = speed_histogram(dist, tb.dt, tb.weights, width)
        else:
            x = ch.get(metric)
            if x is None:
                continue
            h = histogram(x[1:], tb.weights, width)
        if len(h):
            products[f"hist_{metric}"] = h
    ext: dict[str, Any] = {}
    if dist is not None:
        ext["pace_variability"] = pace_variability(tb, dist)
        ext.update(cooper(tb, dist))
    if elev is not None:
        ext.update(
            elevation_gain=elev.gain,
            elevation_loss=elev.loss,
            elevation_ascent=elev.ascent,
            elevation_descent=elev.descent,
            elevation_max=elev.max,
            elevation_min=elev.min,
            elevation_net=elev.net,
            max_climb=elev.max_climb,
            max_descent=elev.max_descent,
        )
    ext["max_power"] = s.power_max
    if s.start_latitude is not None and s.start_longitude is not None:
        ext.update(sun_moon(s.start_latitude, s.start_longitude, a.start, a.utc_offset))
        ext["night"] = is_night(s.start_latitude, s.start_longitude, a.start, tb.elapsed, a.utc_offset)
        lat, lon = ch["latitude"], ch["longitude"]
        products["summary_polyline"] = encoded_polyline(lat, lon, tolerance_m=10.0)
    products["extended"] = ext
    return Analysis(summary=s, products=products)
