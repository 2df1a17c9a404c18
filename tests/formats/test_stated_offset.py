"""A GPX or TCX time that states its offset says the run's local time.

GPX and TCX times are UTC by their schemas, and most writers write "Z"; runhub then places the run
in the time zone at its first position (analysis.local_time). Some writers write the local time
with its offset instead (pytrainer writes +02:00, OpenTracks the phone's offset): that offset is
the file's own statement, as a FIT file's local_timestamp is, and it stands. The zone at the
position is named only where its offset agrees. "Z" and +00:00 state nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from runhub import formats
from runhub.activity import OFFSET_SOURCE, OFFSET_UNSTATED
from runhub.ingest import prepare

BERLIN = (52.52, 13.405)  # Berlin: +02:00 on 2024-06-01 (summer time)


def _gpx(first: str, second: str) -> bytes:
    lat, lon = BERLIN
    return (f'<?xml version="1.0"?>\n<gpx version="1.1" creator="t" xmlns="http://www.topografix.com/GPX/1/1">'
            f'<metadata><time>2030-01-01T00:00:00Z</time></metadata><trk><trkseg>'
            f'<trkpt lat="{lat}" lon="{lon}"><time>{first}</time></trkpt>'
            f'<trkpt lat="{lat + 0.001}" lon="{lon}"><time>{second}</time></trkpt>'
            f"</trkseg></trk></gpx>").encode()


def _tcx(ident: str) -> bytes:
    lat, lon = BERLIN
    return (f'<?xml version="1.0"?>\n<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/'
            f'TrainingCenterDatabase/v2"><Activities><Activity Sport="Running"><Id>{ident}</Id>'
            f'<Lap StartTime="2024-06-01T05:00:00Z"><TotalTimeSeconds>10</TotalTimeSeconds><Track>'
            f"<Trackpoint><Time>2024-06-01T05:00:00Z</Time><Position><LatitudeDegrees>{lat}</LatitudeDegrees>"
            f"<LongitudeDegrees>{lon}</LongitudeDegrees></Position></Trackpoint>"
            f"<Trackpoint><Time>2024-06-01T05:00:10Z</Time><Position><LatitudeDegrees>{lat + 0.001}"
            f"</LatitudeDegrees><LongitudeDegrees>{lon}</LongitudeDegrees></Position></Trackpoint>"
            f"</Track></Lap></Activity></Activities></TrainingCenterDatabase>").encode()


def _read(data: bytes):
    (a,) = formats.decode(data)
    a.validate()
    return a


@pytest.mark.parametrize(("first", "second", "offset", "zone"), [
    # pytrainer's way: the local time and its offset, which the zone at the position agrees with
    ("2024-06-01T07:00:00+02:00", "2024-06-01T07:00:10+02:00", 7200, "Europe/Berlin"),
    # an offset no zone at the position has (OpenTracks' tests use +01:15): it stands, no zone is named
    ("2024-06-01T06:15:00+01:15", "2024-06-01T06:15:10+01:15", 4500, None),
], ids=["agrees-with-the-position", "its-own"])
def test_a_gpx_time_with_its_offset_gives_the_local_time(first, second, offset, zone):
    a = _read(_gpx(first, second))
    assert a.start == datetime(2024, 6, 1, 5, 0, tzinfo=UTC)  # the same instant as ever
    assert a.utc_offset == offset and a.extras.get(OFFSET_SOURCE) != OFFSET_UNSTATED
    prepare(a)
    assert (a.utc_offset, a.timezone) == (offset, zone)


@pytest.mark.parametrize("suffix", ["Z", "+00:00"])
def test_a_gpx_time_in_utc_states_no_offset_and_the_position_places_it(suffix):
    a = _read(_gpx(f"2024-06-01T05:00:00{suffix}", f"2024-06-01T05:00:10{suffix}"))
    assert a.extras[OFFSET_SOURCE] == OFFSET_UNSTATED and a.utc_offset == 0
    prepare(a)
    assert (a.utc_offset, a.timezone) == (7200, "Europe/Berlin")


def test_a_tcx_id_with_its_offset_gives_the_local_time():
    stated = _read(_tcx("2024-06-01T07:00:00+02:00"))
    assert stated.start == datetime(2024, 6, 1, 5, 0, tzinfo=UTC)
    assert stated.utc_offset == 7200 and stated.extras.get(OFFSET_SOURCE) != OFFSET_UNSTATED
    utc = _read(_tcx("2024-06-01T05:00:00Z"))
    assert utc.extras[OFFSET_SOURCE] == OFFSET_UNSTATED


@pytest.mark.parametrize("fmt", ["gpx", "tcx"])
def test_an_offset_with_seconds_states_none_and_every_export_reads_back(fmt):
    """Found by fuzzing: +02:00:01 (Python reads it; xsd:dateTime and ISO 8601 offsets have no
    seconds) was kept as a local offset of 7201 s, and the CSV and Smashrun JSON exports, which write
    offsets as +hh:mm, read back refused. The instants stand; the zone at the position places them."""
    if fmt == "gpx":
        data = _gpx("2024-06-01T07:00:01+02:00:01", "2024-06-01T07:00:11+02:00:01")
    else:
        data = _tcx("2024-06-01T07:00:01+02:00:01")
    a = _read(data)
    assert a.start == datetime(2024, 6, 1, 5, 0, tzinfo=UTC)
    assert a.extras[OFFSET_SOURCE] == OFFSET_UNSTATED
    prepare(a)
    assert (a.utc_offset, a.timezone) == (7200, "Europe/Berlin")
    for out in ("csv", "json"):
        (b,) = formats.decode(formats.encode(a, out), sport="running")
        assert b.start == a.start and b.utc_offset == 7200
