"""The Parquet export, read back by pyarrow (what SweatStack's clients read its Parquet with):
one row per sample, SweatStack's columns, every value the one stored.

Expected values are worked out here by hand (instants as datetime arithmetic on the start, laps
counted from their end indexes), not taken from the encoder."""

from __future__ import annotations

import copy
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import orjson
import pyarrow.parquet as pq
import pytest

from runhub import formats
from runhub.activity import Activity, Lap
from runhub.analysis.timebase import make_timer_explicit
from runhub.formats import FormatError, NotAnActivity

from .conftest import CORPUS, random_activities
from .test_corpus import decode_upload
from .test_export_readable import _good

START = datetime(2024, 5, 1, 6, 30, 0, 250000, tzinfo=UTC)
TIMES = [0.0, 0.5, 1.0, 1.5, 10.0, 10.25, 11.0]  # a pause between 1.5 and 10 s


def _run() -> Activity:
    n = len(TIMES)
    return Activity(
        start=START,
        sport="running",
        utc_offset=7200,
        timezone="Europe/Amsterdam",
        name="Tempo by the river",
        device_name="Forerunner 965",
        channels={
            "time": np.array(TIMES),
            "distance": np.array([0.0, 1.5, 3.0, 4.5, 4.5, 5.25, 8.0]),
            "heart_rate": np.array([np.nan, 120.0, 121.0, 122.0, 118.0, 119.0, 120.0]),
            "power": np.array([0.0, 1 / 3, 2 / 3, 301.5, np.nan, 250.0, 1e-300]),
            "latitude": np.linspace(52.35, 52.351, n),
            "longitude": np.linspace(4.86, 4.861, n),
        },
        pauses=[4],
        laps=[Lap(end_time=1.5, end_index=3, trigger="manual"), Lap(end_time=11.0, end_index=6, trigger="session_end")],
    )


def _read(data: bytes):  # noqa: ANN202
    return pq.read_table(io.BytesIO(data))


def _same(column: list, values: np.ndarray) -> bool:
    got = np.array([np.nan if v is None else v for v in column], dtype=float)
    return bool(np.array_equal(got, values, equal_nan=True)) and got.tobytes() == np.asarray(values, float).tobytes()


def test_every_sample_is_a_row_with_the_values_stored() -> None:
    a = _run()
    table = _read(formats.encode(a, "parquet"))
    assert table.num_rows == 7
    # SweatStack's columns first, then runhub's exact clock seconds, the metrics in SweatStack's
    # order (formats/csv.py METRICS: power, ..., heart_rate, ..., distance, latitude, longitude), the lap
    assert table.column_names == ["timestamp", "timestamp_local", "time", "power", "heart_rate", "distance",
                                  "latitude", "longitude", "lap"]
    rows = table.to_pydict()
    assert rows["timestamp"] == [START + timedelta(seconds=s) for s in TIMES]
    assert rows["timestamp"][5] == datetime(2024, 5, 1, 6, 30, 10, 500000, tzinfo=UTC)  # 0.25 s + 10.25 s
    # the wall clock in Amsterdam (CEST, UTC+2), naive as SweatStack's timestamp_local
    assert rows["timestamp_local"][0] == datetime(2024, 5, 1, 8, 30, 0, 250000)
    assert rows["timestamp_local"] == [datetime(2024, 5, 1, 8, 30, 0, 250000) + timedelta(seconds=s) for s in TIMES]
    assert rows["time"] == TIMES
    for name in ("power", "heart_rate", "distance", "latitude", "longitude"):
        assert _same(rows[name], a.channels[name]), name  # bit for bit, NaN where there is no reading
    assert np.isnan(rows["heart_rate"][0]) and rows["power"][1] == 1 / 3 and rows["power"][6] == 1e-300
    # the first lap ends with sample 3, the second with the last
    assert rows["lap"] == [1, 1, 1, 1, 2, 2, 2]


def test_units_and_the_activity_travel_in_the_metadata() -> None:
    schema = _read(formats.encode(_run(), "parquet")).schema
    assert schema.field("heart_rate").metadata == {b"unit": b"bpm"}
    assert schema.field("distance").metadata == {b"unit": b"m"}
    assert schema.field("time").metadata == {b"unit": b"s"}
    assert str(schema.field("timestamp").type) == "timestamp[us, tz=UTC]"
    meta = orjson.loads(schema.metadata[b"runhub"])
    assert meta["writer"] == formats.WRITER
    assert meta["sport"] == "running" and meta["utc_offset"] == 7200 and meta["timezone"] == "Europe/Amsterdam"
    assert meta["start"] == "2024-05-01T06:30:00.250000+00:00"
    assert meta["name"] == "Tempo by the river" and meta["device_name"] == "Forerunner 965"
    assert meta["pauses"] == [4]
    assert [(lap["end_index"], lap["end_time"], lap["trigger"]) for lap in meta["laps"]] == [
        (3, 1.5, "manual"), (6, 11.0, "session_end")]


