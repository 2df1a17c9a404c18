"""The local time of an activity whose file states none: GPX and TCX times are UTC by definition,
mostly written so ("Z"; one written with another offset states it: formats._common.set_stated_offset),
and a FIT file without its activity message's local_timestamp says no offset either. Strava and
Smashrun show such runs in the local time where they were run, and every local-time product
(daily and weekly stats, a run's start hour, notables) depends on it.

The zone is the one at the first position (`zones.zone_at`), its offset the zone's at the start
instant (zoneinfo: daylight saving included). On the corpus, for every FIT file that states its
offset and holds positions, this gives the device's own offset (tests/analysis/test_local_time.py).
An activity without a position takes the athlete's time zone where ingest knows it; else it keeps
offset 0.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from runhub import zones
from runhub.activity import OFFSET_SOURCE, OFFSET_UNSTATED, Activity

FROM_POSITION = "position"
FROM_PROFILE = "profile"  # the athlete's own time zone (settings), for an activity without a position


def infer_local_time(a: Activity, profile_zone: Callable[[], str | None] | None = None) -> None:
    """Set utc_offset and timezone when the file stated no offset: from the first position, else
    from `profile_zone` (the athlete's time zone, asked only when needed: a treadmill run or an
    indoor ride, as Strava dates activities without GPS in the athlete's zone). Where the file
    states its offset, only name the zone at the position, when its offset agrees."""
    stated = a.extras.get(OFFSET_SOURCE) != OFFSET_UNSTATED
    if stated and a.timezone is not None:
        return
    zone, source = None, FROM_POSITION
    lat, lon = a.channels.get("latitude"), a.channels.get("longitude")
    if lat is not None and lon is not None:
        placed = np.flatnonzero(np.isfinite(lat) & np.isfinite(lon))
        if len(placed):
            zone = zones.zone_at(float(lat[placed[0]]), float(lon[placed[0]]))
    if zone is None and profile_zone is not None and not stated:
        zone, source = profile_zone(), FROM_PROFILE
    offset = _offset_at(zone, a) if zone else None
    if offset is None:
        return
    if stated:  # the file's offset stands; the zone is named where it agrees (for Strava's `timezone`)
        if offset == a.utc_offset:
            a.timezone = zone
        return
    a.timezone = zone
    a.utc_offset = offset
    a.extras[OFFSET_SOURCE] = source


def _offset_at(zone: str, a: Activity) -> int | None:
    """The zone's UTC offset at the activity's start instant, in seconds (tzinfo.utcoffset of a UTC
    time would read it as a wall time)."""
    named = zones.zone(zone)
    if named is None:
        return None
    offset = a.start.astimezone(named).utcoffset()
    return None if offset is None else int(offset.total_seconds())
