"""Round trips (CSV bit-exact; TCX/GPX within each format's resolution) and hostile input."""

from __future__ import annotations

import io
import os
import struct
import zipfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runhub import formats
from runhub.activity import Activity, Lap
from runhub.formats import FormatError, archive, csv, fit, gpx, tcx

from .conftest import CORPUS
from .test_vendor_csv import AMSTERDAM, _wahoo


def _activity() -> Activity:
    n = 120
    t = np.arange(n, dtype=np.float64) * 1.0
    t[60:] += 30.0  # a 31 s pause before sample 60
    rng = np.random.default_rng(7)
    lat = 52.0 + np.cumsum(rng.uniform(0, 2e-5, n))
    lon = 4.0 + np.cumsum(rng.uniform(0, 2e-5, n))
    hr = rng.integers(120, 170, n).astype(np.float64)
    hr[5] = np.nan
    return Activity(
        start=datetime(2024, 5, 1, 6, 30, 0, tzinfo=UTC), sport="running", utc_offset=7200,
        channels={"time": t, "latitude": lat, "longitude": lon,
                  "altitude": np.round(rng.uniform(0, 30, n), 1), "heart_rate": hr,
                  "cadence": rng.integers(80, 95, n).astype(np.float64),
                  "power": rng.integers(200, 300, n).astype(np.float64),
                  "speed": np.round(rng.uniform(2.5, 4.0, n), 3),
                  "distance": np.round(np.cumsum(rng.uniform(2, 4, n)), 2)},
        pauses=[60], laps=[Lap(end_time=float(t[59]), end_index=59), Lap(end_time=float(t[-1]), end_index=n - 1)],
    ).validate()


def test_csv_round_trip_is_bit_exact() -> None:
    a = _activity()
    b = csv.decode(csv.encode(a))[0]
    assert b.start == a.start and b.utc_offset == a.utc_offset and b.sport == a.sport
    for name, arr in a.channels.items():
        np.testing.assert_array_equal(b.channels[name], arr, err_msg=name)  # NaN == NaN here


@pytest.mark.parametrize("offset", [0, 19800, -36000, 3723])  # UTC, +05:30, -10:00, +01:02:03
def test_csv_times_are_pythons_datetime_arithmetic(offset: int) -> None:
    """Each line's time is the start in the run's offset plus its seconds as Python's datetime adds
    them (timedelta rounds to the microsecond, half to even), written by isoformat: exact halves of
    a microsecond, a start one microsecond before a second, a day and a week in."""
    t = np.array([0.0, 2.5e-7, 5e-7, 1.5e-6, 2.5e-6, 0.1, 1.4999995, 59.9999995, 86399.9999995, 604800.0000005])
    start = datetime(2024, 3, 31, 0, 59, 59, 999999, tzinfo=UTC)
    a = Activity(start=start, utc_offset=offset, channels={"time": t, "heart_rate": np.arange(10.0)})
    lines = csv.encode(a).decode().splitlines()[1:]
    local = start.astimezone(timezone(timedelta(seconds=offset)))
    assert [line.split(",")[0] for line in lines] == [
        (local + timedelta(seconds=float(s))).isoformat(timespec="microseconds") for s in t]


# Resolution per channel, as each format writes it (tcx.encode / gpx.encode docstrings); times to
# the millisecond, or to the microsecond between milliseconds (the test below)
TCX_RES = {"time": 1e-3, "latitude": 1e-7, "longitude": 1e-7, "altitude": 1e-3, "distance": 1e-3,
           "heart_rate": 0.5, "cadence": 0.5, "power": 0.5, "speed": 1e-3}
GPX_RES = {"time": 1e-3, "latitude": 1e-7, "longitude": 1e-7, "altitude": 1e-3, "heart_rate": 0.5,
           "cadence": 0.5, "power": 0.5, "speed": 1e-3}


@pytest.mark.parametrize("codec,res", [(tcx, TCX_RES), (gpx, GPX_RES)])
def test_xml_round_trip_within_resolution(codec, res) -> None:
    a = _activity()
    b = codec.decode(codec.encode(a))[0]
    assert b.start == a.start and b.pauses == a.pauses
    for name, tol in res.items():
        np.testing.assert_allclose(b.channels[name], a.channels[name], rtol=0, atol=tol, err_msg=name)
    # laps: TCX's own, GPX's as GPX+ laps (gpxdata), their ends written to 1 ms
    assert [lap.end_index for lap in b.laps] == [59, 119]
    assert [lap.end_time for lap in b.laps] == pytest.approx([lap.end_time for lap in a.laps], abs=1e-3)


