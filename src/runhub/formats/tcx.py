"""TCX (Garmin Training Center Database v2) with ActivityExtension v2: decode and encode.

Read by hand on lxml (hardened, see _common.parse_xml): the TCX libraries on PyPI drop laps
without trackpoints, the lap totals and the track breaks, which runhub must keep. Trackpoints
come from a compiled byte scan (xml_scan) where the file allows (_scan_tracks, run beside
libxml2's check; the same values as the tree walk in _trackpoint, tests/formats/
test_tcx_scan.py), so lxml builds only the small tree of activities, laps and totals. Every
Track after the first within a lap is a pause (Garmin starts a new Track when the timer
resumes); a new lap's first Track is not. A MultiSportSession gives one activity per leg,
linked as one multisport group.
"""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, datetime
from typing import Any

import numpy as np

from runhub import sports
from runhub.activity import Activity, Lap, plausible, set_notes, timer_seconds
from runhub.formats import EXPORT_OF, WRITER, FormatError, NotAnActivity, register, xml_scan
from runhub.formats._common import (
    check_start,
    clock_since,
    declaration_first,
    device_calories,
    intensity_lap_types,
    localname,
    mask_impossible,
    parse_time,
    parse_xml,
    quarantine_backward_distance,
    set_stated_offset,
    strictly_increasing,
    well_formed,
    well_formed_while,
    xml_float,
    xml_longitude,
    xml_text,
    xml_time,
    xml_whole,
    xml_whole_channels,
)

MEDIA_TYPE = "application/vnd.garmin.tcx+xml"
NS = "http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"
NS_X = "http://www.garmin.com/xmlschemas/ActivityExtension/v2"
# A pause that falls exactly on a lap start has no Track break to show it (a new lap's first
# Track is not a pause), and an empty Track is schema-invalid (Track_t needs a Trackpoint;
# Garmin Connect validates uploads). runhub marks such a lap with an element of its own in the
# lap's Extensions, which Extensions_t admits from any other namespace (processContents lax).
NS_RUNHUB = "urn:runhub:tcx:1"
PAUSED_BEFORE = "PausedBefore"
EXPORT_OF_TAG = "ExportOf"  # in the Activity's Extensions: the id of the activity exported (formats.EXPORT_OF)

TCX_SPORTS = {"running": "running", "biking": "cycling", "other": "generic"}
TRIGGERS = {"manual": "manual", "distance": "distance", "location": "position", "time": "time",
            "heartrate": "heart_rate"}
COLUMNS = ("latitude", "longitude", "altitude", "distance", "heart_rate", "cadence", "speed", "power")


def _err(message: str, filename: str | None, location: str | None = None, fld: str | None = None) -> FormatError:
    return FormatError(message, format="tcx", file=filename, location=location, field=fld)


def _child(el: Any, name: str) -> Any:
    for c in el:
        if localname(c.tag) == name:
            return c
    return None


def _text(el: Any, name: str) -> str | None:
    c = _child(el, name)
    return c.text.strip() if c is not None and c.text else None


_NAMES = (b"Track", b"Trackpoint", b"Time", b"Position", b"LatitudeDegrees", b"LongitudeDegrees", b"AltitudeMeters",
          b"DistanceMeters", b"HeartRateBpm", b"Value", b"Cadence", b"Extensions", b"Speed", b"Watts", b"RunCadence")
_C = {name.decode(): i + 1 for i, name in enumerate(_NAMES)}

Points = dict[str, np.ndarray]  # "time" and COLUMNS, one entry per timed trackpoint of a Track


