"""Vendor CSV layouts, each checked against an outside truth.

- FIT record tables: python-fitparse's CSVs hold the record messages of two corpus FIT files, so
  every channel is compared with fitdecode's decode of the FIT file (not runhub's FIT decoder).
- OpenTracks: its 12-line test export, with the expected values read by hand from the file.
- Wahoo Fitness app: the corpus walk against the app's own totals in the file, and hand-built files
  in the app's layout for pauses, intervals, the zone at the position and daylight-saving starts.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pytest

from runhub import formats
from runhub.formats import FormatError
from runhub.ingest import prepare

from .conftest import CORPUS

SEMICIRCLE_DEG = 180 / 2**31  # FIT profile: degrees = semicircles * (180 / 2^31)
# fitdecode field -> runhub channel (FIT profile units are runhub's SI units for these)
FIELDS = {"heart_rate": "heart_rate", "cadence": "cadence", "speed": "speed", "distance": "distance",
          "altitude": "altitude", "temperature": "temperature", "position_lat": "latitude",
          "position_long": "longitude"}
PAIRS = [("fitparse_garmin-edge-500-activity", 10686), ("fitparse_garmin-fenix-5-run", 21)]


def _fitdecode_records(path) -> list[dict]:
    fitdecode = pytest.importorskip("fitdecode")
    out = []
    with fitdecode.FitReader(str(path)) as r:
        for frame in r:
            if isinstance(frame, fitdecode.FitDataMessage) and frame.name == "record":
                out.append({f.name: f.value for f in frame.fields})
    return out


@pytest.mark.parametrize(("stem", "n_records"), PAIRS)
def test_fit_record_table_matches_fitdecode(stem: str, n_records: int, corpus) -> None:
    csv_path = CORPUS / "csv" / f"{stem}-records.csv"
    records = _fitdecode_records(CORPUS / "fit" / f"{stem}.fit")
    assert len(records) == n_records  # SOURCES.md: the FIT file's record count
    (a,) = formats.decode(csv_path.read_bytes(), filename=csv_path.name)
    a.validate()
    # The rule for repeated timestamps (FIT and GPX alike): keep the first record of a second.
    kept: list[dict] = []
    for rec in records:
        if kept and rec["timestamp"] <= kept[-1]["timestamp"]:
            continue
        kept.append(rec)
    assert a.n_samples == len(kept)
    assert a.extras.get("dropped_points", {}).get("count", 0) == len(records) - len(kept)
    t0 = kept[0]["timestamp"]
    assert a.start == t0  # the CSV's 'PDT' local times resolve to fitdecode's UTC timestamps
    assert a.utc_offset == -7 * 3600
    expected_t = np.array([(r["timestamp"] - t0).total_seconds() for r in kept])
    assert np.array_equal(a.channels["time"], expected_t)
    for field, channel in FIELDS.items():
        want = np.array([math.nan if r.get(field) is None else float(r[field]) for r in kept])
        if field.startswith("position_"):
            want = want * SEMICIRCLE_DEG
        got = a.channels[channel]
        known = ~np.isnan(want)
        assert np.allclose(got[known], want[known], rtol=1e-12, atol=1e-9), field
        # Where the FIT record's field is invalid (no fix, no cadence reading), the table that
        # generated the CSV repeats the previous record's value: the CSV cannot say "missing"
        gaps = np.flatnonzero(~known)
        assert (gaps > 0).all() and np.array_equal(got[gaps], got[gaps - 1]), field


def test_opentracks_export_values_read_by_hand(corpus) -> None:
    path = CORPUS / "csv" / "opentracks_csv_export.csv"
    (a,) = formats.decode(path.read_bytes(), filename=path.name, sport="running")
    a.validate()
    nan = math.nan
    # Samples are the TRACKPOINT rows and the SEGMENT_START_AUTOMATIC row (it has a position);
    # SEGMENT_START/END_MANUAL and IDLE rows mark pauses.
    assert a.start == datetime(2020, 2, 2, 2, 2, 3, tzinfo=UTC)  # "2020-02-02T03:02:03+01:00"
    assert a.utc_offset == 3600
    assert a.sport == "running"
    assert a.channels["time"].tolist() == [0, 1, 12, 14, 78, 79, 107]
    assert a.pauses == [4, 5, 6]
    expected = {
        "latitude": [3.123456, nan, nan, 3.123456, 3.123456, 3.123456, 3.123456],
        "longitude": [14.001456, nan, nan, 14.001456, 14.002456, 16, 16.001],
        "altitude": [1020.2, nan, nan, 1020.2, 999.1, 999.1, 999.1],
        "gps_accuracy": [10, nan, nan, 10, 10, 10, 10],
        "speed": [54, 54, nan, 18, 54, 54, 54],
        "heart_rate": [nan, 66, 68, 69, nan, nan, nan],
        "cadence": [nan, 3, 3, 3, nan, nan, nan],
        "power": [nan, 50, 50, 50, nan, nan, nan],
    }
    for name, values in expected.items():
        assert np.array_equal(a.channels[name], np.array(values), equal_nan=True), name
    # Same position for samples 0..3, and every later step crosses a pause: no distance.
    assert a.channels["distance"].tolist() == [0.0] * 7


def test_fit_record_table_sniffed_by_timestamp_without_fit_only_columns() -> None:
    data = (b"timestamp,heart_rate,distance\n"
            b"Sun Jun 11 07:34:09 PDT 2017,61,0.0\n"
            b"Sun Jun 11 07:34:10 PDT 2017,62,0.5\n")
    (a,) = formats.decode(data, filename="anything.gpx")
    assert a.start == datetime(2017, 6, 11, 14, 34, 9, tzinfo=UTC)  # PDT = UTC-7
    assert a.channels["heart_rate"].tolist() == [61, 62]


@pytest.mark.parametrize("header, row, twice", [
    # SweatStack's layout: names in any case are one name
    ("timestamp,power,Power", "2024-01-01T00:00:0{s}+00:00,100,200", "Power"),
    ("timestamp,heart_rate,heart_rate", "Sun Jun 11 07:34:0{s} PDT 2017,61,62", "heart_rate"),  # a FIT record table
    # OpenTracks (found by fuzzing: each speed cell was read into one channel, two values a sample:
    # an IndexError leaked as "cannot read this csv file")
    ("#time,trackpoint_type,latitude,longitude,speed,speed",
     '"2020-02-02T03:02:0{s}+01:00","TRACKPOINT",52.1,4.1,3.0,3.1', "speed"),
])
def test_a_header_naming_a_column_twice_is_refused_naming_it(header: str, row: str, twice: str) -> None:
    data = "\n".join([header, row.format(s=0), row.format(s=1)]).encode()
    with pytest.raises(FormatError) as exc:
        formats.decode(data, filename="t.csv", sport="running")
    assert exc.value.location == "line 1" and exc.value.field == twice, str(exc.value)
    assert f"names the column {twice!r} twice" in str(exc.value)


def test_fit_record_table_ambiguous_zone_refused() -> None:
    data = (b"timestamp,heart_rate,position_lat,position_long\n"
            b"Sun Jun 11 07:34:09 CST 2017,61,456099128,-1463077077\n"
            b"Sun Jun 11 07:34:10 CST 2017,62,456099128,-1463077077\n")
    with pytest.raises(FormatError) as exc:
        formats.decode(data, filename="t.csv")
    assert "CST" in str(exc.value) and exc.value.location == "line 2" and exc.value.field == "timestamp"


def test_vendor_refusal_names_every_layout() -> None:
    data = b"Minutes,Torq (N-m),Km/h,Watts,Km,Cadence,Hrate,ID\n0.021,0,20.051,0,0.03144,0,99,0\n"
    with pytest.raises(FormatError) as exc:
        formats.decode(data, filename="p.csv")
    text = str(exc.value)
    assert "SweatStack" in text and "FIT record table" in text and "OpenTracks" in text and "Wahoo" in text


@pytest.mark.parametrize("head, what", [
    ("ZEIT,STRECKE,POWER,RPM,SPEED,PULS,HÖHE,TEMP,INTERVAL,PAUSE\nL_SEC,KM,WATT,RPM,KM/H,BPM,METER,°C,NUM,SEC\n",
     "an ergomo export"),
    ('Version,Date/Time,Km,Minutes,RPE,Tags,"Weight, kg"\n6,2013-02-05 14:06:43,0,0,0,,55.8\nTemp °C\n',
     "a CycleOps Joule export"),
])
def test_a_vendor_layout_written_in_latin_1_is_named(head: str, what: str) -> None:
    """ergomo and the Joule write Latin-1 (HÖHE, °C: SOURCES.md): the refusal names the layout by
    its first line, as for a UTF-8 one, not only the text's encoding."""
    with pytest.raises(FormatError) as exc:
        formats.decode(head.encode("latin-1"), filename="ride.csv", sport="cycling")
    assert what in exc.value.message and "runhub reads CSV in these layouts" in exc.value.message
    assert exc.value.location == "line 1"


