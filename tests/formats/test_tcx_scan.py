"""TCX's trackpoints read two ways give the same activities: the compiled byte scan
(tcx._scan_tracks on xml_scan, hand-written for speed) and lxml's tree walk (tcx._trackpoint).

Every corpus TCX and hand-made variants (repeated and blank elements, Cadence vs RunCadence order,
a Position without longitude, a Trackpoint without Time, prefixes, comments) must agree; the
hand-made file's values are also checked against the numbers written in it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runhub.formats import FormatError, tcx

from .conftest import corpus_files

HEAD = (b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2" '
        b'xmlns:ns3="http://www.garmin.com/xmlschemas/ActivityExtension/v2">'
        b'<Activities><Activity Sport="Running"><Id>2020-01-01T10:00:00Z</Id>'
        b'<Lap StartTime="2020-01-01T10:00:00Z"><TotalTimeSeconds>20</TotalTimeSeconds>'
        b'<DistanceMeters>50</DistanceMeters><Calories>3</Calories><Intensity>Active</Intensity>'
        b'<TriggerMethod>Manual</TriggerMethod>')
TAIL = b"</Lap></Activity></Activities></TrainingCenterDatabase>\n"


def tp(body: bytes) -> bytes:
    return b"<Trackpoint>" + body + b"</Trackpoint>\n"


SAMPLE = HEAD + (
    b"<Track>"
    + tp(b"<Time>2020-01-01T10:00:00Z</Time><Position><LatitudeDegrees>50.1</LatitudeDegrees>"
         b"<LongitudeDegrees>5.1</LongitudeDegrees></Position><AltitudeMeters>10</AltitudeMeters>"
         b"<DistanceMeters>0</DistanceMeters><HeartRateBpm><Value>120</Value></HeartRateBpm>"
         b"<Cadence>80</Cadence><Extensions><ns3:TPX><ns3:Speed>2.5</ns3:Speed><ns3:RunCadence>85"
         b"</ns3:RunCadence></ns3:TPX></Extensions>")
    + tp(b"<Time>2020-01-01T10:00:01Z</Time><Position><LatitudeDegrees>50.2</LatitudeDegrees></Position>"
         b"<AltitudeMeters/><DistanceMeters>3</DistanceMeters><Extensions><ns3:TPX><ns3:RunCadence>86"
         b"</ns3:RunCadence></ns3:TPX></Extensions><Cadence>81</Cadence>")
    + tp(b"<AltitudeMeters>11</AltitudeMeters>")  # no Time: cannot be placed, left out
    + b"</Track><Track>"
    + tp(b"<Time>2020-01-01T10:00:10Z</Time><Time>2020-01-01T10:00:11Z</Time>"
         b"<HeartRateBpm><Value>130</Value><Value>131</Value></HeartRateBpm>"
         b"<Extensions><ns3:TPX><ns3:Watts>200</ns3:Watts><ns3:Watts/></ns3:TPX></Extensions>")
    + tp(b"<Time>2020-01-01T10:00:12Z</Time><DistanceMeters>9</DistanceMeters>")
    + b"</Track>") + TAIL


def _same(a, b) -> None:
    assert (a.start, a.sport, a.pauses) == (b.start, b.sport, b.pauses)
    assert a.channels.keys() == b.channels.keys()
    for k in a.channels:
        assert np.array_equal(a.channels[k], b.channels[k], equal_nan=True), k
    assert [vars(x) for x in a.laps] == [vars(x) for x in b.laps]
    assert (a.extras, a.device_name, a.notes, a.calories) == (b.extras, b.device_name, b.notes, b.calories)


def _both(data: bytes) -> list:
    fast = tcx._decode(data, None, None, fast=True)
    slow = tcx._decode(data, None, None, fast=False)
    assert len(fast) == len(slow)
    for a, b in zip(fast, slow, strict=True):
        _same(a, b)
    return fast


def test_hand_made_file_both_paths_and_values() -> None:
    assert tcx._scan_tracks(SAMPLE) is not None  # inside the scanned subset
    (a,) = _both(SAMPLE)
    nan = math.nan
    ch = a.channels
    assert ch["time"].tolist() == [0, 1, 11, 12]  # the second Time of point 3 wins
    assert a.pauses == [2]  # the lap's second Track
    assert np.array_equal(ch["latitude"], [50.1, nan, nan, nan], equal_nan=True)  # no longitude: no position
    assert np.array_equal(ch["altitude"], [10, nan, nan, nan], equal_nan=True)
    assert np.array_equal(ch["heart_rate"], [120, nan, 130, nan], equal_nan=True)  # the first Value
    assert np.array_equal(ch["cadence"], [85, 81, nan, nan], equal_nan=True)  # the later of the two
    assert "power" not in ch  # 200 W, then an empty <Watts/> after it: missing, so no power channel
    assert np.array_equal(ch["speed"], [2.5, nan, nan, nan], equal_nan=True)
    assert np.array_equal(ch["distance"], [0, 3, nan, 9], equal_nan=True)


@pytest.mark.parametrize("variant", [
    SAMPLE.replace(b"<Track>", b"<!-- c --><Track>", 1),  # a comment: the tree path
    SAMPLE.replace(b"<Value>120</Value>", b"<Value>1&#50;0</Value>"),  # a character reference
    SAMPLE.replace(b"<Track>", b'<Track note="a>b">', 1),  # '>' inside an attribute value
    SAMPLE.replace(b"<Cadence>81", b"<Cadence note='>'>81"),
    SAMPLE.replace(b"<Trackpoint>", b"<t:Trackpoint xmlns:t='http://www.garmin.com/xmlschemas/"
                   b"TrainingCenterDatabase/v2'>", 1).replace(b"</Trackpoint>", b"</t:Trackpoint>", 1),
])
def test_variants_agree(variant: bytes) -> None:
    _both(variant)


@pytest.mark.parametrize("path", corpus_files("tcx") or [None], ids=lambda p: p.name if p else "no-corpus")
def test_corpus_both_paths(path) -> None:
    if path is None:
        pytest.skip("activity corpus not found (set RUNHUB_CORPUS)")
    data = path.read_bytes()
    if b"<Courses>" in data and b"<Activities>" not in data:
        return  # a course: both refuse (test_corpus)
    _both(data)


# ---------------------------------------------------------------- generated files, both paths

_V = st.sampled_from(["", " ", "12", " 7.5 ", "-3e2", "x", "nan", "0", "100", "3.2799999713897705", "-0",
                      "37.341675935313106", "0.6000000238418579", "\n  5\n ", "1_0", "12345678901234567890.5"])
_T = st.sampled_from(["2020-01-01T10:00:00Z", "2020-01-01T10:00:01.5Z", "2020-01-01T11:00:02+01:00", "", "bad",
                      "2020-01-01T10:00:03Z", "2020-01-01T10:00:03Z", "2020-01-01T10:00:04.849800+00:00",
                      "2020-01-01T10:00:05", " 2020-01-01T10:00:06.000Z ", "2020-01-01T10:00:07.1234567Z"])


@st.composite
def _trackpoint(draw) -> bytes:
    parts = []
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["Time", "Position", "AltitudeMeters", "DistanceMeters", "HeartRateBpm",
                                     "Cadence", "Extensions", "SensorState", "self"]))
        if kind == "Time":
            parts.append(f"<Time>{draw(_T)}</Time>")
        elif kind == "Position":
            subs = draw(st.lists(st.sampled_from(["LatitudeDegrees", "LongitudeDegrees"]), max_size=3))
            parts.append("<Position>" + "".join(f"<{s}>{draw(_V)}</{s}>" for s in subs) + "</Position>")
        elif kind == "HeartRateBpm":
            parts.append("<HeartRateBpm>" + "".join(f"<Value>{draw(_V)}</Value>"
                                                    for _ in range(draw(st.integers(0, 2)))) + "</HeartRateBpm>")
        elif kind == "Extensions":
            names = draw(st.lists(st.sampled_from(["Speed", "Watts", "RunCadence", "Cadence", "Other"]), max_size=3))
            inner = "".join(f"<x:{n}>{draw(_V)}</x:{n}>" if draw(st.booleans()) else f"<x:{n}/>" for n in names)
            parts.append(f"<Extensions><x:TPX>{inner}</x:TPX></Extensions>")
        elif kind == "self":
            parts.append(f"<{draw(st.sampled_from(['Time', 'Cadence', 'AltitudeMeters']))}/>")
        else:
            parts.append(f"<{kind}>{draw(_V)}</{kind}>")
    return ("<Trackpoint>" + "".join(parts) + "</Trackpoint>").encode()


@st.composite
def _tcx(draw) -> bytes:
    laps = []
    for _ in range(draw(st.integers(1, 2))):
        tracks = [b"<Track>" + b"".join(draw(st.lists(_trackpoint(), max_size=5))) + b"</Track>"
                  for _ in range(draw(st.integers(0, 3)))]
        laps.append(b'<Lap StartTime="2020-01-01T10:00:00Z"><TotalTimeSeconds>5</TotalTimeSeconds>'
                    + b"".join(tracks) + b"</Lap>")
    return (b'<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2" '
            b'xmlns:x="urn:x"><Activities><Activity Sport="Biking"><Id>2020-01-01T10:00:00Z</Id>'
            + b"".join(laps) + b"</Activity></Activities></TrainingCenterDatabase>")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_tcx())
def test_generated_files_both_paths(data: bytes) -> None:
    try:
        slow = tcx._decode(data, None, None, fast=False)
    except FormatError as exc:
        with pytest.raises(FormatError) as again:
            tcx._decode(data, None, None, fast=True)
        assert str(again.value) == str(exc)
        return
    fast = tcx._decode(data, None, None, fast=True)
    assert len(fast) == len(slow)
    for a, b in zip(fast, slow, strict=True):
        _same(a, b)
