"""GPX 1.0/1.1 with Garmin TrackPointExtension v1/v2, power, cluetrust gpxdata and SportTracks' series:
decode and encode.

GPX 1.0 gives a point its speed (m/s) as a child of trkpt, GPX 1.1 moved it into extensions:
both are read, the extension's winning where a point has both.

Every file is checked by libxml2 (hardened: no DTD, no entities, no network, size-capped; see
_common.well_formed, run beside the scan by well_formed_while) before anything read is used.
Points are read by local element names, so every vendor's namespace prefix works, in one of two
ways that give identical results (tests/formats/test_gpx_scan.py): _scan, one compiled pass
over the bytes (xml_scan), for the files written by devices and apps (no comments, CDATA or
entity references in the values read); _walk, lxml's tree, for everything else. Each trkseg
(and trk) after the first starts with a pause. GPX itself carries no distance: where the points
give none of their own (GPX+'s gpxdata:distance, DATA_DISTANCE), it is computed on the WGS84
ellipsoid (geodesy.cumulative_distance) and does not accrue across a pause: a resume somewhere
else is not a distance run, nor does it run to a fix the receiver jumped to (a position
kilometres off for a second: geodesy.gps_jumps). A GPX without timestamps is a route.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import numpy as np

from runhub import sports
from runhub.activity import CHANNEL_BOUNDS, Activity, Lap, set_name, set_notes
from runhub.formats import EXPORT_OF, WRITER, FormatError, NotAnActivity, register, xml_scan
from runhub.formats._common import (
    check_start,
    clock_since,
    declaration_first,
    distance_channel,
    intensity_lap_types,
    localname,
    mask_impossible,
    parse_time,
    parse_xml,
    quarantine_backward_distance,
    running_spans,
    set_stated_offset,
    strictly_increasing,
    timer_channel,
    well_formed_while,
    xml_attr,
    xml_float,
    xml_longitude,
    xml_text,
    xml_time,
    xml_whole_channels,
)
from runhub.geodesy import pause_steps

MEDIA_TYPE = "application/gpx+xml"
NS = "http://www.topografix.com/GPX/1/1"
NS_TPX = "http://www.garmin.com/xmlschemas/TrackPointExtension/v2"
NS_PWR = "http://www.garmin.com/xmlschemas/PowerExtension/v1"
# ClueTrust's GPX+ (GPXDATA 1.0): laps in the gpx element's extensions, as MyTourbook, rubiTrack and
# other desktop logs read and write them; runhub's exports carry the laps this way too
NS_DATA = "http://www.cluetrust.com/XML/GPXDATA/1/0"
_LAP_ELEMENT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?lap[\s>]")
# SportTracks' GPX layout (namespace urn:uuid:D0EB2ED5-49B6-44e3-B13C-CF15BE7DD7DD), which SpoQ, ergometer
# apps and converters write too, keeps heart rate, cadence and power apart from the points, each
# entry at its own instant, in the gpx element's extensions (before the tracks or after them):
# st:activity/st:heartRateTrack/st:heartRate time= bpm=, cadenceTrack/cadence rpm=, powerTrack/power watts=
ST_TRACKS = {"heartRateTrack": ("heartRate", "bpm", "heart_rate"), "cadenceTrack": ("cadence", "rpm", "cadence"),
             "powerTrack": ("power", "watts", "power")}
_ST_TRACK = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:" + "|".join(ST_TRACKS).encode() + rb")[\s>]")
_TIME_TEXT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?time>\s*([^<\s]*)")
Series = dict[str, tuple[np.ndarray, np.ndarray]]  # channel -> (Unix seconds, values), at their own instants
LAP_OVERRUN_S = 3600.0  # how long after the last sample a GPX+ lap may end
# runhub's lap triggers (tcx.TRIGGERS' names) -> GPX+'s trigger kinds, as its schema (gpxdata10.xsd)
# names them; read back with the names converters from TCX write (a TriggerMethod lower-cased).
# Its intensity is "rest" or "active" (a converted TCX's "resting" is read as "rest").
DATA_TRIGGER_KINDS = {"manual": "manual", "distance": "distance", "position": "location", "time": "time",
                      "heart_rate": "hr"}
DATA_TRIGGERS = {kind: ours for ours, kind in DATA_TRIGGER_KINDS.items()} | {"heartrate": "heart_rate",
                                                                              "heart_rate": "heart_rate"}

# extension element (local name, lower case) -> channel
EXTENSIONS = {"hr": "heart_rate", "heartrate": "heart_rate", "cad": "cadence", "cadence": "cadence",
              "atemp": "temperature", "temp": "temperature", "power": "power", "powerinwatts": "power",
              "watts": "power", "speed": "speed"}
COLUMNS = ("latitude", "longitude", "altitude", "heart_rate", "cadence", "temperature", "power", "speed", "distance")
# the recorder's own cumulative distance, in metres: ClueTrust's GPX+ <gpxdata:distance> in a point's
# extensions ("distance in meters as measured by GPS or wheel sensor", gpxdata10.xsd), as Suunto's
# Movescount and COROS write it. Read in that namespace only: OpenTracks writes a distance of its
# own, and one in another ClueTrust namespace, beside it.
DATA_DISTANCE = f"{{{NS_DATA}}}distance"
# Strava's numbered types (16: a Strava swim's GPX, "Morning Swim")
STRAVA_TYPES = {"1": "cycling", "9": "running", "4": "hiking", "10": "walking", "16": "swimming"}


def _err(message: str, filename: str | None, location: str | None = None, fld: str | None = None) -> FormatError:
    return FormatError(message, format="gpx", file=filename, location=location, field=fld)


class _Raw:
    """What a GPX holds before checks: one entry per track point, in file order."""

    def __init__(self) -> None:
        self.times = np.zeros(0)  # Unix seconds, NaN where a point has no (readable) time
        self.cols: dict[str, np.ndarray] = {}
        self.breaks: list[int] = []  # point indexes that start a new trkseg (after the first point)
        self.switches: list[tuple[float, bool]] = []  # OpenTracks' legacy markers: (time, True: a pause)
        self.name: str | None = None
        self.desc: str | None = None
        self.trk_type: str | None = None
        self.creator: str | None = None
        self.meta_desc: str | None = None  # <metadata><desc>: EXPORT_DESC in runhub's exports
        self.n_trk = 0
        self.has_rte = False
        self.has_wpt = False

    @property
    def legacy_pause(self) -> bool:
        """OpenTracks before v4.18 marked its pauses with points (lat=100, lat=200)."""
        return bool(self.switches)


_NAMES = (b"gpx", b"trk", b"trkseg", b"trkpt", b"rte", b"name", b"desc", b"type", b"ele", b"time", b"extensions",
          b"metadata", *(k.encode() for k in EXTENSIONS), b"distance")
_CODE = {name: i + 1 for i, name in enumerate(_NAMES)}
_FIRST_EXT = _CODE[next(iter(EXTENSIONS)).encode()]  # extension names come last in _NAMES
_FOLDED = frozenset(k.encode() for k in EXTENSIONS)  # extension names match in any case, as in _walk
# what the scan reads from a point's extensions: the distance only where its namespace is sure (_data_distances)
_SCANNED = {**EXTENSIONS, "distance": "distance"}
_CHANNELS = tuple(dict.fromkeys(_SCANNED.values()))
_EXT_CHANNEL = np.full(len(_NAMES) + 1, -1, dtype=np.int8)  # tag code -> index in _CHANNELS
for _name, _channel in _SCANNED.items():
    _EXT_CHANNEL[_CODE[_name.encode()]] = _CHANNELS.index(_channel)
_DATA_PREFIX = re.compile(rb"""xmlns:gpxdata\s*=\s*["']([^"']*)["']""")
_DATA_DISTANCE_TAG = re.compile(rb"<gpxdata:distance[\s/>]")
_ATTRS = (b"lat", b"lon", b"creator")  # located by the scan: trkpt's position, gpx's creator
_LAT, _LON, _CREATOR = range(3)
# runhub's exports keep the recorder in `creator` (the round trip keeps the device) and say who
# wrote the file in the metadata's description (formats.WRITER)
EXPORT_DESC = f"exported by {WRITER}"
_EXPORT_DESC = re.compile(rf"{EXPORT_DESC}(?: \(activity (\d+)\))?")  # and of which activity (formats.EXPORT_OF)
_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([^"']*)["']""")