def test_latin_1_text_of_no_known_layout_says_where_it_is_not_utf_8() -> None:
    data = "timestamp,heart_rate,note°\n2024-05-01T07:00:00+02:00,120,x\n".encode("latin-1")
    with pytest.raises(FormatError) as exc:
        formats.decode(data, filename="run.csv", sport="running")
    # "timestamp," 10 bytes + "heart_rate," 11 + "note" 4: the Latin-1 degree sign is byte 25
    assert "not UTF-8 text (byte 25)" in exc.value.message and exc.value.location == "byte 25"


# ---------------------------------------------------------------------------- Wahoo Fitness app

WAHOO_WALK = "wahoo_2014-06-01-1932_Walking_WF.csv"
# The app's sample columns (version 4.2.1's header, as in the corpus walk)
WAHOO_HEADER = ("time,pwr_accdist,pwr_cadence,pwr_speed,pwr_torque,pwr_instpwr,pwr_rightPedal,pwr_leftPedal,"
                "spd_accdist,spd_instspeed,cad_cadence,hr_heartrate,disp_atmospressure,disp_altitude,"
                "disp_temperature,gps_altitude,gps_lat,gps_lon,gps_dist,gps_speed,fp_accsteps,fp_accdist,fp_speed,"
                "ma_cadence,ma_smoothness,ma_gct,ma_vertosc,ma_jerkx,ma_jerky,ma_jerkz,interval,paused").split(",")