def test_a_developer_field_is_a_column_of_its_own_with_its_declared_unit() -> None:
    """Channels CSV leaves out (FIT developer fields, Stryd's say) are columns under their declared
    names; one named as a column runhub writes ("lap") comes out as "lap_channel", not twice."""
    a = _run()
    stiffness = np.array([9.5, 9.6, np.nan, 9.7, 9.8, 9.9, 10.0])
    a.channels["Leg Spring Stiffness"] = stiffness
    a.channels["lap"] = np.full(7, 4.0)
    a.extras["channel_units"] = {"Leg Spring Stiffness": "KN/m", "lap": "count"}
    table = _read(formats.encode(a, "parquet"))
    assert table.column_names[-3:] == ["Leg Spring Stiffness", "lap_channel", "lap"]
    assert _same(table.column("Leg Spring Stiffness").to_pylist(), stiffness)
    assert table.schema.field("Leg Spring Stiffness").metadata == {b"unit": b"KN/m"}
    assert table.column("lap_channel").to_pylist() == [4.0] * 7 and table.column("lap").to_pylist()[-1] == 2


def test_samples_past_the_last_lap_are_lap_0_and_laps_without_a_sample_give_no_column() -> None:
    a = _run()
    a.laps = a.laps[:1]  # one lap, ending with sample 3
    assert _read(formats.encode(a, "parquet")).column("lap").to_pylist() == [1, 1, 1, 1, 0, 0, 0]
    a.laps = [Lap(end_distance=1000.0, basis="distance")]  # a manual entry's lap by distance: no index
    assert "lap" not in _read(formats.encode(a, "parquet")).column_names
    a.laps = []
    assert "lap" not in _read(formats.encode(a, "parquet")).column_names


def test_a_timer_that_ran_through_a_dropout_is_written_as_a_timer_column() -> None:
    """Rows cannot say where the timer stopped: a source whose timer events say it never did gets
    its timer written (make_timer_explicit), as the CSV export does."""
    a = _run()
    a.pauses = []
    a.extras["pause_source"] = "fit timer events"
    make_timer_explicit(a, "parquet")
    assert _read(formats.encode(a, "parquet")).column("timer").to_pylist() == TIMES  # it ran with the clock


def test_a_summary_only_activity_is_refused_saying_what_carries_it() -> None:
    a = Activity(start=START, sport="running")
    with pytest.raises(FormatError) as exc:
        formats.encode(a, "parquet")
    assert "one row per sample" in exc.value.message and "FIT" in exc.value.message
    assert exc.value.format == "parquet"


def test_a_parquet_file_brought_back_is_named_not_read() -> None:
    """runhub writes Parquet for analysis only: one uploaded is named, with the exports to use."""
    with pytest.raises(NotAnActivity) as exc:
        formats.sniff(formats.encode(_run(), "parquet"))
    assert "Parquet" in str(exc.value) and "FIT, TCX, GPX, CSV or JSON" in str(exc.value)


def test_activities_drawn_at_random_are_written_as_they_are() -> None:
    """600 drawn activities (a fixed seed: readings at the bounds, text with every special
    character, laps of every kind): each is written and reads back value for value, its lap
    numbers counted here from the laps' end indexes."""
    written = 0
    for a in random_activities(20261201, 600):
        table = _read(formats.encode(a, "parquet"))
        rows = table.to_pydict()
        for name, values in a.channels.items():
            assert _same(rows[name], values), name
        ends = [lap.end_index for lap in a.laps]
        want = [next((k + 1 for k, end in enumerate(ends) if i <= end), 0) for i in range(a.n_samples)]
        assert rows.get("lap", [None] * a.n_samples) == (want if ends else [None] * a.n_samples)
        meta = orjson.loads(table.schema.metadata[b"runhub"])
        assert meta["name"] == a.name and meta["notes"] == a.notes and meta["pauses"] == a.pauses
        written += 1
    assert written >= 300, written


@pytest.mark.parametrize("rel", _good() or ["(no corpus)"])
def test_every_corpus_activity_is_written_row_for_sample(rel: str, corpus: Path) -> None:
    for original in decode_upload((CORPUS / rel).read_bytes(), Path(rel).name):
        a = copy.deepcopy(original)
        make_timer_explicit(a, "parquet")  # what `runhub export` writes
        if a.n_samples == 0:
            with pytest.raises(FormatError):
                formats.encode(a, "parquet")
            continue
        rows = _read(formats.encode(a, "parquet")).to_pydict()
        assert len(rows["timestamp"]) == a.n_samples
        for name, values in a.channels.items():
            column = f"{name}_channel" if name in ("timestamp", "timestamp_local", "lap") else name
            assert _same(rows[column], values), (rel, name)
        assert rows["timestamp"][0] == a.start + timedelta(seconds=float(a.channels["time"][0]))
        if "lap" in rows:  # every sample up to the last lap's end is in a lap, in order
            laps = np.array(rows["lap"])
            inside = laps[laps > 0]
            assert (np.diff(inside) >= 0).all() and inside.max() <= len(a.laps), rel