def _scan(data: bytes) -> _Raw | None:
    """The fast path: one compiled pass over the bytes (xml_scan), the same values as _walk;
    None sends the file to the lxml tree walk (comments, CDATA, entities in values read here,
    no track point)."""
    m = _ENCODING.match(data[:200].lstrip(b"\xef\xbb\xbf"))
    if m and m.group(1).lower() not in (b"utf-8", b"utf8", b"us-ascii", b"ascii"):
        return None  # names and descriptions in another encoding: lxml decodes them
    tags = xml_scan.scan(data, _NAMES, _FOLDED, _ATTRS, (1, 2, 3, 4))
    if tags is None or tags.n == 0 or tags.code[0] != _CODE[b"gpx"] or not tags.opening[0]:
        return None
    level, code, opening = tags.level, tags.code, tags.opening
    a1, a2, a3, a4 = tags.anc  # each tag's ancestor (or itself) at levels 1-4; -1 above that level
    code_of = np.append(code, 0)  # code_of[a]: the code of ancestor a, 0 for none (a = -1)
    pts = np.flatnonzero((level == 3) & (code == _CODE[b"trkpt"]) & (code_of[a2] == _CODE[b"trkseg"])
                         & (code_of[a1] == _CODE[b"trk"]))
    n_pts = len(pts)
    if n_pts == 0:
        return None  # the tree path says what the file is instead
    raw = _Raw()
    raw.n_trk = int(((level == 1) & (code == _CODE[b"trk"])).sum())
    raw.has_rte = bool(((level == 1) & (code == _CODE[b"rte"])).any())
    meta = {_CODE[b"name"]: "name", _CODE[b"desc"]: "desc", _CODE[b"type"]: "trk_type"}
    for i in np.flatnonzero((level == 2) & (code_of[a1] == _CODE[b"trk"]) & np.isin(code, list(meta))).tolist():
        key = meta[int(code[i])]
        if getattr(raw, key) is None:
            setattr(raw, key, tags.text(i).strip() or None)
    raw.creator = tags.attr(0, _CREATOR)
    for i in np.flatnonzero((level == 2) & (code == _CODE[b"desc"]) & (code_of[a1] == _CODE[b"metadata"]))[:1].tolist():
        raw.meta_desc = tags.text(i).strip() or None
    lat, lon = tags.attr_numbers(pts, _LAT), tags.attr_numbers(pts, _LON)
    if lat is None or lon is None:
        return None
    number = np.full(len(code) + 1, -1)
    number[pts] = np.arange(n_pts)
    point_of = number[a3]  # the point a tag is in (or is), -1 for none
    child = (level == 4) & (point_of >= 0)
    cols = {c: np.full(n_pts, np.nan) for c in COLUMNS}

    def last_child(name: bytes) -> np.ndarray:  # per point, its last child so named (-1: none)
        sel = np.flatnonzero(child & (code == _CODE[name]))
        return xml_scan.last_of(sel, point_of[sel], n_pts)

    distances = int((code == _CODE[b"distance"]).sum())
    if distances and not _data_distances(data, distances):
        return None  # a distance element of another namespace, or one unsure: lxml's tree decides
    ele, times = tags.numbers(last_child(b"ele")), tags.times(last_child(b"time"))
    if ele is None or times is None:
        return None
    cols["altitude"] = ele[0]
    # extension values: all read in one go; per channel the last non-blank one of a point wins
    ext = np.flatnonzero((code >= _FIRST_EXT) & (level >= 5) & opening & (point_of >= 0)
                         & (code_of[a4] == _CODE[b"extensions"]))
    got = tags.numbers(ext)
    if got is None:
        return None
    ext_values, blank = got
    ext, ext_values = ext[~blank], ext_values[~blank]
    channel_of = _EXT_CHANNEL[code[ext]]
    for k, channel in enumerate(_CHANNELS):
        mine = np.flatnonzero(channel_of == k)
        if len(mine):
            last = xml_scan.last_of(mine, point_of[ext[mine]], n_pts)
            cols[channel] = np.where(last >= 0, ext_values[last], np.nan)
    speed = tags.numbers(last_child(b"speed"))  # GPX 1.0's own <speed> (m/s), where no extension gives one
    if speed is None:
        return None
    cols["speed"] = np.where(np.isnan(cols["speed"]), speed[0], cols["speed"])
    # OpenTracks before v4.18 wrote a pause as lat=100 and a resume as lat=200
    marker = (lat == 100.0) | (lat == 200.0)
    raw.switches = [(float(times[i]), bool(lat[i] == 100.0)) for i in np.flatnonzero(marker).tolist()]
    valid = (lat >= -90) & (lat <= 90) & (lon >= -180) & (lon <= 180)
    cols["latitude"] = np.where(valid, lat, np.nan)
    cols["longitude"] = np.where(valid, lon, np.nan)
    seg = a2[pts]
    new_seg = np.ones(n_pts, dtype=bool)
    new_seg[1:] = seg[1:] != seg[:-1]
    # a marker starts a new segment for the next real point; markers themselves are not points
    first_after = new_seg | np.concatenate(([False], marker[:-1]))
    kept = ~marker
    starts_seg = np.maximum.accumulate(np.where(first_after, np.arange(n_pts), -1))
    # a kept point breaks if a segment start or marker lies between it and the previous kept point
    kept_idx = np.flatnonzero(kept)
    brk = np.zeros(len(kept_idx), dtype=bool)
    if len(kept_idx) > 1:
        brk[1:] = starts_seg[kept_idx[1:]] > kept_idx[:-1]
    raw.breaks = np.flatnonzero(brk).tolist()
    raw.times = times[kept]
    raw.cols = {k: v[kept] for k, v in cols.items()}
    return raw