def _scan_tracks(data: bytes) -> tuple[bytes, list[Points]] | None:
    """The fast path for trackpoints (one compiled pass over the bytes, xml_scan): each Track's
    points as arrays, by the Track's document order, and the file with every Track's content
    cut out, so that lxml builds only the small tree of activities, laps and totals. None: the
    tree path reads it all.

    The values follow _trackpoint exactly: the last Time, AltitudeMeters, DistanceMeters,
    Position and HeartRateBpm child wins; in a Position the first LatitudeDegrees and
    LongitudeDegrees; in a HeartRateBpm the first Value; cadence is the last in document order of
    Cadence and an Extensions' RunCadence, as Speed and Watts are the last in the Extensions.
    """
    tags = xml_scan.scan(data, _NAMES)
    if tags is None or tags.n == 0:
        return None
    code, parent, level = tags.code, tags.parent, tags.level
    code_of = np.append(code, 0)  # code_of[p]: the code of tag p, 0 for none (p = -1)
    tracks = np.flatnonzero(code == _C["Track"])
    inner = tracks[tags.opening[tracks]]
    closer = tags.close[inner]  # the cut: from each Track start tag's '>' to its end tag's '<'
    # a Track inside another Track would be cut out with its parent: leave such files to the tree
    if len(inner) > 1 and (closer[:-1] > tags.pos[inner[1:]]).any():
        return None
    pts = np.flatnonzero((code == _C["Trackpoint"]) & (code_of[parent] == _C["Track"]))
    n = len(pts)
    number = np.full(tags.n + 1, -1, dtype=np.int64)
    number[pts] = np.arange(n)
    owner = number[parent]  # the point a direct child belongs to (-1: none)
    child = owner >= 0

    def last_child(name: str) -> np.ndarray:  # per point, its last child so named (-1: none)
        sel = np.flatnonzero(child & (code == _C[name]))
        return xml_scan.last_of(sel, owner[sel], n)

    cols: dict[str, np.ndarray] = {}
    times = tags.times(last_child("Time"))
    if times is None:
        return None
    cols["time"] = times
    for name, channel in (("AltitudeMeters", "altitude"), ("DistanceMeters", "distance")):
        got = tags.numbers(last_child(name))
        if got is None:
            return None
        cols[channel] = got[0]
    # Position / HeartRateBpm: the last such child of the point, then its first named child
    for holder, names in (("Position", (("LatitudeDegrees", "latitude"), ("LongitudeDegrees", "longitude"))),
                          ("HeartRateBpm", (("Value", "heart_rate"),))):
        last = last_child(holder)
        mine = np.full(tags.n + 1, -1, dtype=np.int64)  # holder tag -> its point
        ok = last >= 0
        mine[last[ok]] = np.flatnonzero(ok)
        for sub, channel in names:
            grand = np.flatnonzero(code == _C[sub])
            pt_of = mine[parent[grand]]
            grand, pt_of = grand[pt_of >= 0], pt_of[pt_of >= 0]
            got = tags.numbers(xml_scan.first_of(grand, pt_of, n))
            if got is None:
                return None
            cols[channel] = got[0]
    # Extensions: descendants named Speed, Watts, RunCadence of an Extensions child of a point
    levels = level[pts]
    if len(pts) and not (levels == levels[0]).all():
        return None
    ext_level = int(levels[0]) + 1 if len(pts) else 0
    holder = np.maximum.accumulate(np.where(level == ext_level, np.arange(tags.n), -1))  # ancestor at ext_level
    holder_point = np.append(owner, -1)[holder]  # the point that ancestor is a child of (-1: none)
    in_ext = (level > ext_level) & (code_of[holder] == _C["Extensions"]) & (holder_point >= 0)
    ext_owner = np.where(in_ext, holder_point, -1)
    for channel, names in (("speed", ("Speed",)), ("power", ("Watts",)), ("cadence", ("Cadence", "RunCadence"))):
        sel = np.flatnonzero((in_ext & np.isin(code, [_C[x] for x in names if x != "Cadence"]))
                             | ((child & (code == _C["Cadence"])) if channel == "cadence" else False))
        who = np.where(ext_owner[sel] >= 0, ext_owner[sel], owner[sel])
        got = tags.numbers(xml_scan.last_of(sel, who, n))
        if got is None:
            return None
        cols[channel] = got[0]
    both = ~np.isnan(cols["latitude"]) & ~np.isnan(cols["longitude"])
    cols["latitude"] = np.where(both, cols["latitude"], np.nan)
    cols["longitude"] = np.where(both, cols["longitude"], np.nan)
    timed = ~np.isnan(cols["time"])  # a trackpoint without a time cannot be placed; TCX requires Time
    track_of = np.searchsorted(tracks, parent[pts])
    out: list[Points] = []
    for k in range(len(tracks)):
        keep = timed & (track_of == k)
        out.append({c: v[keep] for c, v in cols.items()})
    # the structure-only file: every Track's content cut out
    parts, at = [], 0
    for i, c in zip(inner.tolist(), closer.tolist(), strict=True):
        parts.append(data[at:tags.end[i] + 1])
        at = c
    parts.append(data[at:])
    return b"".join(parts), out