@pytest.mark.parametrize("codec", [tcx, gpx])
def test_samples_under_a_millisecond_apart_come_back_each_to_the_microsecond(codec) -> None:
    """Found by fuzzing: a Smashrun JSON clock [0, 0.0004] (JSON states any decimal; runhub keeps
    steps from 0.5 us) was written to the millisecond, both samples at one time: the GPX export read
    back refused ("only one distinct point in time"), the TCX one with a sample less. A time between
    milliseconds is written to the microsecond (xsd:dateTime takes any fraction), one on a
    millisecond as before."""
    t = np.array([0.0, 0.0004, 0.001, 10.0, 10.000001])
    a = Activity(start=datetime(2024, 5, 1, 6, 0, tzinfo=UTC), sport="running",
                 channels={"time": t, "latitude": 52.0 + t / 1e4, "longitude": np.full(5, 4.0),
                           "heart_rate": np.array([120.0, 121, 122, 123, 124])})
    text = codec.encode(a.validate()).decode()
    assert "06:00:00.000Z" in text and "06:00:00.000400Z" in text and "06:00:00.001Z" in text
    (b,) = codec.decode(text.encode())
    np.testing.assert_allclose(b.channels["time"], t, rtol=0, atol=5e-7)
    np.testing.assert_array_equal(b.channels["heart_rate"], a.channels["heart_rate"])


def _beyond_the_schemas() -> Activity:
    """The fixture with readings runhub accepts (CHANNEL_BOUNDS: heart rate to 260, cadence to 300,
    CALORIES_MAX 100,000 kcal) that the XML schemas' types cannot hold: TCX's and Garmin's
    TrackPointExtension's heart rate is an unsignedByte of at least 1 (so at most 255), cadence a
    CadenceValue_t (unsignedByte, at most 254), a TCX lap's Calories an unsignedShort (65,535)."""
    a = _activity()
    a.channels["heart_rate"][10] = 258.0
    a.channels["heart_rate"][11] = 255.0  # the largest a schema holds: written
    a.channels["cadence"][20] = 280.0
    a.channels["cadence"][21] = 254.0
    a.laps[0].totals["calories"] = 70_000.0
    a.laps[1].totals["calories"] = 412.0
    return a.validate()


@pytest.mark.parametrize("codec", [tcx, gpx])
def test_a_reading_the_schemas_cannot_hold_is_written_as_missing(codec) -> None:
    """One 258 bpm sample must not make a whole export one a strict importer refuses (Garmin
    Connect validates TCX uploads): it is written as missing, as FIT's writer leaves out what its
    fields cannot hold; every other reading is written as before. A TCX lap's Calories, which the
    schema requires, is 0 (unknown) where the total is past its type."""
    a = _beyond_the_schemas()
    b = codec.decode(codec.encode(a))[0]
    hr, cad = b.channels["heart_rate"], b.channels["cadence"]
    assert np.isnan(hr[10]) and hr[11] == 255.0 and np.isnan(cad[20]) and cad[21] == 254.0
    keep = np.ones(len(hr), dtype=bool)
    keep[[10, 20]] = False
    np.testing.assert_allclose(hr[keep], a.channels["heart_rate"][keep], atol=0.5)
    np.testing.assert_allclose(cad[keep], a.channels["cadence"][keep], atol=0.5)
    if codec is tcx:
        assert [lap.totals.get("calories") for lap in b.laps] == [0.0, 412.0]


@pytest.mark.parametrize("codec", [tcx, gpx])
def test_the_antimeridian_is_written_as_the_schemas_hold_it(codec) -> None:
    """GPX's longitudeType and TCX's DegreesLongitude_t hold -180 <= lon < 180: a point at 180 deg
    (or close enough to be written as 180.0000000 at 1e-7 deg) is written at -180, the same
    meridian, and reads back there."""
    a = _activity()
    a.channels["longitude"][[0, 1, 2]] = [180.0, 179.99999996, 179.9999999]
    data = codec.encode(a.validate()).decode()
    assert "180.0000000" not in data.replace("-180.0000000", "")
    b = codec.decode(data.encode())[0]
    assert list(b.channels["longitude"][:3]) == [-180.0, -180.0, 179.9999999]