def _data_distances(data: bytes, count: int) -> bool:
    """Whether the `count` elements named distance are all GPX+'s (DATA_DISTANCE), which the scan,
    reading local names, cannot tell by itself: the prefix gpxdata is declared once, for GPX+'s
    namespace, and every distance element is written with it (as Movescount and runhub's exports
    write it)."""
    return (_DATA_PREFIX.findall(data) == [NS_DATA.encode()]
            and len(_DATA_DISTANCE_TAG.findall(data)) == count)


def _walk(data: bytes, filename: str | None, max_bytes: int | None) -> _Raw:
    """The general path: lxml's tree, by local names (comments, CDATA, entities, any layout)."""
    root = parse_xml(data, "gpx", filename, max_bytes)
    if localname(root.tag) != "gpx":
        raise _err(f"root element is <{localname(root.tag)}>, not <gpx>", filename, "root")
    raw = _Raw()
    times: list[float | None] = []
    cols: dict[str, list[float]] = {c: [] for c in COLUMNS}
    for trk in root:
        tn = localname(trk.tag)
        if tn == "metadata" and raw.meta_desc is None:
            raw.meta_desc = next(((c.text or "").strip() or None for c in trk if localname(c.tag) == "desc"), None)
        if tn == "rte":
            raw.has_rte = True
        if tn == "wpt":
            raw.has_wpt = True
        if tn != "trk":
            continue
        raw.n_trk += 1
        for c in trk:
            cn = localname(c.tag)
            if cn == "name" and raw.name is None:
                raw.name = (c.text or "").strip() or None
            elif cn == "desc" and raw.desc is None:
                raw.desc = (c.text or "").strip() or None
            elif cn == "type" and raw.trk_type is None:
                raw.trk_type = (c.text or "").strip() or None
            elif cn == "trkseg":
                first_in_seg = True
                for pt in c:
                    if localname(pt.tag) != "trkpt":
                        continue
                    lat = xml_float(pt.get("lat"))
                    if lat in (100.0, 200.0):
                        first_in_seg = True
                        stamps = [c.text for c in pt if localname(c.tag) == "time"]  # the last wins, as in _point
                        when = parse_time(stamps[-1]) if stamps else None
                        raw.switches.append((math.nan if when is None else when, lat == 100.0))
                        continue
                    if first_in_seg and times:
                        raw.breaks.append(len(times))
                    first_in_seg = False
                    _point(pt, lat, times, cols)
    raw.creator = root.get("creator")
    raw.times = np.array([math.nan if x is None else x for x in times], dtype=np.float64)
    raw.cols = {k: np.asarray(v, dtype=np.float64) for k, v in cols.items()}
    return raw