def decode(data: bytes, *, filename: str | None = None, max_bytes: int | None = None,
           **_options: Any) -> list[Activity]:
    return _decode(declaration_first(data), filename, max_bytes, fast=True)


def _decode(data: bytes, filename: str | None, max_bytes: int | None, *, fast: bool) -> list[Activity]:
    """`fast`: trackpoints from the byte scan where the file allows; else every element by lxml."""
    if fast:
        scanned = well_formed_while(data, "tcx", filename, max_bytes, _scan_tracks)
    else:
        well_formed(data, "tcx", filename, max_bytes)
        scanned = None
    points: dict[Any, Points] | None = None
    if scanned is not None:
        small, by_track = scanned
        root = parse_xml(small, "tcx", filename, None)
        track_els = list(root.iter("{*}Track"))
        if len(track_els) == len(by_track):
            points = dict(zip(track_els, by_track, strict=True))
        else:  # cannot happen for well-formed input; the full tree is the safe answer
            root = parse_xml(data, "tcx", filename, max_bytes)
    else:
        root = parse_xml(data, "tcx", filename, max_bytes)
    if localname(root.tag) != "TrainingCenterDatabase":
        raise _err(f"root element is <{localname(root.tag)}>, not <TrainingCenterDatabase>", filename, "root")
    acts_el = _child(root, "Activities")
    legs: list[Any] = []
    if acts_el is not None:
        for el in acts_el:
            name = localname(el.tag)
            if name == "Activity":
                legs.append([el])
            elif name == "MultiSportSession":
                legs.append([a for a in el.iter() if localname(a.tag) == "Activity"])
    if not legs:
        if _child(root, "Courses") is not None:
            raise NotAnActivity("this TCX file holds a course (a planned route), not a recorded activity",
                                format="tcx", file=filename, location="Courses")
        if _child(root, "Workouts") is not None:
            raise NotAnActivity("this TCX file holds a workout (planned steps), not a recorded activity",
                                format="tcx", file=filename, location="Workouts")
        raise _err("no <Activity> in the file", filename, "Activities")
    author = _child(root, "Author")
    written_by = author is not None and _text(author, "Name") == WRITER
    out: list[Activity] = []
    for li, group_legs in enumerate(legs):
        group = None
        if len(group_legs) > 1:
            ident = _text(group_legs[0], "Id") or str(li)
            if len(ident) > 32:  # the key fits activities.multisport_group (64): a long Id by its hash
                ident = hashlib.sha256(ident.encode()).hexdigest()[:32]
            group = f"tcx:{ident}:{len(group_legs)}"
        for k, act_el in enumerate(group_legs):
            a = _activity(act_el, filename, f"Activity {len(out) + 1}", points)
            if group:
                a.extras["multisport_group"] = group
                a.extras["multisport_index"] = k
            if written_by:
                a.extras["written_by"] = WRITER
                export_of = (act_el.findtext(f"{{{NS}}}Extensions/{{{NS_RUNHUB}}}{EXPORT_OF_TAG}") or "").strip()
                if export_of.isdigit():
                    a.extras[EXPORT_OF] = int(export_of)
            out.append(a)
    return out


