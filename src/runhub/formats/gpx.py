"""GPX 1.0/1.1 with Garmin TrackPointExtension v1/v2, power and cluetrust gpxdata: decode and encode.

Every file is first checked by libxml2 (hardened: no DTD, no entities, no network, size-capped;
see _common.well_formed). Points are then read by local element names, so every vendor's
namespace prefix works, in one of two ways that give identical results (tests/formats/
test_gpx_scan.py): _scan, a vectorised byte scan, for the files written by devices and apps (no
comments, CDATA or entity references in points); _walk, lxml's tree, for everything else. Each
trkseg (and trk) after the first starts with a pause. GPX carries no distance, so it is computed
on the WGS84 ellipsoid (geodesy.cumulative_distance) and does not accrue across a pause: a
resume somewhere else is not a distance run. A GPX without timestamps is a route.
"""

from __future__ import annotations

import html
import math
import re
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import numpy as np

from runhub import sports
from runhub.activity import Activity
from runhub.formats import FormatError, register
from runhub.formats._common import (
    byte_flags,
    check_start,
    first_flag,
    floats,
    iso_times,
    localname,
    mask_impossible,
    name_end_flags,
    nonblank,
    parse_time,
    parse_xml,
    place_last,
    scan_tags,
    strictly_increasing,
    well_formed,
    words_of,
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


class _Raw:
    """What a GPX holds before checks: one entry per track point, in file order."""

    def __init__(self) -> None:
        self.times = np.zeros(0)  # Unix seconds, NaN where a point has no (readable) time
        self.cols: dict[str, np.ndarray] = {}
        self.breaks: list[int] = []  # point indexes that start a new trkseg (after the first point)
        self.legacy_pause = False
        self.name: str | None = None
        self.desc: str | None = None
        self.trk_type: str | None = None
        self.creator: str | None = None
        self.n_trk = 0
        self.has_rte = False


def _text(tags: Any, i: int) -> str | None:
    """An element's own text (before any child), entities decoded; None when empty."""
    if not tags.opening[i]:
        return None
    if not tags.ends_sure(np.array([i])):
        raise _Unsure
    nxt = tags.pos[i + 1] if i + 1 < len(tags.pos) else len(tags.data)
    return html.unescape(tags.data[tags.end[i] + 1:nxt].decode("utf-8", "replace")).strip() or None


_ATTR = {k: re.compile(rb"(?<![\w.:-])" + k + rb"\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
         for k in (b"lat", b"lon", b"creator")}


def _attr(tag_bytes: bytes, key: bytes) -> str | None:
    m = _ATTR[key].search(tag_bytes)
    if not m:
        return None
    return html.unescape((m.group(1) if m.group(1) is not None else m.group(2)).decode("utf-8", "replace"))


_NAMES = (b"gpx", b"trk", b"trkseg", b"trkpt", b"rte", b"name", b"desc", b"type", b"ele", b"time", b"extensions",
          *(k.encode() for k in EXTENSIONS))
_CODE = {name: i + 1 for i, name in enumerate(_NAMES)}
_FIRST_EXT = _CODE[next(iter(EXTENSIONS)).encode()]  # extension names come last in _NAMES
_FOLDED = frozenset(k.encode() for k in EXTENSIONS)  # extension names match in any case, as in _walk
_CHANNELS = tuple(dict.fromkeys(EXTENSIONS.values()))
_EXT_CHANNEL = np.full(len(_NAMES) + 1, -1, dtype=np.int8)  # tag code -> index in _CHANNELS
for _name, _channel in EXTENSIONS.items():
    _EXT_CHANNEL[_CODE[_name.encode()]] = _CHANNELS.index(_channel)


class _Unsure(Exception):
    """The scan cannot be sure of a value: the tree walk reads the file."""


def _scan(data: bytes) -> _Raw | None:
    """The fast path (see _common.scan_tags): None sends the file to the lxml tree walk."""
    try:
        return _scan_tags(data)
    except _Unsure:
        return None


_ATTR_KEYS = {key: np.frombuffer(key.ljust(8, b"\0"), dtype="<u8")[0] for key in (b' lat="', b' lon="')}
_KEY_MASK = np.uint64((1 << 48) - 1)  # the 6 bytes of ' lat="'


_QUOTE = byte_flags(ord('"'))
_VALUE_WORDS = 3  # lat/lon values up to 24 bytes are read by _attributes_adjacent


def _attributes_adjacent(tags: Any, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """lat and lon when every trkpt tag starts `<trkpt lat="..." lon="..."` (or lon first): the
    first attribute right after the name, the second right after the first's closing quote, so
    neither can sit inside another value. Read 8 bytes at a time; None: _attributes decides."""
    buf = tags.buf
    first, end = tags.pos[pts] + 1, tags.end[pts]
    if int(end.max()) + 8 * _VALUE_WORDS + 16 > len(buf):
        return None
    words = words_of(buf)
    key_at = first + first_flag([words[first], words[first + 8]], name_end_flags, 16)
    values, keys = [], []
    for _ in range(2):
        key = words[key_at] & _KEY_MASK
        off = key_at + 6
        size = first_flag([words[off + 8 * j] for j in range(_VALUE_WORDS)], _QUOTE, 8 * _VALUE_WORDS)
        if (size == 8 * _VALUE_WORDS).any() or (off + size >= end).any():
            return None
        v = max(int(size.max()), 1)
        vals = np.lib.stride_tricks.sliding_window_view(buf, v)[off].copy()
        vals[np.arange(v) >= size[:, None]] = 0
        if (vals == ord("&")).any():
            return None
        keys.append(key)
        values.append(floats(vals.view(f"S{v}").ravel()))
        key_at = off + size + 1
    lat_first = keys[0] == _ATTR_KEYS[b' lat="']
    if not (lat_first | (keys[0] == _ATTR_KEYS[b' lon="'])).all():
        return None
    if not (keys[1] == np.where(lat_first, _ATTR_KEYS[b' lon="'], _ATTR_KEYS[b' lat="'])).all():
        return None
    return np.where(lat_first, values[0], values[1]), np.where(lat_first, values[1], values[0])


def _attributes(tags: Any, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """lat and lon of each trkpt start tag: exactly one ` lat="..."` and one ` lon="..."` in each,
    outside any other attribute's value; any other spelling (single quotes in the tag, spaces
    around '=', entities) returns None.

    Found from the '=' of the document: each is read with the 4 bytes before it as one integer,
    so the work is per attribute, not per byte of every trkpt tag.
    """
    buf = tags.buf
    if len(buf) < 16:
        return None
    pstart, pend = tags.pos[pts], tags.end[pts]
    eq = np.flatnonzero(buf == ord("="))
    eq = eq[(eq >= 4) & (eq + 4 <= len(buf))]
    words = words_of(buf)
    at = words[eq - 4] & _KEY_MASK
    dq = np.flatnonzero(buf == ord('"'))
    sq = np.flatnonzero(buf == ord("'"))
    if len(sq) and (np.searchsorted(sq, pend) != np.searchsorted(sq, pstart)).any():
        return None  # single quotes: a ' lat="' could sit inside a value, let the tree decide
    out = []
    for key in (b' lat="', b' lon="'):
        hit = eq[at == _ATTR_KEYS[key]] - 4  # where ' lat="' starts
        owner = np.searchsorted(pstart, hit, side="right") - 1
        inside = owner >= 0
        inside[inside] = hit[inside] < pend[owner[inside]]
        hit, owner = hit[inside], owner[inside]
        if len(hit) != len(pts) or (len(hit) > 1 and not (np.diff(owner) > 0).all()):
            return None  # a trkpt without exactly one
        # outside other values: an even number of '"' between the tag's start and the key
        if ((np.searchsorted(dq, hit) - np.searchsorted(dq, pstart)) % 2).any():
            return None
        off = hit + 6
        close = dq[np.minimum(np.searchsorted(dq, off), len(dq) - 1)]
        size = close - off
        if (close < off).any() or (close >= pend).any():
            return None
        v = max(int(size.max()), 1)
        if int(off.max()) + v > len(buf):
            return None
        vals = np.lib.stride_tricks.sliding_window_view(buf, v)[off].copy()
        vals[np.arange(v) >= size[:, None]] = 0
        if (vals == ord("&")).any():
            return None
        out.append(floats(vals.view(f"S{v}").ravel()))
    return out[0], out[1]


_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([^"']*)["']""")


def _scan_tags(data: bytes) -> _Raw | None:
    m = _ENCODING.match(data[:200].lstrip(b"\xef\xbb\xbf"))
    if m and m.group(1).lower() not in (b"utf-8", b"utf8", b"us-ascii", b"ascii"):
        return None  # names and descriptions in another encoding: lxml decodes them
    tags = scan_tags(data, _NAMES, _FOLDED)
    if tags is None or len(tags.pos) == 0 or tags.code[0] != _CODE[b"gpx"] or not tags.opening[0]:
        return None
    # only start tags matter below (closing tags carry no name, text or ancestor), so every array
    # is over them: half the work. `st` maps a start tag's number to its index among all tags.
    st = np.flatnonzero(~tags.closing)
    level, code, opening = tags.level[st], tags.code[st], tags.opening[st]
    idx = np.arange(len(st))

    def ancestor(lv: int) -> np.ndarray:  # number of the latest start tag at level lv, for every start tag
        return np.maximum.accumulate(np.where(level == lv, idx, -1))

    a1, a2, a3, a4 = ancestor(1), ancestor(2), ancestor(3), ancestor(4)

    def named(i: np.ndarray, name: bytes) -> np.ndarray:
        return (i >= 0) & (code[np.maximum(i, 0)] == _CODE[name])

    is_trk = (level == 1) & (code == _CODE[b"trk"])
    is_pt = (level == 3) & (code == _CODE[b"trkpt"]) & named(a2, b"trkseg") & named(a1, b"trk")
    pts_s = np.flatnonzero(is_pt)
    pts = st[pts_s]
    if len(pts) == 0:
        return None  # the tree path says what the file is instead
    raw = _Raw()
    raw.n_trk = int(is_trk.sum())
    raw.has_rte = bool(((level == 1) & (code == _CODE[b"rte"])).any())
    meta = {_CODE[b"name"]: "name", _CODE[b"desc"]: "desc", _CODE[b"type"]: "trk_type"}
    for i in st[np.flatnonzero((level == 2) & named(a1, b"trk") & np.isin(code, list(meta)))]:
        key = meta[int(tags.code[i])]
        if getattr(raw, key) is None:
            setattr(raw, key, _text(tags, int(i)))
    if not tags.ends_sure(np.array([0])):
        return None
    raw.creator = _attr(data[tags.pos[0]:tags.end[0] + 1], b"creator")
    # lat/lon: the attributes of each trkpt start tag, read where they surely are attributes (see
    # _attributes_adjacent, _attributes); anything in doubt (entities, a look-alike in another value)
    # takes the tree path
    if not tags.ends_sure(pts):
        return None
    latlon = _attributes_adjacent(tags, pts) or _attributes(tags, pts)
    if latlon is None:
        return None
    lat, lon = latlon
    point_of = np.where(a3 >= 0, np.searchsorted(pts_s, a3), -1)  # which point a tag is inside (if any)
    in_pt = (point_of >= 0) & (point_of < len(pts)) & (pts_s[np.clip(point_of, 0, len(pts) - 1)] == a3)
    n_pts = len(pts)

    def column(sel: np.ndarray) -> np.ndarray | None:
        """Texts of the selected tags placed at their point, the last one winning (blank included)."""
        values = tags.text_after(st[sel])
        if values is None:
            return None
        return place_last(point_of[sel], np.where(opening[sel], values, b""), n_pts)  # <ele/>: no text

    child = (level == 4) & in_pt
    ele = column(np.flatnonzero(child & (code == _CODE[b"ele"])))
    tim = column(np.flatnonzero(child & (code == _CODE[b"time"])))
    if ele is None or tim is None:
        return None
    cols = {c: np.full(n_pts, np.nan) for c in COLUMNS}
    cols["altitude"] = floats(ele)
    times = iso_times(tim)
    # extension values: all read in one pass; per channel the last non-blank one of a point wins
    ext = np.flatnonzero(opening & (level >= 5) & in_pt & named(a4, b"extensions") & (code >= _FIRST_EXT))
    texts = tags.text_after(st[ext])
    if texts is None:
        return None
    keep = nonblank(texts)
    ext, ext_values = ext[keep], floats(texts[keep])
    channel_of = _EXT_CHANNEL[code[ext]]
    for k, channel in enumerate(_CHANNELS):
        mine = channel_of == k
        if mine.any():
            where, vals = point_of[ext[mine]], ext_values[mine]
            if len(where) > 1 and not (np.diff(where) > 0).all():
                _, last = np.unique(where[::-1], return_index=True)
                last = len(where) - 1 - last
                where, vals = where[last], vals[last]
            cols[channel][where] = vals
    # OpenTracks before v4.18 wrote a pause as lat=100 and a resume as lat=200
    marker = (lat == 100.0) | (lat == 200.0)
    raw.legacy_pause = bool(marker.any())
    valid = (lat >= -90) & (lat <= 90) & (lon >= -180) & (lon <= 180)
    cols["latitude"] = np.where(valid, lat, np.nan)
    cols["longitude"] = np.where(valid, lon, np.nan)
    seg = a2[pts_s]
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
        if tn == "rte":
            raw.has_rte = True
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
                        raw.legacy_pause = True
                        first_in_seg = True
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
    well_formed(data, "gpx", filename, max_bytes)
    raw = _scan(data) or _walk(data, filename, max_bytes)
    if len(raw.times) == 0:
        what = "a route (rte), not a recorded activity" if raw.has_rte else "no track points"
        raise _err(f"nothing to import: the file has {what}", filename, "trk")
    t = raw.times
    timed = ~np.isnan(t)
    if not timed.any():
        raise _err("the track points have no timestamps: this is a route, not an activity", filename,
                   "trkpt 1", "time")
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
    arrays["_raw"] = np.arange(len(t), dtype=np.float64)
    t, arrays, dropped = strictly_increasing(t, arrays)
    raw_kept = arrays.pop("_raw").astype(np.int64)
    if len(t) < 2:
        raise _err(f"only one distinct point in time ({n_points} track point(s)): not an activity",
                   filename, "trkpt", "time")
    start = datetime.fromtimestamp(float(t[0]), UTC)
    check_start(start, "gpx", filename, "trkpt 1")
    a = Activity(start=start, sport=_sport(raw.trk_type))
    if dropped:
        a.extras["dropped_points"] = {"count": dropped, "why": "time not after the previous point"}
    if untimed:
        a.extras["untimed_points_left_out"] = untimed
    if raw.legacy_pause:
        a.extras["opentracks_legacy_pauses"] = True
    a.name = raw.name
    if raw.desc:
        a.notes = raw.desc[:800]
    if raw.creator and raw.creator.strip():
        a.device_name = raw.creator.strip()[:200]
    n = len(t)
    pauses: list[int] = []
    for b in breaks:
        i = int(np.searchsorted(raw_kept, b, side="left"))
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
    if raw.n_trk > 1:
        a.extras["gpx_tracks"] = raw.n_trk
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