def _wahoo(start: str, present: set[str], rows: list[dict[str, float]]) -> bytes:
    """A Wahoo Fitness app CSV laid out as the app writes it: every column not given is 0."""
    sensors = "\n".join(f"{s},{'yes' if s in present else 'no'},no,no,n/a"
                        for s in ("pwr", "spd", "cad", "hr", "footpod", "gps"))
    samples = "\n".join(",".join(f"{row.get(c, 0):f}" if c not in ("time", "interval", "paused")
                                 else str(int(row.get(c, 1 if c == "interval" else 0))) for c in WAHOO_HEADER)
                        for row in rows)
    return (f"Device,fisica,model,key,version,1,AppVersion,4.2.1\n{start},BatteryUsage (%),9.999999\n\ncomments\n"
            f"File created by Wahoo Fitness iPhone App.\n\nsensor,present,smrec,zeroavg,model\n{sensors}\n"
            "workout,starttime,runningtime,pausedtime,gpsdist\n,0,5.0,2.0,30.0\n\n"
            "interval,starttime,runningtime,pausedtime\n1,0.0,5.0,2.0\n\n"
            f"{','.join(WAHOO_HEADER)}\n{samples}\n").encode()


AMSTERDAM = {"gps_lat": 52.3731, "gps_lon": 4.8922}  # Europe/Amsterdam: UTC+1, +2 in summer time