def _activity(act_el: Any, filename: str | None, where: str, points: dict[Any, Points] | None = None) -> Activity:
    sport_attr = (act_el.get("Sport") or "Other").strip()
    times: list[float] = []
    cols: dict[str, list[float]] = {c: [] for c in COLUMNS}
    pause_starts: list[int] = []  # raw point index where a pause ends
    lap_raw: list[tuple[float | None, int, dict[str, Any]]] = []  # (lap start, n points so far, totals)
    for lap_el in act_el:
        if localname(lap_el.tag) != "Lap":
            continue
        totals = _lap_totals(lap_el)
        lap_start = parse_time(lap_el.get("StartTime"))
        track_no = 0
        paused_before = lap_el.find(f"{{{NS}}}Extensions/{{{NS_RUNHUB}}}{PAUSED_BEFORE}") is not None
        for tr in lap_el:
            if localname(tr.tag) != "Track":
                continue
            # any Track after the lap's first Track element starts after a pause (runhub's exports
            # before PausedBefore wrote an empty first Track for a pause on a lap start)
            if (track_no or paused_before) and times:
                pause_starts.append(len(times))
            track_no += 1
            if points is not None:
                got = points[tr]
                times.extend(got["time"].tolist())
                for k in COLUMNS:
                    cols[k].extend(got[k].tolist())
                continue
            for tp in tr:
                if localname(tp.tag) != "Trackpoint":
                    continue
                _trackpoint(tp, times, cols)
        lap_raw.append((lap_start, len(times), totals))
    first = next((x[0] for x in lap_raw if x[0] is not None), None)
    lap_start_ignored = None
    if times and first is not None:
        # a timer starts before the first fix, so a lap may begin before its first point, but not by
        # more than all the laps' time: a Garmin Dakota writes a lap start hours before its points
        total = sum(x[2].get("total_time") or 0.0 for x in lap_raw)
        if total and times[0] - first > total:
            lap_start_ignored = (f"the first lap's StartTime is {times[0] - first:.0f} s before the first trackpoint, "
                                 f"more than the laps' total time ({total:.0f} s): the activity starts at that point")
            first = times[0]
            lap_raw = [(None, n_raw, tot) for _, n_raw, tot in lap_raw]  # one wrong clock: no lap start is placed by it
    if times:
        first = min(first, times[0]) if first is not None else times[0]
    if first is None:
        first = parse_time(_text(act_el, "Id"))
    if first is None:
        raise _err("the activity has neither trackpoints with a time nor a lap start time", filename, where, "Time")
    start = datetime.fromtimestamp(first, UTC)
    check_start(start, "tcx", filename, where)
    a = Activity(start=start, sport=_sport(sport_attr))
    set_stated_offset(a, _text(act_el, "Id"))  # the activity's start as its writer wrote it
    creator = _child(act_el, "Creator")
    if creator is not None:
        a.device_name = _text(creator, "Name")
        ver = _child(creator, "Version")
        if ver is not None:
            parts = [_text(ver, n) for n in ("VersionMajor", "VersionMinor", "BuildMajor", "BuildMinor")]
            a.app_version = ".".join(p for p in parts if p is not None) or None
    set_notes(a, _text(act_el, "Notes"))
    a.extras["tcx_sport"] = sport_attr
    if lap_start_ignored:
        a.extras["lap_start_ignored"] = lap_start_ignored

    # channels: exactly the recorded points, pauses re-indexed after dropping out-of-order ones
    t = np.asarray(times, dtype=np.float64)
    arrays = {k: np.asarray(v, dtype=np.float64) for k, v in cols.items()}
    raw_index = np.arange(len(t), dtype=np.float64)
    arrays["_raw"] = raw_index
    t, arrays, dropped = strictly_increasing(t, arrays)
    raw_kept = arrays.pop("_raw").astype(np.int64)
    if dropped:
        a.extras["dropped_points"] = {"count": dropped, "why": "time not after the previous point"}
    channels: dict[str, np.ndarray] = {}
    if len(t):
        channels["time"] = clock_since(t, first)
        for k, arr in arrays.items():
            if not np.isnan(arr).all():
                channels[k] = arr
        if ("latitude" in channels) != ("longitude" in channels):
            channels.pop("latitude", None)
            channels.pop("longitude", None)
    mask_impossible(channels, a.extras)
    quarantine_backward_distance(channels, a.extras)
    a.channels = channels
    n = len(t)
    pauses: list[int] = []
    for raw in pause_starts:
        i = int(np.searchsorted(raw_kept, raw, side="left"))
        if 1 <= i < n and (not pauses or i > pauses[-1]):
            pauses.append(i)
    a.pauses = pauses
    a.laps = _laps(lap_raw, raw_kept, first, n, channels.get("time"))
    a.calories = device_calories(sum(x[2].get("calories", 0.0) or 0.0 for x in lap_raw) or None, a.extras)
    laps_distance = sum(x[2].get("distance", 0.0) or 0.0 for x in lap_raw) or None
    if n and "distance" not in channels and "latitude" not in channels:
        a.summary.distance = laps_distance  # an indoor ride's laps may know a distance its points do not
    if not n:  # a summary only: the laps' own totals are all there is
        s = a.summary
        s.timer_time = sum(x[2].get("total_time", 0.0) or 0.0 for x in lap_raw) or None
        s.distance = laps_distance
        # a lap's own heart rate that no summary can hold (a max of 19) stays the lap's: the run's
        # is taken from the other laps, not refused for it
        heart = [(x[2].get("heart_rate_average"), x[2].get("heart_rate_max"), x[2].get("total_time") or 0.0)
                 for x in lap_raw]
        timed = [(avg, w) for avg, _, w in heart if avg is not None and plausible("heart_rate_average", avg)]
        if timed and sum(w for _, w in timed) > 0:  # the laps' averages, weighted by their time
            s.heart_rate_average = sum(v * w for v, w in timed) / sum(w for _, w in timed)
        maxima = [mx for _, mx, _ in heart if mx is not None and plausible("heart_rate_max", mx)]
        s.heart_rate_max = max(maxima) if maxima else None
    return a