def test_tcx_pause_on_a_lap_start_is_schema_valid_and_survives() -> None:
    """The fixture's pause falls exactly on its second lap's start. TrainingCenterDatabasev2.xsd:
    Track_t is a sequence of Trackpoint with minOccurs 1 (an empty Track is invalid, and Garmin
    Connect validates uploads); ActivityLap_t ends Track*, Notes?, Extensions?, and Extensions_t
    admits any element of another namespace (xsd:any ##other, lax)."""
    from xml.etree import ElementTree as ET

    a = _activity()
    assert a.pauses == [60] and a.laps[0].end_index == 59
    root = ET.fromstring(tcx.encode(a))
    ns = {"t": tcx.NS}
    tracks = root.findall(".//t:Track", ns)
    assert tracks and all(tr.findall("t:Trackpoint", ns) for tr in tracks)
    laps = root.findall(".//t:Lap", ns)
    assert len(laps) == 2
    marks = [lap.find(f"t:Extensions/{{{tcx.NS_RUNHUB}}}{tcx.PAUSED_BEFORE}", ns) is not None for lap in laps]
    assert marks == [False, True]
    tail = [child.tag.split("}")[1] for child in laps[1]][-2:]
    assert tail == ["Track", "Extensions"]  # the schema's order: Extensions after the Tracks
    b = tcx.decode(tcx.encode(a))[0]
    assert b.pauses == [60] and [lap.end_index for lap in b.laps] == [59, 119]
    # runhub's exports before the mark wrote an empty first Track instead: still read as the pause
    old = tcx.encode(a).replace(f'<Extensions><{tcx.PAUSED_BEFORE} xmlns="{tcx.NS_RUNHUB}"/></Extensions>'.encode(),
                                b"")
    second = old.index(b"<Lap ", old.index(b"<Lap ") + 1)
    track = old.index(b"<Track>", second)
    old = old[:track] + b"<Track/>" + old[track:]
    assert tcx.decode(old)[0].pauses == [60]
    # without either, a new lap's first Track is no pause (Garmin's own files)
    plain = old.replace(b"<Track/>", b"")
    assert tcx.decode(plain)[0].pauses == []


def test_fit_with_wrong_crc_is_refused(corpus: Path) -> None:
    data = bytearray((CORPUS / "fit/fitparse_Activity.fit").read_bytes())
    data[-1] ^= 0xFF
    with pytest.raises(FormatError, match="CRC"):
        fit.decode(bytes(data))


def test_fit_with_a_wrong_data_size_is_refused(corpus: Path) -> None:
    """Header bytes 4-7 hold the data size; a smaller one leaves a message crossing it (found by the fuzz test)."""
    data = bytearray((CORPUS / "fit/fitparse_Activity.fit").read_bytes())
    data[4] = 0
    with pytest.raises(FormatError, match="data size the FIT header declares"):
        fit.decode(bytes(data))


def test_fit_fields_read_as_arrays_are_no_times_and_no_kinds() -> None:
    """Found by fuzzing: a definition that widens a field makes a decoder read it as an array. A
    timer event whose type is an array (was: TypeError, unhashable list) and a session whose start
    is one (was: IndexError, with no records to take the start from) are read as saying nothing."""
    a = _activity()
    m = fit.read_messages(fit.encode(a), "a.fit")
    for e in m.msgs["event"]:
        if e.get("event") == "timer":
            e["event_type"] = [e["event_type"], "stop_all"]
    (b,) = fit.build_activities(m, "a.fit")
    assert b.start == a.start and b.n_samples == a.n_samples
    assert "pause_source" not in b.extras  # no timer event said when the timer ran

    m = fit.read_messages(fit.encode(a), "a.fit")
    (s,) = m.msgs["session"]
    end = s["timestamp"]
    m.msgs["session"] = [dict(s, start_time=[1, 2]), dict(s, start_time=end + 10, timestamp=end + 20)]
    m.records = {}
    first, second = fit.build_activities(m, "a.fit")
    # the first session is placed by the one time it has, its end; the group is named by it
    assert first.start == datetime.fromtimestamp(end, UTC)
    assert first.extras["multisport_group"] == second.extras["multisport_group"] == f"fit:{end}:2"