def test_wahoo_walk_against_the_apps_own_totals(corpus) -> None:
    path = CORPUS / "csv" / WAHOO_WALK
    (a,) = formats.decode(path.read_bytes(), filename=path.name, sport="walking")
    a.validate()
    # Line 2 "Year,2014,Month,6,Day,1,Hour,19,Minute,32,Second,14" is the phone's clock; the first
    # fix (35.593326, -97.610199) is in Oklahoma, America/Chicago, on CDT (UTC-5) that day. The
    # first sample is the row of time 1, a second after the start.
    assert a.timezone == "America/Chicago" and a.utc_offset == -5 * 3600
    assert a.start == datetime(2014, 6, 2, 0, 32, 15, tzinfo=UTC)
    assert a.n_samples == 2924 and a.channels["time"][-1] == 2923.0
    # sensors present: hr and gps only (the file's sensor table); the other columns are zeros
    assert set(a.channels) == {"time", "heart_rate", "latitude", "longitude", "altitude", "distance", "speed"}
    first = {"heart_rate": 99.0, "latitude": 35.593326, "longitude": -97.610199, "altitude": 336.49655,
             "distance": 4.158735, "speed": 1.104958}  # the first sample row, read by hand
    assert {k: float(a.channels[k][0]) for k in first} == first
    assert a.pauses == [] and a.laps == []  # no paused rows, one interval
    assert a.device_summary["gpsdist"] == 4134.84375 and a.device_summary["hravg"] == 121.0
    prepare(a)
    # against the app's own totals: runningtime 2924.810590 s, gpsdist 4134.84375 m, hravg 121
    assert abs(a.summary.distance - 4134.84375) <= 0.005 * 4134.84375
    assert abs(a.summary.timer_time - 2924.81059) <= 2.0
    assert abs(a.summary.heart_rate_average - 121) <= 1.0


def test_wahoo_without_a_position_is_refused_naming_why(corpus) -> None:
    path = CORPUS / "csv" / "wahoo_2015-02-05-1619_Workout_WF.csv"  # an indoor workout: gps "no"
    with pytest.raises(FormatError) as exc:
        formats.decode(path.read_bytes(), filename=path.name)
    assert "no GPS position" in str(exc.value) and exc.value.location == "line 2"


def test_wahoo_pauses_intervals_power_and_the_app_5_5_start_line() -> None:
    rows = [{"time": k, **AMSTERDAM, "gps_dist": 5.0 * k, "gps_speed": 5.0, "hr_heartrate": 140 + k,
             "pwr_instpwr": 200 + k, "cad_cadence": 90, "spd_instspeed": 5.5, "paused": int(k in (3, 4)),
             "interval": 1 if k <= 5 else 2} for k in range(1, 9)]
    for row in rows:
        row["ma_cadence"] = 170.0  # a column of a sensor the app does not mark present
    data = _wahoo("Year,2015,Month,2,Day5,Hou16,Minu19,Sec2", {"hr", "gps", "pwr", "cad", "spd"}, rows)
    (a,) = formats.decode(data, filename="w.csv")
    a.validate()
    # 16:19:02 in Amsterdam in February is CET, UTC+1; the first row is a second later
    assert a.timezone == "Europe/Amsterdam" and a.utc_offset == 3600
    assert a.start == datetime(2015, 2, 5, 15, 19, 3, tzinfo=UTC)
    assert a.channels["time"].tolist() == list(range(8))
    assert a.channels["power"].tolist() == [201, 202, 203, 204, 205, 206, 207, 208]
    assert a.channels["cadence"].tolist() == [90] * 8 and a.channels["heart_rate"][0] == 141
    # rows of time 3 and 4 were written while paused: the seconds ending at them are paused
    assert a.pauses == [2, 3]
    # interval 1 ends at the row of time 5 (4 s after the first), interval 2 with the workout
    assert [(lap.end_time, lap.end_index, lap.trigger) for lap in a.laps] == [(4.0, 4, "manual"),
                                                                             (7.0, 7, "session_end")]
    # the speed sensor is present, but its unit is not stated anywhere; the motion sensor is not
    # present: both named, not read
    assert a.extras["columns_not_read"] == ["ma_cadence", "spd_instspeed"]