def _trackpoint(tp: Any, times: list[float], cols: dict[str, list[float]]) -> None:
    t = None
    row = dict.fromkeys(COLUMNS, math.nan)
    for c in tp:
        name = localname(c.tag)
        if name == "Time":
            t = parse_time(c.text)
        elif name == "Position":
            row["latitude"] = xml_float(_text(c, "LatitudeDegrees"))
            row["longitude"] = xml_float(_text(c, "LongitudeDegrees"))
        elif name == "AltitudeMeters":
            row["altitude"] = xml_float(c.text)
        elif name == "DistanceMeters":
            row["distance"] = xml_float(c.text)
        elif name == "HeartRateBpm":
            row["heart_rate"] = xml_float(_text(c, "Value"))
        elif name == "Cadence":
            row["cadence"] = xml_float(c.text)
        elif name == "Extensions":
            for x in c.iter():
                xn = localname(x.tag)
                if xn == "Speed":
                    row["speed"] = xml_float(x.text)
                elif xn == "Watts":
                    row["power"] = xml_float(x.text)
                elif xn == "RunCadence":
                    row["cadence"] = xml_float(x.text)
    if t is None:  # a trackpoint without a time cannot be placed; TCX requires Time
        return
    if math.isnan(row["latitude"]) or math.isnan(row["longitude"]):
        row["latitude"] = row["longitude"] = math.nan
    times.append(t)
    for k in COLUMNS:
        cols[k].append(row[k])


def _lap_totals(lap_el: Any) -> dict[str, Any]:
    """The lap's own summary, as the source wrote it (SI units)."""
    tot: dict[str, Any] = {}
    tot["start_time"] = lap_el.get("StartTime")
    fields = {"TotalTimeSeconds": "total_time", "DistanceMeters": "distance", "MaximumSpeed": "max_speed",
              "Calories": "calories", "Cadence": "cadence"}
    for c in lap_el:
        name = localname(c.tag)
        if name in fields:
            tot[fields[name]] = xml_float(c.text)
        elif name == "AverageHeartRateBpm":
            tot["heart_rate_average"] = xml_float(_text(c, "Value"))
        elif name == "MaximumHeartRateBpm":
            tot["heart_rate_max"] = xml_float(_text(c, "Value"))
        elif name == "Intensity":
            tot["intensity"] = (c.text or "").strip()
        elif name == "TriggerMethod":
            tot["trigger"] = (c.text or "").strip()
        elif name == "Extensions":
            for x in c.iter():
                xn = localname(x.tag)
                if xn in ("AvgSpeed", "AvgRunCadence", "MaxRunCadence", "AvgWatts", "MaxWatts", "MaxBikeCadence",
                          "Steps"):
                    tot[xn] = xml_float(x.text)
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in tot.items()}


