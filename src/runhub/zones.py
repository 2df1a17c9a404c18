"""IANA time zones by the names files, forms and settings give: a name that names no zone is
None, whatever it is. zoneinfo raises ZoneInfoNotFoundError for an unknown key and ValueError for
a path, but IsADirectoryError for a folder of the database ("Europe") and OSError for a name the
file system refuses (300 characters): every caller caught the first two only.

Also the zone at a position (timezonefinder: maintained, offline time-zone polygons), and the
instant a local wall time at a zone names."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_lock = threading.Lock()  # a TimezoneFinder reads its data file through one handle: one lookup at a time
_finder: Any = None


def zone(name: str | None) -> ZoneInfo | None:
    """The zone `name` names, or None."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def zone_at(lat: float, lon: float) -> str | None:
    """The IANA zone at a position (an Etc/GMT zone at sea), None where there is none."""
    global _finder
    with _lock:
        if _finder is None:
            from timezonefinder import TimezoneFinder

            _finder = TimezoneFinder()
        found: str | None = _finder.timezone_at(lng=lon, lat=lat)
    return found


def wall_instant(wall: datetime, tz: ZoneInfo) -> datetime:
    """The UTC instant the naive wall time `wall` names in zone `tz`. ValueError, saying why, when
    it names none (a change of the clocks skips it) or two (a change back repeats it)."""
    first, second = wall.replace(tzinfo=tz, fold=0), wall.replace(tzinfo=tz, fold=1)
    instant = first.astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) != wall:
        raise ValueError(f"the clocks skip {wall.time()} that day in {tz.key}")
    if first.utcoffset() != second.utcoffset():
        raise ValueError(f"the clocks pass {wall.time()} twice that day in {tz.key}")
    return instant