def decode(data: bytes, *, filename: str | None = None, max_bytes: int | None = None,
           **_options: Any) -> list[Activity]:
    data = declaration_first(data)
    raw = well_formed_while(data, "gpx", filename, max_bytes, _scan) or _walk(data, filename, max_bytes)
    if len(raw.times) == 0:
        if raw.has_rte:  # a planned route (a folder import skips it)
            raise NotAnActivity("nothing to import: the file has a route (rte), not a recorded activity",
                                format="gpx", file=filename, location="trk")
        if raw.has_wpt:  # saved places (a folder import skips it)
            raise NotAnActivity("nothing to import: the file has waypoints (wpt) only, not a recorded activity",
                                format="gpx", file=filename, location="wpt")
        raise _err("nothing to import: the file has no track points", filename, "trk")
    t = raw.times
    timed = ~np.isnan(t)
    if not timed.any():  # a route drawn as a track (Strava's routes/, a planner's export)
        raise NotAnActivity("the track points have no timestamps: this is a route, not an activity",
                            format="gpx", file=filename, location="trkpt 1", field="time")
    arrays = raw.cols
    breaks = raw.breaks
    untimed = 0
    n_points = len(t)
    if not timed.all():
        # points without a time cannot be placed in the recording (GPSBabel writes untimed
        # route-like tracks next to timed ones): keep the timed ones, say how many were left out
        untimed = int((~timed).sum())
        before = np.concatenate(([0], np.cumsum(timed)))  # timed points before each raw index
        breaks = sorted({int(before[b]) for b in breaks} - {0})
        t = t[timed]
        arrays = {k: v[timed] for k, v in arrays.items()}
    series = _st_series(data, filename, max_bytes) if _outside_tracks(data, _ST_TRACK) else {}
    added = outside = 0
    if series:
        t, arrays, breaks, added, outside = _join_series(t, arrays, breaks, series)
    arrays["_raw"] = np.arange(len(t), dtype=np.float64)
    t, arrays, dropped = strictly_increasing(t, arrays)
    raw_kept = arrays.pop("_raw").astype(np.int64)
    if len(t) < 2:
        raise _err(f"only one distinct point in time ({n_points} track point(s)): not an activity",
                   filename, "trkpt", "time")
    start = datetime.fromtimestamp(float(t[0]), UTC)
    check_start(start, "gpx", filename, "trkpt 1")
    a = Activity(start=start, sport=_sport(raw.trk_type))
    set_stated_offset(a, _first_point_time(data))
    if dropped:
        a.extras["dropped_points"] = {"count": dropped, "why": "time not after the previous point"}
    if untimed:
        a.extras["untimed_points_left_out"] = untimed
    if series:
        a.extras["sporttracks_series"] = {name: len(times) for name, (times, _) in series.items()}
        if added:
            a.extras["sporttracks_instants_without_a_point"] = added
        if outside:
            a.extras["sporttracks_entries_outside_the_track"] = outside
    timer = _legacy_timer(raw.switches, t)
    if raw.legacy_pause:
        a.extras["opentracks_legacy_pauses"] = True
    if timer is not None:  # the app said when it paused: its timer, not the samples' gaps
        a.extras["pause_source"] = "opentracks pause markers"
    set_name(a, raw.name)
    if raw.desc:
        set_notes(a, raw.desc)
    if raw.creator and raw.creator.strip():
        a.device_name = raw.creator.strip()[:200]
    export = _EXPORT_DESC.fullmatch(raw.meta_desc or "")
    if export is not None:
        a.extras["written_by"] = WRITER
        if export.group(1) is not None:
            a.extras[EXPORT_OF] = int(export.group(1))
    n = len(t)
    pauses: list[int] = []
    for b in breaks:
        i = int(np.searchsorted(raw_kept, b, side="left"))
        if 1 <= i < n and (not pauses or i > pauses[-1]):
            pauses.append(i)
    channels: dict[str, np.ndarray] = {"time": clock_since(t, float(t[0]))}
    for k, arr in arrays.items():
        if not np.isnan(arr).all():
            channels[k] = arr
    if timer is not None:
        channels["timer"] = timer
    mask_impossible(channels, a.extras)  # first: a no-fix position must not make a distance
    recorded = channels.get("distance")
    if recorded is not None and (recorded < 0).any():  # no distance (Movescount wrote some below 0)
        channels["distance_recorded"] = channels.pop("distance")
        a.extras["distance_quarantined"] = "the recorded distance goes below 0; kept as distance_recorded"
    quarantine_backward_distance(channels, a.extras)
    if "distance" in channels:
        a.extras["distance_source"] = "recorded: the points' gpxdata:distance"
    elif "latitude" in channels:
        distance_channel(channels, a.sport, pause_steps(pauses), a.extras)
        a.extras["distance_source"] = "computed: WGS84 geodesic (pyproj), none across pauses"
    a.channels = channels
    a.pauses = pauses
    if _outside_tracks(data, _LAP_ELEMENT):
        a.laps = _laps(_data_laps(data, filename, max_bytes), t, a.extras)
    if raw.n_trk > 1:
        a.extras["gpx_tracks"] = raw.n_trk
    return [a]