def test_a_fit_start_before_1980_is_refused_as_every_formats() -> None:
    """Found by fuzzing: a session timed 0 s after power-on, anchored by an activity message whose
    local time is far before its UTC time, started before 1980 (the fuzzed file: 1957). TCX, GPX
    and CSV refuse such a start (`check_start`): the run was kept, and its TCX export refused."""
    m = fit.read_messages(fit.encode(_activity()), "a.fit")
    m.records = {}
    (s,) = m.msgs["session"]
    s["start_time"] = float(fit.FIT_EPOCH)  # FIT time 0: relative to power-on
    m.msgs["activity"] = [{"timestamp": 3_000_000_000.0, "local_timestamp": 1_000_000_000.0}]
    # by hand: the anchor is local - UTC = -2.0e9 s, so the start is 631065600 - 2e9 = -1368934400 s
    # since 1970: 1926-08-15 20:26:40 UTC, before 1980
    with pytest.raises(FormatError) as exc:
        fit.build_activities(m, "a.fit")
    assert "start time 1926-08-15T20:26:40+00:00" in str(exc.value) and "not plausible" in str(exc.value)
    assert exc.value.location == "session"


@pytest.mark.parametrize("days", [None, 2], ids=["1975", "the day after tomorrow"])
def test_a_smashrun_json_start_before_1980_or_after_tomorrow_is_refused_as_every_formats(days: int | None) -> None:
    """Found by fuzzing: Smashrun JSON took a start of 1975 (or two days on), which every other format
    refuses (`check_start`): the run was kept, and its CSV, TCX and GPX exports read back refused."""
    start = "1975-06-01T07:00:00Z" if days is None else (
        (datetime.now(UTC) + timedelta(days=days)).replace(microsecond=0).isoformat())
    run = ('{"startDateTimeLocal": "%s", "activityType": "running", "recordingKeys": ["clock", "latitude", '
           '"longitude"], "recordingValues": [[0, 10, 20], [52.0, 52.001, 52.002], [4.0, 4.0, 4.0]]}')
    with pytest.raises(FormatError, match="is not plausible") as exc:
        formats.decode((run % start).encode())
    assert exc.value.location == "startDateTimeLocal"
    (a,) = formats.decode((run % "2020-06-01T07:00:00Z").encode())  # the same run in 2020 is read
    for out in ("csv", "tcx", "gpx"):
        assert formats.decode(formats.encode(a, out), sport="running")[0].start == a.start


def test_fit_records_that_begin_after_tomorrow_are_refused_as_every_formats() -> None:
    """Found by fuzzing: a session that started an hour ago, its records 30 days on. The session's
    start passed `check_start`, the run was kept, and its TCX, GPX and CSV exports, which begin at
    the first record, read back refused."""
    a = _activity()
    m = fit.read_messages(fit.encode(a), "a.fit")
    (s,) = m.msgs["session"]
    now = datetime.now(UTC).timestamp()
    to_session = now - 3600 - s["start_time"]
    s["start_time"] += to_session
    s["timestamp"] += to_session
    m.records["timestamp"] = m.records["timestamp"] - m.records["timestamp"][0] + now + 30 * 86400
    with pytest.raises(FormatError) as exc:
        fit.build_activities(m, "a.fit")
    assert exc.value.location == "record" and "not plausible" in exc.value.message
    m.records["timestamp"] -= 30 * 86400 + 1800  # half an hour after the session's start: kept
    (b,) = fit.build_activities(m, "a.fit")
    assert b.n_samples == a.n_samples


def test_truncated_at_every_cut_point(corpus: Path) -> None:
    """Activity.fit (771 bytes) cut at every byte: a clear refusal, or whole records kept and said."""
    data = (CORPUS / "fit/fitparse_Activity.fit").read_bytes()
    for cut in range(len(data)):
        try:
            acts = formats.decode(data[:cut]) if cut >= 12 and data[8:12] == b".FIT" else fit.decode(data[:cut])
        except FormatError:
            continue
        for a in acts:
            a.validate()
            assert "truncated" in a.extras["import_warning"]


def test_random_bytes_refused() -> None:
    for seed in range(20):
        blob = np.random.default_rng(seed).bytes(2000)
        with pytest.raises(FormatError):
            formats.decode(blob)


XXE = b"""<?xml version="1.0"?><!DOCTYPE gpx [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<gpx>
<trk><trkseg><trkpt lat="1" lon="1"><time>2020-01-01T00:00:00Z</time><name>&xxe;</name></trkpt></trkseg></trk></gpx>"""
LAUGHS = b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">' + b"".join(
    f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i else "&lol;" * 10}">'.encode() for i in range(10)
) + b"]><TrainingCenterDatabase>&lol9;</TrainingCenterDatabase>"


