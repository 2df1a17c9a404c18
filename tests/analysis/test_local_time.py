"""Local time where the file states none (analysis.local_time): the zone at the first position and
its offset at the start. Outside truths: the devices' own offsets (FIT activity messages), the
corpus's pairs of one run in two files (SOURCES.md), and the published zone rules written here by
hand."""

from __future__ import annotations

import copy
import gzip
from datetime import datetime

import numpy as np
import pytest

from runhub import formats
from runhub.activity import OFFSET_SOURCE, OFFSET_UNSTATED, Activity
from runhub.analysis.local_time import FROM_POSITION, infer_local_time
from runhub.ingest import ingest_bytes
from runhub.store import activities as repo
from tests.conftest import make_user
from tests.formats.conftest import CORPUS, corpus_files

# Files whose stated offset is not their position's, each for its own reason. runhub keeps what a
# file states; the zone is only asked where the file states nothing.
STATED_ELSEWHERE = {
    # the Garmin SDK's test file: synthetic positions on the equator at 0 deg (SOURCES.md: an SDK
    # test file; 3,600 points from lon 0.000009), zone Etc/GMT, and an activity message saying -6 h
    "fitsdkpy_ActivityDevFields.fit",
    # the COROS PACE 2 writes its activity message's local_timestamp equal to its timestamp (UTC+0)
    # for a ride that starts in Bogota (UTC-5, no daylight saving): 06:10 there, 11:10 by the file
    "fitparse_coros-pace-2-cycling-misaligned-fields.fit",
}


def decode(rel: str) -> list[Activity]:
    data = (CORPUS / rel).read_bytes()
    if rel.endswith(".gz"):
        data = gzip.decompress(data)
    return formats.decode(data, filename=rel)


@pytest.fixture
def corpus() -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"activity corpus not found at {CORPUS} (set RUNHUB_CORPUS)")


def placed(a: Activity) -> bool:
    lat, lon = a.channels.get("latitude"), a.channels.get("longitude")
    return lat is not None and lon is not None and bool((np.isfinite(lat) & np.isfinite(lon)).any())


def test_the_zone_at_the_position_gives_each_devices_own_offset(corpus):
    checked = 0
    for path in corpus_files("fit"):
        if path.name in STATED_ELSEWHERE:
            continue
        try:
            acts = decode(f"fit/{path.name}")
        except formats.FormatError:
            continue
        for a in acts:
            if a.extras.get(OFFSET_SOURCE) == OFFSET_UNSTATED or not placed(a):
                continue
            b = copy.deepcopy(a)
            b.utc_offset, b.extras[OFFSET_SOURCE] = 0, OFFSET_UNSTATED
            infer_local_time(b)
            assert b.utc_offset == a.utc_offset, (path.name, b.timezone, b.utc_offset, a.utc_offset)
            infer_local_time(a)  # a stated offset stands, and the zone that agrees with it is named
            assert (a.utc_offset, a.timezone) == (b.utc_offset, b.timezone)
            checked += 1
    assert checked >= 15, checked


@pytest.mark.parametrize("rel,twin", [
    ("tcx/gc_10kUNLP2014-Garmin15.tcx", "fit/gc_10kUNLP2014-Garmin15.fit"),
    ("gpx/sweatpy_4078723797_strava.gpx", "fit/sweatpy_4078723797.fit"),
    ("fit/fitparse_activity-unexpected-eof.fit", "fit/fitparse_Activity.fit"),  # cut before its activity message
])
def test_a_file_without_local_time_gets_its_twins_offset(rel, twin, corpus):
    (a,) = decode(rel)[:1]
    (device,) = decode(twin)[:1]
    assert a.extras[OFFSET_SOURCE] == OFFSET_UNSTATED and device.extras.get(OFFSET_SOURCE) is None
    infer_local_time(a)
    assert (a.utc_offset, a.extras[OFFSET_SOURCE]) == (device.utc_offset, FROM_POSITION)
    assert a.local_start.utcoffset() == device.local_start.utcoffset()


def gpx(lat: float, lon: float, when: str) -> bytes:
    return (f'<?xml version="1.0"?><gpx version="1.1" creator="t" xmlns="http://www.topografix.com/GPX/1/1">'
            f'<trk><trkseg><trkpt lat="{lat}" lon="{lon}"><time>{when}</time></trkpt>'
            f'<trkpt lat="{lat + 0.001}" lon="{lon}"><time>{when[:-3]}30Z</time></trkpt>'
            f"</trkseg></trk></gpx>").encode()


# (place, lat, lon, UTC start, zone, offset in seconds) from the zones' published rules
RULES = [
    ("New York in January (EST, UTC-5)", 40.7128, -74.0060, "2024-01-15T12:00:00Z", "America/New_York", -18000),
    ("New York in July (EDT, UTC-4)", 40.7128, -74.0060, "2024-07-15T12:00:00Z", "America/New_York", -14400),
    ("Sydney in January (AEDT, UTC+11)", -33.8688, 151.2093, "2024-01-15T00:00:00Z", "Australia/Sydney", 39600),
    ("Amsterdam the hour before summer time (UTC+1)", 52.37, 4.89, "2024-03-31T00:59:00Z", "Europe/Amsterdam", 3600),
    ("Amsterdam the minute summer time began (UTC+2)", 52.37, 4.89, "2024-03-31T01:00:00Z", "Europe/Amsterdam",
     7200),
    ("Kathmandu (UTC+5:45)", 27.7172, 85.3240, "2024-05-01T01:00:00Z", "Asia/Kathmandu", 20700),
    ("the Atlantic at 30 W (nautical zone UTC-2)", 0.0, -30.0, "2024-05-01T01:00:00Z", "Etc/GMT+2", -7200),
]