@pytest.mark.parametrize(("start", "why"), [
    ("Year,2014,Month,10,Day,26,Hour,2,Minute,30,Second,0", "pass 02:30:00 twice"),  # CEST -> CET at 03:00
    ("Year,2014,Month,3,Day,30,Hour,2,Minute,30,Second,0", "skip 02:30:00"),  # CET -> CEST at 02:00
])
def test_wahoo_start_a_daylight_saving_change_repeats_or_skips_is_refused(start: str, why: str) -> None:
    rows = [{"time": k, **AMSTERDAM, "hr_heartrate": 120} for k in (1, 2, 3)]
    with pytest.raises(FormatError) as exc:
        formats.decode(_wahoo(start, {"hr", "gps"}, rows), filename="w.csv")
    assert "Europe/Amsterdam" in str(exc.value) and why in str(exc.value) and exc.value.location == "line 2"


def test_wahoo_no_fix_rows_have_no_position_altitude_or_speed() -> None:
    rows = [{"time": 1, "gps_altitude": 0, "gps_speed": 0, "hr_heartrate": 100},
            *({"time": k, **AMSTERDAM, "gps_altitude": 3.5, "gps_speed": 1.5, "gps_dist": k, "hr_heartrate": 100}
              for k in (2, 3))]
    (a,) = formats.decode(_wahoo("Year,2014,Month,6,Day,1,Hour,19,Minute,32,Second,14", {"hr", "gps"}, rows),
                          filename="w.csv")
    assert a.utc_offset == 2 * 3600 and a.start == datetime(2014, 6, 1, 17, 32, 15, tzinfo=UTC)  # CEST
    for name in ("latitude", "longitude", "altitude", "speed"):
        assert np.isnan(a.channels[name][0]) and a.channels[name][1] > 0, name


@pytest.mark.parametrize(("edit", "location", "field"), [
    (lambda t: t.replace("Year,2014,Month,6,Day,1", "Year,2014,Month,13,Day,1"), "line 2", None),
    (lambda t: t.replace("\n2,", "\n2,0,", 1), "line 22", None),  # the 2nd sample row
    (lambda t: t.replace("\n3,0.000000", "\n3,abc", 1), "line 23", "pwr_accdist"),
])
def test_wahoo_bad_rows_are_refused_naming_the_line(edit, location: str, field: str | None) -> None:
    rows = [{"time": k, **AMSTERDAM, "hr_heartrate": 120} for k in (1, 2, 3)]
    text = _wahoo("Year,2014,Month,6,Day,1,Hour,19,Minute,32,Second,14", {"hr", "gps"}, rows).decode()
    with pytest.raises(FormatError) as exc:
        formats.decode(edit(text).encode(), filename="w.csv")
    assert exc.value.location == location and exc.value.field == field, str(exc.value)


@pytest.mark.parametrize("header, row", [
    ("timestamp,heart_rate", "2024-01-01T00:00:0{s}+00:00,12{s}"),  # SweatStack's layout
    ("#time,trackpoint_type,latitude,longitude,speed", '"2020-02-02T03:02:0{s}+01:00","TRACKPOINT",52.1,4.1,3.{s}'),
], ids=["sweatstack", "opentracks"])
def test_a_bare_carriage_return_in_a_field_is_refused_naming_its_line(header: str, row: str) -> None:
    """Found by fuzzing: Python's csv reader refuses a bare CR inside an unquoted field with words of
    its own ("do you need to open the file in universal-newline mode?") and no line; the refusal had
    neither line nor plain words. Here line 3 holds it (header, a row, the broken row)."""
    broken = row.format(s=1)
    data = "\n".join([header, row.format(s=0), broken[:-1] + "\r" + broken[-1:], row.format(s=2)]).encode()
    with pytest.raises(FormatError) as exc:
        formats.decode(data, filename="t.csv", sport="running")
    assert exc.value.location == "line 3", str(exc.value)
    assert "a carriage return inside a field that is not quoted" in str(exc.value)
    assert "universal-newline" not in str(exc.value)