@pytest.mark.parametrize("payload, fmt", [
    (XXE, "gpx"), (LAUGHS, "tcx"),
    # the same in UTF-16, where a byte search for "<!DOCTYPE" would find nothing
    (XXE.decode().encode("utf-16"), "gpx"), (LAUGHS.decode().encode("utf-16-be"), "tcx"),
])
def test_entities_refused(payload: bytes, fmt: str) -> None:
    with pytest.raises(FormatError, match="DOCTYPE"):
        formats.decode(payload, fmt)
    with pytest.raises(FormatError):
        formats.decode(payload)


def test_size_limit_checked_before_parsing() -> None:
    big = b"<gpx>" + b" " * 2048 + b"</gpx>"
    with pytest.raises(FormatError, match="limit"):
        gpx.decode(big, max_bytes=1024)


def test_year_3000_and_one_point_gpx() -> None:
    pt = '<trkpt lat="52" lon="4"><time>{}</time></trkpt>'
    doc = '<gpx><trk><trkseg>{}</trkseg></trk></gpx>'
    future = doc.format(pt.format("3000-01-01T00:00:00Z") + pt.format("3000-01-01T00:00:01Z")).encode()
    with pytest.raises(FormatError, match="plausible"):
        gpx.decode(future)
    with pytest.raises(FormatError, match="one distinct point"):
        gpx.decode(doc.format(pt.format("2020-01-01T00:00:00Z")).encode())


def test_csv_naive_timestamp_names_the_line() -> None:
    data = b"timestamp,heart_rate\n2024-05-01T07:30:00+02:00,120\n2024-05-01T07:30:01,121\n"
    with pytest.raises(FormatError) as exc:
        csv.decode(data, sport="running")
    assert exc.value.location == "line 3" and "offset" in exc.value.message


def test_csv_offset_with_seconds_names_the_line() -> None:
    """Found by fuzzing: Python reads +00:00:01, and the run was kept; its Smashrun JSON export
    wrote that offset in startDateTimeLocal, which the JSON reader (ISO 8601: +hh:mm) refused."""
    data = b"timestamp,heart_rate\n2024-05-01T07:30:00+02:00,120\n2024-05-01T07:30:01+02:00:01,121\n"
    with pytest.raises(FormatError) as exc:
        csv.decode(data, sport="running")
    assert exc.value.location == "line 3" and "offset with seconds" in exc.value.message
    (a,) = csv.decode(data.replace(b"+02:00:01", b"+02:00"), sport="running")
    assert a.utc_offset == 7200


def test_zip_bomb_and_nesting_and_paths() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("bomb.csv", b"\0" * (4 * 1024 * 1024))
    with pytest.raises(FormatError, match="limit"):
        archive.unpack(buf.getvalue(), "b.zip", max_member_bytes=1024 * 1024)
    inner = buf.getvalue()
    nested = io.BytesIO()
    with zipfile.ZipFile(nested, "w") as z:
        z.writestr("inner.zip", inner)
    with pytest.raises(FormatError, match="nested"):
        archive.unpack(nested.getvalue(), "n.zip")
    evil = io.BytesIO()
    with zipfile.ZipFile(evil, "w") as z:
        z.writestr("../../etc/x.gpx", b"x")
    with pytest.raises(FormatError, match="outside"):
        archive.unpack(evil.getvalue(), "e.zip")