def _laps(lap_raw: list[tuple[float | None, int, dict[str, Any]]], raw_kept: np.ndarray, first: float, n: int,
          time: np.ndarray | None) -> list[Lap]:
    out: list[Lap] = []
    timer = dist = 0.0
    prev_end = -math.inf
    prev_raw = 0
    types = intensity_lap_types([tot.get("intensity") for _, _, tot in lap_raw])
    timed = True  # every lap so far gave its TotalTimeSeconds: `timer` is the timer at its end
    for (lap_start, n_raw, tot), lap_type in zip(lap_raw, types, strict=True):
        # a lap without one (the schema requires it) leaves the timer unknown from there on: later
        # laps end on the clock, not at a sum short of that lap's time (which ended them before it)
        timed = timed and tot.get("total_time") is not None
        timer += tot.get("total_time") or 0.0
        dist += tot.get("distance") or 0.0
        end_index = int(np.searchsorted(raw_kept, n_raw, side="left")) - 1 if n else None
        last_point = float(time[end_index]) if end_index is not None and end_index >= 0 and time is not None else None
        # a lap with points ends at its last one; one whose points do not go past its first second
        # ends where its start and total time put it, not at the last point of the lap before: a
        # swim's rest of no points, and a lap of one point at its start (Garmin Training Center
        # opens each lap with a point, the previous lap's last instant again: the lap's time has no
        # sample of its own)
        end_time = last_point
        start_at = None if lap_start is None else float(clock_since(lap_start, first))
        spans = last_point is not None and n_raw != prev_raw and (start_at is None or last_point > start_at + 1.0)
        if not spans and start_at is not None and tot.get("total_time") is not None:
            end_time = start_at + tot["total_time"]
        prev_raw = n_raw
        if end_time is not None and end_time < prev_end:
            end_time = prev_end
        if end_time is not None:
            prev_end = end_time
        out.append(Lap(
            end_time=end_time,
            end_index=end_index if end_index is not None and end_index >= 0 else None,
            end_timer=round(timer, 3) if timed and timer else None,
            end_distance=round(dist, 2) if tot.get("distance") is not None else None,
            lap_type=lap_type,
            trigger=TRIGGERS.get((tot.get("trigger") or "").lower(), tot.get("trigger")),
            basis="timer" if timed and timer else "time",
            totals=tot,
        ))
    # A lap that ends no later than the previous one (zero-length laps) cannot be told apart by its
    # basis; fold its totals into the previous lap rather than invent an end. A lap of no timer
    # time that still ends later on the clock (a pool swim's rest, recorded as a lap of 0 s with
    # its own points) is a lap of its own: it ends on the clock instead, as a FIT lap does.
    merged: list[Lap] = []
    for lap in out:
        basis_attr = "end_timer" if lap.basis == "timer" else "end_time"
        if merged and (getattr(lap, basis_attr) is None or getattr(merged[-1], basis_attr) is None
                       or getattr(lap, basis_attr) <= getattr(merged[-1], basis_attr)):
            if lap.end_time is not None and merged[-1].end_time is not None and lap.end_time > merged[-1].end_time:
                lap.basis = "time"
                merged.append(lap)
                continue
            merged[-1].totals.setdefault("merged_laps", []).append(lap.totals)
            continue
        if getattr(lap, basis_attr) is None:
            continue
        merged.append(lap)
    return merged


def _sport(attr: str) -> str:
    return TCX_SPORTS.get(attr.lower(), "generic")


# ---------------------------------------------------------------------------- encode


def _num(v: float, digits: int) -> str:
    return f"{v:.{digits}f}".rstrip("0").rstrip(".") if digits else str(int(round(v)))


# a lap total as the TCX reader names it -> the FIT reader's name (lap totals keep the source's)
_FIT_LAP_NAMES = {"calories": "total_calories", "heart_rate_average": "avg_heart_rate",
                  "heart_rate_max": "max_heart_rate"}


def _lap_total(tot: dict[str, Any] | None, name: str) -> float | None:
    """A lap's total under its TCX name or its FIT name, where it is a number: totals are what the
    source said, and a FIT field may say an array (a definition with a wider field)."""
    for key in (name, _FIT_LAP_NAMES[name]):
        v = (tot or {}).get(key)
        if isinstance(v, int | float) and not isinstance(v, bool):
            return v
    return None


def _lap_calories(a: Activity, laps: list[Lap]) -> list[int]:
    """Each lap's Calories (TCX requires one, in whole kcal): the lap's own total where the source
    gave one (TCX Calories, FIT total_calories); where no lap has one, the activity's calories
    spread over the laps by clock length, whole numbers that add up to the total (the decoder
    sums them back); else 0, and 0 for a total the schema's unsignedShort cannot hold."""
    own = [_lap_total(lap.totals, "calories") for lap in laps]
    if any(c is not None for c in own) or not a.calories or not math.isfinite(a.calories):
        return [xml_whole(c, "calories") or 0 for c in own]
    ends = [lap.end_time for lap in laps]
    if len(laps) == 1 or any(e is None for e in ends):
        weights = np.ones(len(laps))
    else:
        weights = np.maximum(np.diff(np.concatenate(([0.0], np.asarray(ends, dtype=float)))), 0.0)
        if weights.sum() <= 0:
            weights = np.ones(len(laps))
    share = weights / weights.sum() * round(a.calories)
    whole = np.floor(share).astype(int)
    # largest remainders take the kcal left, so the laps add up to the activity's total
    for i in np.argsort(-(share - whole), kind="stable")[: int(round(a.calories)) - int(whole.sum())]:
        whole[i] += 1
    return [xml_whole(c, "calories") or 0 for c in whole.tolist()]