@pytest.mark.parametrize("place,lat,lon,when,zone,offset", RULES, ids=[r[0] for r in RULES])
def test_published_zone_rules(place, lat, lon, when, zone, offset):
    (a,) = formats.decode(gpx(lat, lon, when))
    infer_local_time(a)
    assert (a.timezone, a.utc_offset) == (zone, offset)


def test_a_stated_offset_or_no_position_is_left_as_it_is(corpus):
    (swim,) = decode("tcx/gc_GarminHRMswim.tcx")  # a pool swim: no position
    infer_local_time(swim)
    assert (swim.utc_offset, swim.timezone, swim.extras[OFFSET_SOURCE]) == (0, None, OFFSET_UNSTATED)
    (ride,) = formats.decode(gpx(52.37, 4.89, "2024-07-01T06:00:00Z"))
    ride.extras.pop(OFFSET_SOURCE)  # as if the file had said UTC+0 itself: Amsterdam is +2 then
    infer_local_time(ride)
    assert (ride.utc_offset, ride.timezone) == (0, None)  # the statement stands, no zone disagreeing with it


def test_an_imported_gpx_is_stored_in_its_local_time(db):
    uid, _ = make_user(db, "local-time")
    (res,) = ingest_bytes(db, uid, gpx(47.6062, -122.3321, "2024-11-03T14:00:00Z"), filename="seattle.gpx")
    with db.connect() as conn:
        a = repo.load_activity(conn, res.activity_id, uid)
    # Seattle, the day daylight saving ended (2024-11-03 09:00 UTC): PST, UTC-8, at 14:00 UTC
    assert (a.timezone, a.utc_offset) == ("America/Los_Angeles", -28800)
    assert a.local_start.replace(tzinfo=None) == datetime(2024, 11, 3, 6, 0)


TREADMILL_TCX = b"""<?xml version="1.0" encoding="UTF-8"?>
<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2">
<Activities><Activity Sport="Running"><Id>2024-07-01T05:00:00Z</Id>
<Lap StartTime="2024-07-01T05:00:00Z"><TotalTimeSeconds>60</TotalTimeSeconds><DistanceMeters>200</DistanceMeters>
<Calories>10</Calories><Intensity>Active</Intensity><TriggerMethod>Manual</TriggerMethod><Track>
<Trackpoint><Time>2024-07-01T05:00:00Z</Time><DistanceMeters>0</DistanceMeters></Trackpoint>
<Trackpoint><Time>2024-07-01T05:01:00Z</Time><DistanceMeters>200</DistanceMeters></Trackpoint>
</Track></Lap></Activity></Activities></TrainingCenterDatabase>"""


def test_without_a_position_the_athletes_own_zone_dates_the_run(db, tmp_path):
    """A treadmill run (no position) takes the time zone of the athlete's settings, as Strava dates
    activities without GPS: Amsterdam on 2024-07-01 is CEST, UTC+2, so 05:00 UTC is 07:00 there.
    A run with a position keeps its position's zone; an athlete who set no zone keeps UTC."""
    from runhub.ingest import ingest_paths
    from runhub.store import users

    uid, _ = make_user(db, "zone-setting")
    with db.begin() as conn:
        users.update_settings(conn, uid, {"timezone": "Europe/Amsterdam"})
    (tread,) = ingest_bytes(db, uid, TREADMILL_TCX, filename="treadmill.tcx")
    new_york = tmp_path / "ny.gpx"
    new_york.write_bytes(gpx(40.7128, -74.0060, "2024-07-02T12:00:00Z"))
    ((_, (ny,)),) = list(ingest_paths(db, uid, [new_york], client_id="runhub-cli"))
    plain, _ = make_user(db, "zone-default")
    (utc,) = ingest_bytes(db, plain, TREADMILL_TCX, filename="treadmill.tcx")
    with db.connect() as conn:
        t = repo.load_activity(conn, tread.activity_id, uid)
        n = repo.load_activity(conn, ny.activity_id, uid)
        u = repo.load_activity(conn, utc.activity_id, plain)
    assert (t.timezone, t.utc_offset, t.extras[OFFSET_SOURCE]) == ("Europe/Amsterdam", 7200, "profile")
    assert t.local_start.replace(tzinfo=None) == datetime(2024, 7, 1, 7, 0)
    assert (n.timezone, n.utc_offset, n.extras[OFFSET_SOURCE]) == ("America/New_York", -14400, "position")
    assert (u.utc_offset, u.extras[OFFSET_SOURCE]) == (0, "profile")  # the default setting: UTC