def test_zip_past_the_count_or_total_limit_says_how_to_import_it() -> None:
    """An account export of a lifetime passes the count or the total limit: refused, saying to
    import it from disk."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for k in range(5):
            z.writestr(f"activities/{k}.gpx", b"<gpx>" + b" " * 1000)
    with pytest.raises(FormatError, match="5 members, the limit is 4; import it from disk with `runhub import`"):
        archive.unpack(buf.getvalue(), "export.zip", max_members=4)
    with pytest.raises(FormatError, match="more than 4000 bytes in all; import it from disk") as exc:
        archive.unpack(buf.getvalue(), "export.zip", max_total_bytes=4000)
    assert exc.value.location == "activities/3.gpx"  # the member that passed it
    assert len(archive.unpack(buf.getvalue(), "export.zip", max_members=5, max_total_bytes=5025)) == 5


def test_zip_members_each_come_out(corpus: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("a.fit", (CORPUS / "fit/fitparse_Activity.fit").read_bytes())
        z.writestr("b/ride.fit.gz", (CORPUS / "fit/gc_14582164182.fit.gz").read_bytes())
        z.writestr("__MACOSX/._a.fit", b"junk")
    names = [n for n, _ in archive.unpack(buf.getvalue(), "export.zip")]
    assert names == ["a.fit", "b/ride.fit"]


FUZZ_EXAMPLES = int(os.environ.get("RUNHUB_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("layout", ["fit", "fit-dev", "tcx", "gpx", "csv", "wahoo"])
def test_fuzz_decoders_only_raise_format_errors(layout: str, capfd: pytest.CaptureFixture[str]) -> None:
    """Bytes changed or cut anywhere: a FormatError or a validation error, and nothing on stderr (a
    panic in fitfast's Rust decoder, caught as an exception, still prints its backtrace there). A
    changed FIT file gets its CRC restated half the time, so that the change is decoded, not just
    refused for its CRC; "fit-dev" is a file with developer fields (their descriptions' base types
    made fitfast panic)."""
    fmt = {"wahoo": "csv", "fit-dev": "fit"}.get(layout, layout)  # wahoo: the Wahoo Fitness app's CSV
    seeds = {"fit": (CORPUS / "fit/fitparse_Activity.fit"), "fit-dev": (CORPUS / "fit/fitparse_DeveloperData.fit"),
             "tcx": None, "gpx": None, "csv": None, "wahoo": None}
    base = seeds[layout].read_bytes() if seeds[layout] and seeds[layout].is_file() else {
        "fit": b"\x0e\x10\x00\x00\x00\x00\x00\x00.FIT\x00\x00",
        "fit-dev": b"\x0e\x10\x00\x00\x00\x00\x00\x00.FIT\x00\x00",
        "tcx": b'<TrainingCenterDatabase><Activities><Activity Sport="Running"><Lap StartTime="2020-01-01T00:00:00Z">'
               b"<Track><Trackpoint><Time>2020-01-01T00:00:00Z</Time></Trackpoint></Track></Lap></Activity>"
               b"</Activities></TrainingCenterDatabase>",
        "gpx": b'<gpx><trk><trkseg><trkpt lat="1" lon="2"><time>2020-01-01T00:00:00Z</time></trkpt>'
               b'<trkpt lat="1" lon="2.001"><time>2020-01-01T00:00:01Z</time></trkpt></trkseg></trk></gpx>',
        "csv": b"timestamp,sport,heart_rate\n2020-01-01T00:00:00Z,running,120\n2020-01-01T00:00:01Z,,121\n",
        "wahoo": _wahoo("Year,2015,Month,2,Day5,Hou16,Minu19,Sec2", {"hr", "gps", "pwr"},
                        [{"time": k, **AMSTERDAM, "gps_dist": 3.0 * k, "hr_heartrate": 120, "pwr_instpwr": 150,
                          "paused": int(k == 3), "interval": 1 + k // 4} for k in range(1, 7)]),
    }[layout]

    # the FIT files are small and read in a millisecond: four times the examples (about 3 s), as the
    # structure a change can break is richer there
    @settings(FUZZ, max_examples=FUZZ_EXAMPLES * (4 if fmt == "fit" else 1))
    @given(st.lists(st.tuples(st.integers(0, max(len(base) - 1, 0)), st.integers(0, 255)), max_size=8),
           st.integers(0, len(base)), st.booleans())
    def run(edits, cut, restate_crc):
        data = bytearray(base)
        for pos, val in edits:
            data[pos] = val
        data = data[:cut] if cut else data
        end = data[0] + struct.unpack_from("<I", data, 4)[0] if fmt == "fit" and len(data) >= 12 else len(data)
        if restate_crc and end + 2 <= len(data):
            data[end:end + 2] = struct.pack("<H", fit.fit_crc(bytes(data[:end])))
        try:
            for a in formats.decode(bytes(data), fmt):
                a.validate()
        except FormatError:
            pass
        except ValueError as exc:  # ActivityError is a ValueError: validation said what was wrong
            assert str(exc)

    run()
    assert capfd.readouterr().err == ""


# A Smashrun JSON activity with a slot for one raw number text at each place a number goes.
_JSON_SLOTS = ("distance", "duration", "activityId", "calories", "bodyWeight", "humidity", "windSpeed", "temperature",
               "lap", "song", "recording", "hrr", "rr", "length", "meta")


def _json_with(slot: str, number: str) -> bytes:
    fields = {k: "5" for k in ("distance", "duration")}
    fields[slot] = number
    extra = "".join(f', "{k}": {v}' for k, v in fields.items() if k in _JSON_SLOTS[:8])
    lap = fields.get("lap", "1")
    song = fields.get("song", "120")
    rec = fields.get("recording", "0.002")
    hrr = fields.get("hrr", "120")
    own = (f', "runhub": {{"rrIntervals": [0.8, {fields.get("rr", "0.75")}], "poolLengths": {{"start": [0, '
           f'{fields.get("length", "1")}]}}, "appMetadata": {{"app": {{"n": {fields.get("meta", "1")}}}}}}}')
    return ('{"startDateTimeLocal": "2024-05-01T07:00:00+02:00", "activityType": "running"' + extra + own
            + f', "laps": [{{"lapType": "work", "endDistance": {lap}}}]'
            + f', "songs": [{{"song": "s", "BPM": {song}, "startClock": 0, "endClock": 1}}]'
            + f', "heartRateRecovery": [{{"duration": 0, "heartRate": {hrr}}}]'
            + f', "recordingKeys": ["clock", "distance"], "recordingValues": [[0, 1, 2], [0, 0.001, {rec}]]}}').encode()


def test_fuzz_smashrun_json_numbers_only_raise_format_errors() -> None:
    """Every place a number goes in Smashrun JSON, given any number JSON allows: 400 digits, an
    exponent of 20 digits (1e999999999999999999 made the parser raise decimal.InvalidOperation, a
    distance series of 1e999999999 made the km -> m shift raise decimal.Overflow: both found by a
    mutation fuzz, both server errors before), a negative zero, a tiny fraction: the decoder reads
    it or says which field is wrong."""
    number = st.from_regex(r"-?(0|[1-9][0-9]{0,400})(\.[0-9]{1,30})?([eE][-+]?[0-9]{1,20})?", fullmatch=True)

    @FUZZ
    @given(st.sampled_from(_JSON_SLOTS), number)
    def run(slot, text):
        try:
            for a in formats.decode(_json_with(slot, text), "json"):
                a.validate()
        except FormatError as exc:
            assert exc.message
        except ValueError as exc:  # ActivityError: validation said what was wrong
            assert str(exc)

    assert formats.decode(_json_with("distance", "5"), "json")  # the base reads
    for slot, text in (("distance", "1e999999999999999999"), ("recording", "1e999999999"), ("activityId", "1e400"),
                       ("song", "9" * 400), ("rr", "1e400"), ("length", "-0.5"), ("meta", "1e400")):
        with pytest.raises(FormatError):
            formats.decode(_json_with(slot, text), "json")
    run()


def _zip_of(entries: list[tuple[Any, bytes]]) -> bytearray:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in entries:
            z.writestr(name, data)
    return bytearray(buf.getvalue())


def _zip_version_12() -> bytes:
    data = _zip_of([("a.gpx", b"<gpx/>")])
    struct.pack_into("<H", data, data.index(b"PK\x01\x02") + 6, 121)  # version needed to extract: 12.1
    return bytes(data)


def _zip_cd_offset_past() -> bytes:
    data = _zip_of([("a.gpx", b"<gpx/>")])
    eocd = data.index(b"PK\x05\x06")
    struct.pack_into("<I", data, eocd + 16, struct.unpack_from("<I", data, eocd + 16)[0] + 100)
    return bytes(data)


@pytest.mark.parametrize("make, says", [
    (_zip_version_12, "not a valid zip file (zip file version 12.1)"),  # NotImplementedError before
    (_zip_cd_offset_past, "cannot read member (negative seek value"),  # ValueError before
    (lambda: bytes(_zip_of([(zipfile.ZipInfo(""), b"<gpx/>")])), "nothing to import"),  # IndexError before
])
def test_a_broken_zip_is_a_failed_upload_saying_why(make, says) -> None:
    """Zips that zipfile refuses with other exceptions than BadZipFile (each found by a mutation
    fuzz of uploads, each a server error before): a failed result naming what is wrong."""
    from runhub.ingest import analyse_upload

    results = analyse_upload(make(), filename="up.zip")
    assert results and all(getattr(r, "status", None) == "failed" for r in results)
    assert says in results[0].error, results[0].error


def test_fuzz_uploads_only_fail_cleanly() -> None:
    """An upload (a zip of several formats, a gzip) with bytes changed or cut anywhere: ingest's
    pure half gives a result per member, never an exception (the zip cases above were found so)."""
    import gzip

    from runhub import demo
    from runhub.ingest import analyse_upload

    run = demo.make_run(5, datetime(2024, 6, 10, 6, 30, tzinfo=UTC), minutes=1.0)
    members = [(f"a/r.{fmt}", formats.encode(run, fmt)) for fmt in ("fit", "gpx", "json")]
    seeds = [bytes(_zip_of(members)), gzip.compress(members[1][1])]

    @FUZZ
    @given(st.sampled_from(seeds).flatmap(lambda base: st.tuples(
        st.just(base), st.lists(st.tuples(st.integers(0, len(base) - 1), st.integers(0, 255)), max_size=6),
        st.integers(0, len(base)))))
    def run_one(case):
        base, edits, cut = case
        data = bytearray(base)
        for pos, val in edits:
            data[pos] = val
        results = analyse_upload(bytes(data[:cut] if cut else data), filename="up.zip", sport="running")
        for r in results:
            assert getattr(r, "status", "analysed") != "failed" or r.error

    run_one()


@pytest.mark.parametrize("fmt", ["tcx", "gpx"])
def test_text_xml_cannot_hold_is_written_so_that_the_file_reads_back(fmt: str) -> None:
    """Notes, a title and a device name may hold what XML 1.0 cannot (Smashrun JSON allows
    "\\u0001" in notes, and runhub keeps it): the TCX and GPX runhub wrote with them were not XML,
    refused by every reader, runhub's own included. Now each such character is written as U+FFFD;
    what XML can hold (markup characters, tab, line feed) comes back exactly."""
    from runhub import demo

    a = demo.make_run(6, datetime(2024, 6, 11, 6, 30, tzinfo=UTC), minutes=2.0)
    for text, back in (("a\x01b\x00c\ufffed\x1fe", "a\ufffdb\ufffdc\ufffdd\ufffde"),
                       ("]]> & <x> \"q\" 'a'\ttab\nline", "]]> & <x> \"q\" 'a'\ttab\nline")):
        a.notes, a.name, a.device_name = text, text, text
        (b,) = formats.decode(formats.encode(a, fmt), filename=f"x.{fmt}")
        assert (b.notes, b.device_name) == (back, back), fmt
        if fmt == "gpx":  # TCX has no title
            assert b.name == back


def _kept_sample_by_sample(t: np.ndarray, cols: dict[str, np.ndarray]) -> tuple[np.ndarray, dict, int]:
    """The rule of `strictly_increasing` as a loop a sample (how it was written, before a 32 MB TCX
    of one repeated time, found by fuzzing, took 5 s in it): a sample is kept when its time is past
    the last kept one; a dropped one lends the last kept sample the values it lacks, first come."""
    keep = np.ones(len(t), dtype=bool)
    last, last_i = t[0], 0
    for i in range(1, len(t)):
        if t[i] > last:
            last, last_i = t[i], i
            continue
        keep[i] = False
        for arr in cols.values():
            if np.isnan(arr[last_i]) and not np.isnan(arr[i]):
                arr[last_i] = arr[i]
    return t[keep], {k: v[keep] for k, v in cols.items()}, int((~keep).sum())


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.integers(0, 8).map(float), st.just(float("nan"))), min_size=2, max_size=40),
       st.data())
def test_strictly_increasing_keeps_and_lends_as_the_sample_by_sample_rule(times: list[float], data) -> None:
    from runhub.formats._common import strictly_increasing

    t = np.array(times)
    value = st.one_of(st.just(float("nan")), st.floats(0, 1))
    cols = {name: np.array(data.draw(st.lists(value, min_size=len(t), max_size=len(t)))) for name in ("a", "b")}
    want_t, want_cols, want_dropped = _kept_sample_by_sample(t.copy(), {k: v.copy() for k, v in cols.items()})
    got_t, got_cols, got_dropped = strictly_increasing(t.copy(), {k: v.copy() for k, v in cols.items()})
    np.testing.assert_array_equal(got_t, want_t)
    assert got_dropped == want_dropped
    for name in cols:
        np.testing.assert_array_equal(got_cols[name], want_cols[name])
