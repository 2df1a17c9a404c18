"""GPX 1.0/1.1 with Garmin TrackPointExtension v1/v2, power and cluetrust gpxdata: decode and encode.

Read on hardened lxml (see _common.parse_xml), by local element names, so every vendor's
namespace prefix works. Each trkseg (and trk) after the first starts with a pause. GPX carries
no distance, so it is computed on the WGS84 ellipsoid (pyproj Geod) and does not accrue across
a pause: a resume somewhere else is not a distance run. A GPX without timestamps is a route.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import numpy as np

from runhub import sports
from runhub.activity import Activity
from runhub.formats import FormatError, register
from runhub.formats._common import (
    check_start,
    localname,
    mask_impossible,
    parse_time,
    parse_xml,
    strictly_increasing,
    xml_float,
)
from runhub.geodesy import cumulative_distance, pause_steps

MEDIA_TYPE = "application/gpx+xml"
NS = "http://www.topografix.com/GPX/1/1"
NS_TPX = "http://www.garmin.com/xmlschemas/TrackPointExtension/v2"
NS_PWR = "http://www.garmin.com/xmlschemas/PowerExtension/v1"

# extension element (local name, lower case) -> channel
EXTENSIONS = {"hr": "heart_rate", "heartrate": "heart_rate", "cad": "cadence", "cadence": "cadence",
              "atemp": "temperature", "temp": "temperature", "power": "power", "powerinwatts": "power",
              "watts": "power", "speed": "speed"}
COLUMNS = ("latitude", "longitude", "altitude", "heart_rate", "cadence", "temperature", "power", "speed")
STRAVA_TYPES = {"1": "cycling", "9": "running", "4": "hiking", "10": "walking"}

def _err(message: str, filename: str | None, location: str | None = None, fld: str | None = None) -> FormatError:
    return FormatError(message, format="gpx", file=filename, location=location, field=fld)


def decode(data: bytes, *, filename: str | None = None, max_bytes: int | None = None,
           **_options: Any) -> list[Activity]:
    root = parse_xml(data, "gpx", filename, max_bytes)
    if localname(root.tag) != "gpx":
        raise _err(f"root element is <{localname(root.tag)}>, not <gpx>", filename, "root")
    times: list[float | None] = []
    cols: dict[str, list[float]] = {c: [] for c in COLUMNS}
    breaks: list[int] = []
    legacy_pause = False
    name = desc = trk_type = None
    n_trk = 0
    for trk in root:
        if localname(trk.tag) != "trk":
            continue
        n_trk += 1
        for c in trk:
            cn = localname(c.tag)
            if cn == "name" and name is None:
                name = (c.text or "").strip() or None
            elif cn == "desc" and desc is None:
                desc = (c.text or "").strip() or None
            elif cn == "type" and trk_type is None:
                trk_type = (c.text or "").strip() or None
            elif cn == "trkseg":
                first_in_seg = True
                for pt in c:
                    if localname(pt.tag) != "trkpt":
                        continue
                    lat = xml_float(pt.get("lat"))
                    # OpenTracks before v4.18 wrote a pause as lat=100 and a resume as lat=200
                    if lat in (100.0, 200.0):
                        legacy_pause = True
                        first_in_seg = True
                        continue
                    if first_in_seg and times:
                        breaks.append(len(times))
                    first_in_seg = False
                    _point(pt, lat, times, cols)
    if not times:
        has_rte = any(localname(e.tag) == "rte" for e in root)
        what = "a route (rte), not a recorded activity" if has_rte else "no track points"
        raise _err(f"nothing to import: the file has {what}", filename, "trk")
    missing = [i for i, t in enumerate(times) if t is None]
    if missing:
        if len(missing) == len(times):
            raise _err("the track points have no timestamps: this is a route, not an activity", filename,
                       "trkpt 1", "time")
    t = np.asarray([math.nan if x is None else x for x in times], dtype=np.float64)
    arrays = {k: np.asarray(v, dtype=np.float64) for k, v in cols.items()}
    untimed = 0
    if missing:
        # points without a time cannot be placed in the recording (GPSBabel writes untimed
        # route-like tracks next to timed ones): keep the timed ones, say how many were left out
        timed = ~np.isnan(t)
        untimed = int((~timed).sum())
        before = np.concatenate(([0], np.cumsum(timed)))  # timed points before each raw index
        breaks = sorted({int(before[b]) for b in breaks} - {0})
        t = t[timed]
        arrays = {k: v[timed] for k, v in arrays.items()}
    arrays["_raw"] = np.arange(len(t), dtype=np.float64)
    t, arrays, dropped = strictly_increasing(t, arrays)
    raw_kept = arrays.pop("_raw").astype(np.int64)
    if len(t) < 2:
        raise _err(f"only one distinct point in time ({len(times)} track point(s)): not an activity",
                   filename, "trkpt", "time")
    start = datetime.fromtimestamp(float(t[0]), UTC)
    check_start(start, "gpx", filename, "trkpt 1")
    a = Activity(start=start, sport=_sport(trk_type))
    if dropped:
        a.extras["dropped_points"] = {"count": dropped, "why": "time not after the previous point"}
    if untimed:
        a.extras["untimed_points_left_out"] = untimed
    if legacy_pause:
        a.extras["opentracks_legacy_pauses"] = True
    a.name = name
    if desc:
        a.notes = desc[:800]
    creator = root.get("creator")
    if creator:
        a.device_name = creator.strip()[:200]
    n = len(t)
    pauses: list[int] = []
    for raw in breaks:
        i = int(np.searchsorted(raw_kept, raw, side="left"))
        if 1 <= i < n and (not pauses or i > pauses[-1]):
            pauses.append(i)
    channels: dict[str, np.ndarray] = {"time": t - t[0]}
    for k, arr in arrays.items():
        if not np.isnan(arr).all():
            channels[k] = arr
    if "latitude" in channels:
        channels["distance"] = cumulative_distance(channels["latitude"], channels["longitude"], pause_steps(pauses))
        a.extras["distance_source"] = "computed: WGS84 geodesic (pyproj), none across pauses"
    mask_impossible(channels, a.extras)
    a.channels = channels
    a.pauses = pauses
    if n_trk > 1:
        a.extras["gpx_tracks"] = n_trk
    return [a]


def _point(pt: Any, lat: float, times: list[float | None], cols: dict[str, list[float]]) -> None:
    row = dict.fromkeys(COLUMNS, math.nan)
    lon = xml_float(pt.get("lon"))
    if -90 <= lat <= 90 and -180 <= lon <= 180:
        row["latitude"], row["longitude"] = lat, lon
    t = None
    for c in pt:
        cn = localname(c.tag)
        if cn == "time":
            t = parse_time(c.text)
        elif cn == "ele":
            row["altitude"] = xml_float(c.text)
        elif cn == "extensions":
            for x in c.iter():
                key = EXTENSIONS.get(localname(x.tag).lower())
                if key and x.text and x.text.strip():
                    row[key] = xml_float(x.text)
    times.append(t)
    for k in COLUMNS:
        cols[k].append(row[k])


def _sport(trk_type: str | None) -> str:
    if not trk_type:
        return "generic"
    if trk_type in STRAVA_TYPES:
        return STRAVA_TYPES[trk_type]
    try:
        return sports.from_name(trk_type)
    except sports.UnknownSport:
        return "generic"


# ---------------------------------------------------------------------------- encode


def _fmt_time(unix: float) -> str:
    d = datetime.fromtimestamp(unix, UTC)
    return d.strftime("%Y-%m-%dT%H:%M:%S") + f".{d.microsecond // 1000:03d}Z"


def encode(a: Activity) -> bytes:
    """Activity -> GPX 1.1 with TrackPointExtension v2 (hr, cad, atemp, speed) and PowerExtension.

    Each pause starts a new trkseg. Samples without a position are written without lat/lon
    would be invalid GPX, so they are left out (GPX cannot carry them; the format's limit).
    Resolution: time 1 ms, position 1e-7 deg, elevation 1 mm, speed 1 mm/s, hr/cad/power whole,
    temperature 0.1 degC.
    """
    ch = a.channels
    n = a.n_samples
    t0 = a.start.timestamp()
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             f'<gpx version="1.1" creator={quoteattr(a.device_name or "runhub")} xmlns="{NS}" '
             f'xmlns:gpxtpx="{NS_TPX}" xmlns:gpxpx="{NS_PWR}">',
             f"<metadata><time>{_fmt_time(t0)}</time></metadata>", "<trk>"]
    if a.name:
        lines.append(f"<name>{escape(a.name)}</name>")
    if a.notes:
        lines.append(f"<desc>{escape(a.notes)}</desc>")
    lines.append(f"<type>{escape(sports.get(a.sport).sweatstack)}</type>")
    lines.append("<trkseg>")
    pause_set = set(a.pauses)
    lat, lon = ch.get("latitude"), ch.get("longitude")

    def val(name: str, i: int) -> float | None:
        arr = ch.get(name)
        return None if arr is None or math.isnan(arr[i]) else float(arr[i])

    for i in range(n):
        if i in pause_set:
            lines.append("</trkseg><trkseg>")
        if lat is None or lon is None or math.isnan(lat[i]) or math.isnan(lon[i]):
            continue
        parts = [f'<trkpt lat="{lat[i]:.7f}" lon="{lon[i]:.7f}">']
        if (x := val("altitude", i)) is not None:
            parts.append(f"<ele>{x:.3f}</ele>")
        parts.append(f"<time>{_fmt_time(t0 + float(ch['time'][i]))}</time>")
        tpx = []
        if (x := val("temperature", i)) is not None:
            tpx.append(f"<gpxtpx:atemp>{x:.1f}</gpxtpx:atemp>")
        if (x := val("heart_rate", i)) is not None:
            tpx.append(f"<gpxtpx:hr>{int(round(x))}</gpxtpx:hr>")
        if (x := val("cadence", i)) is not None:
            tpx.append(f"<gpxtpx:cad>{int(round(x))}</gpxtpx:cad>")
        if (x := val("speed", i)) is not None:
            tpx.append(f"<gpxtpx:speed>{x:.3f}</gpxtpx:speed>")
        ext = []
        if tpx:
            ext.append("<gpxtpx:TrackPointExtension>" + "".join(tpx) + "</gpxtpx:TrackPointExtension>")
        if (x := val("power", i)) is not None:
            ext.append(f"<gpxpx:PowerInWatts>{int(round(x))}</gpxpx:PowerInWatts>")
        if ext:
            parts.append("<extensions>" + "".join(ext) + "</extensions>")
        parts.append("</trkpt>")
        lines.append("".join(parts))
    lines += ["</trkseg>", "</trk>", "</gpx>", ""]
    return "\n".join(lines).encode("utf-8")


register("gpx", decode, encode, MEDIA_TYPE)