def _lap_heart_rate(a: Activity, tot: dict[str, Any], i0: int, i1: int) -> tuple[int | None, int | None]:
    """(average, maximum) bpm of a lap: the source's own lap values (TCX, FIT), else those of the
    lap's samples (their plain mean, as a device averages its records)."""
    avg = _lap_total(tot, "heart_rate_average")
    mx = _lap_total(tot, "heart_rate_max")
    hr = a.channels.get("heart_rate")
    if hr is not None and 0 <= i0 <= i1 and (avg is None or mx is None):
        seg = hr[i0:i1 + 1]
        seg = seg[np.isfinite(seg)]
        if len(seg):
            avg = float(seg.mean()) if avg is None else avg
            mx = float(seg.max()) if mx is None else mx

    return xml_whole(avg, "heart_rate"), xml_whole(mx, "heart_rate")


def encode(a: Activity) -> bytes:
    """Activity -> TCX with ActivityExtension v2 (Speed, Watts, RunCadence); a pause starts a new Track.

    Resolution written: time 1 ms (1 us between milliseconds), position 1e-7 deg, altitude and
    distance 1 mm, speed 1 mm/s, heart rate, cadence and power whole numbers (TCX types them as
    integers).
    """
    sport = "Running" if sports.is_running(a.sport) else "Biking" if a.sport.startswith("cycling") else "Other"
    run = sport == "Running"
    t0 = a.start.timestamp()
    ch = xml_whole_channels(a.channels)
    n = a.n_samples
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             f'<TrainingCenterDatabase xmlns="{NS}" xmlns:ns3="{NS_X}">', "<Activities>",
             f'<Activity Sport="{sport}">', f"<Id>{xml_time(t0)}</Id>"]
    laps = list(a.laps) or [Lap(end_index=n - 1 if n else None, end_time=float(ch["time"][-1]) if n else 0.0)]
    pause_set = set(a.pauses)
    timer = timer_seconds(a) if n else None
    start_i = 0
    prev_timer = 0.0
    prev_dist = 0.0
    prev_end = 0.0
    calories = _lap_calories(a, laps)
    for k, lap in enumerate(laps):
        end_i = lap.end_index if lap.end_index is not None else (n - 1 if k == len(laps) - 1 else start_i - 1)
        if k == len(laps) - 1 and n:
            end_i = n - 1
        # the first lap starts with the activity (its records may begin later: the decoder takes the
        # earliest of lap starts and points); a later one at its first point, or where the one
        # before it ended when it has none
        if k == 0:
            lap_start = t0
        elif n and start_i < n:
            lap_start = t0 + float(ch["time"][start_i])
        else:
            lap_start = t0 + prev_end
        if lap.end_time is not None:
            prev_end = lap.end_time
        elif n and 0 <= end_i < n:
            prev_end = float(ch["time"][end_i])
        tot = lap.totals or {}
        total_time = tot.get("total_time")
        if total_time is None:
            end_timer = lap.end_timer if lap.end_timer is not None else (
                float(timer[end_i]) if timer is not None and end_i >= 0 else 0.0)
            total_time = max(end_timer - prev_timer, 0.0)
            prev_timer = end_timer
        distance = tot.get("distance")
        if distance is None:
            end_d = lap.end_distance
            if end_d is None and "distance" in ch and end_i >= 0:
                end_d = float(ch["distance"][end_i]) if not math.isnan(ch["distance"][end_i]) else prev_dist
            distance = max((end_d or 0.0) - prev_dist, 0.0)
            prev_dist = end_d or prev_dist
        lines.append(f'<Lap StartTime="{xml_time(lap_start)}">')
        lines.append(f"<TotalTimeSeconds>{_num(total_time, 3)}</TotalTimeSeconds>")
        lines.append(f"<DistanceMeters>{_num(distance, 3)}</DistanceMeters>")
        lines.append(f"<Calories>{calories[k]}</Calories>")
        for tag, value in zip(("AverageHeartRateBpm", "MaximumHeartRateBpm"), _lap_heart_rate(a, tot, start_i, end_i),
                              strict=True):
            if value is not None:
                lines.append(f"<{tag}><Value>{value}</Value></{tag}>")
        lines.append(f"<Intensity>{'Resting' if lap.lap_type == 'recovery' else 'Active'}</Intensity>")
        trig = {"distance": "Distance", "position": "Location", "time": "Time", "heart_rate": "HeartRate"}
        lines.append(f"<TriggerMethod>{trig.get(lap.trigger or '', 'Manual')}</TriggerMethod>")
        if n and end_i >= start_i:
            lines.append("<Track>")
            for i in range(start_i, end_i + 1):
                if i in pause_set and i != start_i:
                    lines.append("</Track><Track>")
                lines.append(_trackpoint_xml(ch, i, t0, run))
            lines.append("</Track>")
            if start_i in pause_set and start_i > 0:
                lines.append(f'<Extensions><{PAUSED_BEFORE} xmlns="{NS_RUNHUB}"/></Extensions>')
        lines.append("</Lap>")
        if n:
            start_i = max(end_i + 1, start_i)
    if a.notes:
        lines.append(f"<Notes>{xml_text(a.notes)}</Notes>")
    if a.device_name:
        lines.append(f'<Creator xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Device_t">'
                     f"<Name>{xml_text(a.device_name)}</Name><UnitId>0</UnitId><ProductID>0</ProductID>"
                     "<Version><VersionMajor>0</VersionMajor><VersionMinor>0</VersionMinor></Version></Creator>")
    if a.id is not None:
        lines.append(f'<Extensions><{EXPORT_OF_TAG} xmlns="{NS_RUNHUB}">{int(a.id)}</{EXPORT_OF_TAG}></Extensions>')
    # the writing application (the schema's Author, after Activities): runhub, so that ingest knows the
    # file for an export (formats.WRITER)
    lines += ["</Activity>", "</Activities>",
              '<Author xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Application_t">'
              f"<Name>{WRITER}</Name><Build><Version><VersionMajor>0</VersionMajor><VersionMinor>0</VersionMinor>"
              "</Version></Build><LangID>EN</LangID><PartNumber>000-00000-00</PartNumber></Author>",
              "</TrainingCenterDatabase>", ""]
    return "\n".join(lines).encode("utf-8")