def _first_point_time(data: bytes) -> str | None:
    """The first track point's time as written (the metadata's, where no trkpt is found unprefixed)."""
    m = _TIME_TEXT.search(data, max(data.find(b"<trkpt"), 0))
    return m.group(1).decode("ascii", "replace") if m else None


def _outside_tracks(data: bytes, element: re.Pattern[bytes]) -> bool:
    """Whether `element` is in the file outside its tracks: before the first or after the last
    (the gpx element's extensions, where writers put them in either place); the points between are
    not searched (a 1-hour file has 40,000 elements)."""
    head = data.find(b"<trk")
    return bool(element.search(data, 0, len(data) if head < 0 else head)
                or (head >= 0 and element.search(data, max(data.rfind(b"</trk>"), head))))


def _st_series(data: bytes, filename: str | None, max_bytes: int | None) -> Series:
    """SportTracks' series (`ST_TRACKS`) as {channel: (Unix seconds, values)}, entries without a
    readable time or value left out."""
    found: dict[str, tuple[list[float], list[float]]] = {}
    for activity in _gpx_extensions(data, filename, max_bytes, "activity"):
        for track in activity:
            entry, attr, channel = ST_TRACKS.get(localname(track.tag), (None, "", ""))
            if entry is None:
                continue
            times, values = found.setdefault(channel, ([], []))
            for x in track:
                when, value = parse_time(x.get("time")), xml_float(x.get(attr))
                if localname(x.tag) == entry and when is not None and math.isfinite(value):
                    times.append(when)
                    values.append(value)
    return {k: (np.array(ts, dtype=np.float64), np.array(vs, dtype=np.float64)) for k, (ts, vs) in found.items() if ts}


