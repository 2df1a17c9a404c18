"""Vendor CSV layouts, each checked against an outside truth.

- FIT record tables: python-fitparse's CSVs hold the record messages of two corpus FIT files, so
  every channel is compared with fitdecode's decode of the FIT file (not runhub's FIT decoder).
- OpenTracks: its 12-line test export, with the expected values read by hand from the file.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pytest

from runhub import formats
from runhub.formats import FormatError

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
    assert "SweatStack" in text and "FIT record table" in text and "OpenTracks" in text