def _trackpoint_xml(ch: dict[str, np.ndarray], i: int, t0: float, run: bool) -> str:
    def v(name: str) -> float | None:
        arr = ch.get(name)
        if arr is None or math.isnan(arr[i]):
            return None
        return float(arr[i])

    parts = [f"<Trackpoint><Time>{xml_time(t0 + float(ch['time'][i]))}</Time>"]
    lat, lon = v("latitude"), v("longitude")
    if lat is not None and lon is not None:
        parts.append(f"<Position><LatitudeDegrees>{lat:.7f}</LatitudeDegrees>"
                     f"<LongitudeDegrees>{xml_longitude(lon)}</LongitudeDegrees></Position>")
    if (x := v("altitude")) is not None:
        parts.append(f"<AltitudeMeters>{_num(x, 3)}</AltitudeMeters>")
    if (x := v("distance")) is not None:
        parts.append(f"<DistanceMeters>{_num(x, 3)}</DistanceMeters>")
    if (x := v("heart_rate")) is not None:  # whole and within the schema's range (xml_whole_channels)
        parts.append(f"<HeartRateBpm><Value>{int(x)}</Value></HeartRateBpm>")
    cad = v("cadence")
    if cad is not None and not run:
        parts.append(f"<Cadence>{int(cad)}</Cadence>")
    ext = []
    if (x := v("speed")) is not None:
        ext.append(f"<ns3:Speed>{_num(x, 3)}</ns3:Speed>")
    if cad is not None and run:
        ext.append(f"<ns3:RunCadence>{int(cad)}</ns3:RunCadence>")
    if (x := v("power")) is not None:
        ext.append(f"<ns3:Watts>{int(x)}</ns3:Watts>")
    if ext:
        parts.append("<Extensions><ns3:TPX>" + "".join(ext) + "</ns3:TPX></Extensions>")
    parts.append("</Trackpoint>")
    return "".join(parts)


register("tcx", decode, encode, MEDIA_TYPE)