def _join_series(t: np.ndarray, arrays: dict[str, np.ndarray], breaks: list[int],
                 series: Series) -> tuple[np.ndarray, dict[str, np.ndarray], list[int], int, int]:
    """The series' entries joined to the points by their instants, nothing interpolated: an entry
    at a point's instant is that point's value where the point has none of its own (the point's
    extension wins, as its own speed does); an entry at any other instant is a sample of its own,
    without a position, after every point not later than it (points keep their file order; a point
    whose clock steps back is dropped later, as without series). Entries before the first point or
    after the last are left out: the recording is the track's (an entry years off is no sample).
    Returns (t, arrays, breaks, samples added, entries left out)."""
    lo, hi = float(t.min()), float(t.max())
    inside = {k: (ts >= lo) & (ts <= hi) for k, (ts, _) in series.items()}
    outside = sum(int((~keep).sum()) for keep in inside.values())
    series = {k: (ts[inside[k]], vs[inside[k]]) for k, (ts, vs) in series.items()}
    new = np.setdiff1d(np.concatenate([times for times, _ in series.values()]), t)
    if len(new):
        pos = np.searchsorted(np.maximum.accumulate(t), new, side="right")
        t = np.insert(t, pos, new)
        arrays = {k: np.insert(v, pos, np.nan) for k, v in arrays.items()}
        # every gap from a segment's last point to the next one's first is a pause, entries between
        # them included (a strap records through a pause)
        breaks = [i for b in breaks for i in range(b + int(np.searchsorted(pos, b - 1, side="right")),
                                                   b + int(np.searchsorted(pos, b, side="right")) + 1)]
    order = np.argsort(t, kind="stable")  # equal instants: the first point (the one kept)
    for name, (times, values) in series.items():
        col = arrays[name].copy()
        at = order[np.searchsorted(t[order], times)]
        own = ~np.isnan(col[at])
        col[at[~own]] = values[~own]
        arrays[name] = col
    return t, arrays, breaks, len(new), outside


def _gpx_extensions(data: bytes, filename: str | None, max_bytes: int | None, name: str) -> Iterator[Any]:
    """The gpx element's extensions' children of local name `name`, from lxml's tree: a second
    parse, which only the few files that hold such extensions pay."""
    for ext in parse_xml(data, "gpx", filename, max_bytes):
        if localname(ext.tag) == "extensions":
            yield from (child for child in ext if localname(child.tag) == name)


def _data_laps(data: bytes, filename: str | None, max_bytes: int | None) -> list[dict[str, Any]]:
    """GPX+ laps (gpx/extensions/lap, by local names) as plain totals, in file order."""
    laps = []
    for lap in _gpx_extensions(data, filename, max_bytes, "lap"):
        tot: dict[str, Any] = {}
        for x in lap:
            name = localname(x.tag)
            if name in ("startPoint", "endPoint"):
                tot[name] = {"lat": xml_float(x.get("lat")), "lon": xml_float(x.get("lon"))}
            elif name == "startTime":
                tot[name] = (x.text or "").strip()
            elif name in ("index", "elapsedTime", "calories", "distance"):
                tot[name] = xml_float(x.text)
            elif name == "trigger":  # the schema's kind attribute, or the kind as text (some writers)
                tot[name] = x.get("kind") or (x.text or "").strip() or None
            elif name == "intensity":
                tot[name] = (x.text or "").strip()
            elif name == "summary" and x.get("name"):
                tot.setdefault("summary", {})[x.get("name")] = xml_float(x.text)
        laps.append({k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in tot.items()})
    return laps


def _laps(raw_laps: list[dict[str, Any]], t: np.ndarray, extras: dict[str, Any]) -> list[Lap]:
    """GPX+ laps on the recording's clock (`t`: Unix seconds of the samples kept): each ends at its
    start plus its elapsed time. One without both, or not ending within the recording (after its
    first sample, at most an hour after its last: a pool swim's last lap runs on past its one
    point), cannot be placed, and how many is said in `extras`: a lap is the file's annotation,
    and a wrong one does not refuse the recording. One ending no later than the lap before is
    folded into it, as FIT's and TCX's are. A lap distance no run can have (negative, past the
    distance bound) is none.
    """
    first, last = float(t[0]), float(t[-1])
    clock = clock_since(t, first)

    def ends_in_recording(start: float | None, elapsed: float | None) -> bool:
        if start is None or elapsed is None or elapsed < 0:
            return False
        return first < start + elapsed <= last + LAP_OVERRUN_S

    starts = [parse_time(lap.get("startTime")) for lap in raw_laps]
    placed = sorted(((start, lap) for start, lap in zip(starts, raw_laps, strict=True)
                     if ends_in_recording(start, lap.get("elapsedTime"))), key=lambda pair: pair[0])
    if len(placed) < len(raw_laps):
        extras["gpx_laps_unplaced"] = len(raw_laps) - len(placed)
    types = intensity_lap_types([lap.get("intensity") for _, lap in placed])
    out: list[Lap] = []
    dist = 0.0
    for (start, lap), lap_type in zip(placed, types, strict=True):
        end_time = float(clock_since(start, first)) + lap["elapsedTime"]
        given = lap.get("distance")
        usable = given is not None and math.isfinite(given) and 0 <= given <= CHANNEL_BOUNDS["distance"][1] - dist
        dist += given if usable else 0.0
        if out and end_time <= (out[-1].end_time or 0.0):
            out[-1].totals.setdefault("merged_laps", []).append(lap)
            continue
        out.append(Lap(
            end_time=end_time,
            end_index=max(int(np.searchsorted(clock, end_time + 1e-6, side="right")) - 1, 0),
            end_distance=round(dist, 2) if usable else None,
            lap_type=lap_type,
            trigger=DATA_TRIGGERS.get((lap.get("trigger") or "").lower(), lap.get("trigger") or None),
            basis="time",
            totals=lap,
        ))
    return out


def _data_laps_xml(a: Activity, t0: float) -> list[str]:
    """The activity's laps as GPX+ laps (what `_data_laps` reads), each from the end of the one
    before (the first from the start) to its own end; laps without an end time are not written."""
    ch = a.channels
    lat, lon, time = ch.get("latitude"), ch.get("longitude"), ch["time"]

    def point(tag: str, i: int) -> str:
        if lat is None or lon is None or not 0 <= i < len(lat) or not np.isfinite(lat[i] + lon[i]):
            return ""
        return f'<gpxdata:{tag} lat="{lat[i]:.7f}" lon="{xml_longitude(lon[i])}"/>'

    out: list[str] = []
    begin, begin_index, begin_distance = 0.0, 0, 0.0
    for lap in a.laps:
        if lap.end_time is None:
            continue
        end_index = lap.end_index
        if end_index is None:
            end_index = int(np.searchsorted(time, lap.end_time, side="right")) - 1
        parts = [f"<gpxdata:lap><gpxdata:index>{len(out) + 1}</gpxdata:index>", point("startPoint", begin_index),
                 point("endPoint", end_index), f"<gpxdata:startTime>{xml_time(t0 + begin)}</gpxdata:startTime>",
                 f"<gpxdata:elapsedTime>{lap.end_time - begin:.3f}</gpxdata:elapsedTime>"]
        if lap.end_distance is not None:
            parts.append(f"<gpxdata:distance>{lap.end_distance - begin_distance:.2f}</gpxdata:distance>")
            begin_distance = lap.end_distance
        kind = DATA_TRIGGER_KINDS.get(lap.trigger or "")
        if kind is not None:
            parts.append(f'<gpxdata:trigger kind="{kind}"/>')
        intensity = "rest" if lap.lap_type == "recovery" else "active"
        parts.append(f"<gpxdata:intensity>{intensity}</gpxdata:intensity></gpxdata:lap>")
        out.append("".join(parts))
        begin, begin_index = lap.end_time, max(end_index, 0)
    return out


def _legacy_timer(switches: list[tuple[float, bool]], t: np.ndarray) -> np.ndarray | None:
    """The timer at each sample from OpenTracks' legacy pause (lat=100) and resume (lat=200) points,
    which carry the times it paused and resumed; None when a marker has no time."""
    if not switches or any(math.isnan(when) for when, _ in switches):
        return None
    first = float(t[0])
    spans = running_spans(sorted(switches, key=lambda s: s[0]), first, running=True, floor=first)
    return timer_channel(t, spans)


def _point(pt: Any, lat: float, times: list[float | None], cols: dict[str, list[float]]) -> None:
    row = dict.fromkeys(COLUMNS, math.nan)
    lon = xml_float(pt.get("lon"))
    if -90 <= lat <= 90 and -180 <= lon <= 180:
        row["latitude"], row["longitude"] = lat, lon
    t = None
    speed = math.nan
    for c in pt:
        cn = localname(c.tag)
        if cn == "time":
            t = parse_time(c.text)
        elif cn == "ele":
            row["altitude"] = xml_float(c.text)
        elif cn.lower() == "speed":
            speed = xml_float(c.text)
        elif cn == "extensions":
            for x in c.iter():
                key = "distance" if x.tag == DATA_DISTANCE else EXTENSIONS.get(localname(x.tag).lower())
                if key and x.text and x.text.strip():
                    row[key] = xml_float(x.text)
    if math.isnan(row["speed"]):
        row["speed"] = speed
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


def _export_desc(a: Activity) -> str:
    return EXPORT_DESC if a.id is None else f"{EXPORT_DESC} (activity {int(a.id)})"


def encode(a: Activity) -> bytes:
    """Activity -> GPX 1.1 with TrackPointExtension v2 (hr, cad, atemp, speed) and PowerExtension,
    and the laps as GPX+ laps (their ends to 1 ms, their distances to 1 cm).

    Each pause starts a new trkseg. Samples without a position are written without lat/lon
    would be invalid GPX, so they are left out (GPX cannot carry them; the format's limit).
    Resolution: time 1 ms (1 us between milliseconds), position 1e-7 deg, elevation 1 mm, speed
    1 mm/s, hr/cad/power whole, temperature 0.1 degC, distance 1 mm (GPX+'s gpxdata:distance, so
    the run keeps its odometer).
    """
    ch = a.channels
    n = a.n_samples
    if "latitude" in ch and "longitude" in ch:
        positioned = int(np.count_nonzero(np.isfinite(ch["latitude"]) & np.isfinite(ch["longitude"])))
    else:
        positioned = 0
    if positioned < 2:  # what `decode` refuses: no track point, or one point in time
        raise FormatError(f"GPX holds track points with a position, and this activity has {positioned} (an indoor "
                          "or pool activity, or a summary only): FIT, TCX and CSV carry it", format="gpx")
    ch = xml_whole_channels(ch)  # heart rate, cadence, power: whole, within the schemas' ranges
    t0 = a.start.timestamp()
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             f'<gpx version="1.1" creator={xml_attr(a.device_name or "runhub")} xmlns="{NS}" '
             f'xmlns:gpxtpx="{NS_TPX}" xmlns:gpxpx="{NS_PWR}" xmlns:gpxdata="{NS_DATA}">',
             f"<metadata><desc>{_export_desc(a)}</desc><time>{xml_time(t0)}</time></metadata>", "<trk>"]
    if a.name:
        lines.append(f"<name>{xml_text(a.name)}</name>")
    if a.notes:
        lines.append(f"<desc>{xml_text(a.notes)}</desc>")
    lines.append(f"<type>{xml_text(sports.get(a.sport).sweatstack)}</type>")
    lines.append("<trkseg>")
    pause_set = set(a.pauses)
    lat, lon = ch.get("latitude"), ch.get("longitude")

    def val(name: str, i: int) -> float | None:
        arr = ch.get(name)
        return None if arr is None or math.isnan(arr[i]) else float(arr[i])

    # a pause starts a new segment at the next point written, if one was written before it: several
    # pauses between two points are one break, and no segment is left empty
    written, paused = 0, False
    for i in range(n):
        paused = paused or i in pause_set
        if lat is None or lon is None or math.isnan(lat[i]) or math.isnan(lon[i]):
            continue
        if paused and written:
            lines.append("</trkseg><trkseg>")
        written, paused = written + 1, False
        parts = [f'<trkpt lat="{lat[i]:.7f}" lon="{xml_longitude(lon[i])}">']
        if (x := val("altitude", i)) is not None:
            parts.append(f"<ele>{x:.3f}</ele>")
        parts.append(f"<time>{xml_time(t0 + float(ch['time'][i]))}</time>")
        tpx = []
        if (x := val("temperature", i)) is not None:
            tpx.append(f"<gpxtpx:atemp>{x:.1f}</gpxtpx:atemp>")
        if (x := val("heart_rate", i)) is not None:
            tpx.append(f"<gpxtpx:hr>{int(x)}</gpxtpx:hr>")
        if (x := val("cadence", i)) is not None:
            tpx.append(f"<gpxtpx:cad>{int(x)}</gpxtpx:cad>")
        if (x := val("speed", i)) is not None:
            tpx.append(f"<gpxtpx:speed>{x:.3f}</gpxtpx:speed>")
        ext = []
        if tpx:
            ext.append("<gpxtpx:TrackPointExtension>" + "".join(tpx) + "</gpxtpx:TrackPointExtension>")
        if (x := val("power", i)) is not None:
            ext.append(f"<gpxpx:PowerInWatts>{int(x)}</gpxpx:PowerInWatts>")
        if (x := val("distance", i)) is not None:
            ext.append(f"<gpxdata:distance>{x:.3f}</gpxdata:distance>")
        if ext:
            parts.append("<extensions>" + "".join(ext) + "</extensions>")
        parts.append("</trkpt>")
        lines.append("".join(parts))
    lines += ["</trkseg>", "</trk>"]
    laps = _data_laps_xml(a, t0)
    if laps:
        lines += ["<extensions>", *laps, "</extensions>"]
    lines += ["</gpx>", ""]
    return "\n".join(lines).encode("utf-8")


register("gpx", decode, encode, MEDIA_TYPE)
