"""A pool swim's lengths (FIT `length` messages: when each began and was logged, its times,
strokes, stroke type, whether swum or rested, cadence, speed, calories) are read as the watch
wrote them, kept beside the samples, and written back by the FIT export (with the pool length),
the JSON export and the Parquet metadata. The readings to expect come from fitdecode and the
Garmin SDK reading the files, and the watches' own session summaries."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import fitdecode
import numpy as np
import pyarrow.parquet as pq
import pytest
from garmin_fit_sdk import Decoder, Profile, Stream

from runhub import formats
from runhub.activity import Activity, ActivityError
from runhub.ingest import ingest_bytes
from runhub.store import activities as repo

from .conftest import CORPUS

SWIMS = ["elevate_pool-swim.fit", "gc_GarminHRMswim.FIT", "tormoder_activity_poolswim_with_hr.fit",
         "gc_lap_swim_test_FR920xt.FIT", "gc_2024-10-14-070422-Pool_Swim-BingiWatch.fit"]
STROKE_CODES = {name: code for code, name in Profile["types"]["swim_stroke"].items()}


def _fitdecode(data: bytes) -> tuple[list[dict], dict]:
    """(the length messages, the session message) as fitdecode reads them."""
    lengths, session = [], {}
    with fitdecode.FitReader(data, check_crc=fitdecode.CrcCheck.DISABLED) as reader:
        for frame in reader:
            if isinstance(frame, fitdecode.FitDataMessage) and frame.name in ("length", "session"):
                msg = {f.name: f.value for f in frame.fields}
                if frame.name == "length":
                    lengths.append(msg)
                else:
                    session = msg
    return lengths, session


def _same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert a.keys() == b.keys()
    for k in a:
        assert a[k].view(np.uint64).tolist() == b[k].view(np.uint64).tolist(), k


@pytest.mark.parametrize("name", SWIMS)
@pytest.mark.parametrize("engine", ["auto", "fitdecode"])
def test_every_length_is_read_as_the_watch_wrote_it(corpus, name, engine):
    data = (CORPUS / "fit" / name).read_bytes()
    (a,) = formats.fit.decode(data, engine=engine)
    truth, session = _fitdecode(data)
    got = a.pool_lengths
    assert len(got["start"]) == len(truth)
    t0 = a.start.timestamp()
    for k, msg in enumerate(truth):
        assert got["start"][k] == msg["start_time"].timestamp() - t0
        assert got["end"][k] == msg["timestamp"].timestamp() - t0
        assert got["elapsed"][k] == msg["total_elapsed_time"]
        assert got["active"][k] == (msg["length_type"] == "active")
        if msg.get("total_strokes") is None:
            assert np.isnan(got["strokes"][k])
        else:
            assert got["strokes"][k] == msg["total_strokes"]
            assert got["stroke"][k] == STROKE_CODES[msg["swim_stroke"]]
    # the watch's own count of the lengths swum
    assert int((got["active"] == 1).sum()) == session["num_active_lengths"]


@pytest.mark.parametrize("name", SWIMS)
def test_the_fit_export_writes_the_lengths_and_the_pool(corpus, name):
    data = (CORPUS / "fit" / name).read_bytes()
    (a,) = formats.decode(data)
    out = formats.encode(a, "fit")
    msgs, errors = Decoder(Stream.from_byte_array(bytearray(out))).read()
    assert not errors
    truth, session = _fitdecode(data)
    written = msgs["length_mesgs"]
    assert [(m["start_time"], m["total_elapsed_time"], m.get("total_strokes"), m["length_type"]) for m in written] == [
        (t["start_time"], t["total_elapsed_time"], t.get("total_strokes"), t["length_type"]) for t in truth]
    (s,) = msgs["session_mesgs"]
    assert (s["pool_length"], s["num_active_lengths"]) == (session["pool_length"], session["num_active_lengths"])
    (back,) = formats.decode(out)
    _same(back.pool_lengths, a.pool_lengths)


def test_the_json_export_and_parquet_keep_them_bit_for_bit(corpus, tmp_path):
    data = (CORPUS / "fit" / "gc_2024-10-14-070422-Pool_Swim-BingiWatch.fit").read_bytes()
    (a,) = formats.decode(data)
    assert np.isnan(a.pool_lengths["strokes"][0])  # a rest: no strokes
    (back,) = formats.decode(formats.encode(a, "json"))
    _same(back.pool_lengths, a.pool_lengths)
    path = tmp_path / "swim.parquet"
    path.write_bytes(formats.encode(a, "parquet"))
    meta = json.loads(pq.read_schema(path).metadata[b"runhub"])["pool_lengths"]
    assert meta.keys() == a.pool_lengths.keys()
    for k, col in a.pool_lengths.items():
        assert meta[k] == [None if np.isnan(v) else v for v in col.tolist()]


def test_a_stored_swim_keeps_its_lengths(corpus, db, user):
    data = (CORPUS / "fit" / "elevate_pool-swim.fit").read_bytes()
    (a,) = formats.decode(data)
    (r,) = ingest_bytes(db, user[0], data, filename="swim.fit")
    with db.connect() as conn:
        _same(repo.load_activity(conn, r.activity_id).pool_lengths, a.pool_lengths)


def test_runs_have_no_lengths(corpus):
    (a,) = formats.decode((CORPUS / "fit" / "fitparse_garmin-edge-500-activity.fit").read_bytes())
    assert a.pool_lengths == {}
    msgs, _ = Decoder(Stream.from_byte_array(bytearray(formats.encode(a, "fit")))).read()
    assert "length_mesgs" not in msgs and "pool_length" not in msgs["session_mesgs"][0]


def _swim(**lengths: list[float]) -> Activity:
    return Activity(start=datetime(2020, 6, 1, tzinfo=UTC), sport="swimming", channels={"time": np.arange(3.0)},
                    pool_lengths={k: np.array(v, dtype=float) for k, v in lengths.items()})


@pytest.mark.parametrize(("lengths", "field", "index", "said"), [
    ({"start": [0.0, 30.0], "strokes": [12.0]}, "pool_lengths.strokes", None, "one number per length (2)"),
    ({"start": [0.0], "laps": [1.0]}, "pool_lengths.laps", None, "is none of start"),
    ({"strokes": [12.0]}, "pool_lengths", None, "needs its start"),
    ({"start": [0.0, float("nan")]}, "pool_lengths.start", 1, "nan is outside"),
    ({"start": [0.0, 30.0], "active": [1.0, 2.0]}, "pool_lengths.active", 1, "2.0 is outside 0.0..1.0"),
    ({"start": [0.0], "elapsed": [-1.0]}, "pool_lengths.elapsed", 0, "-1.0 is outside"),
])
def test_lengths_that_cannot_be_are_refused_naming_them(lengths, field, index, said):
    with pytest.raises(ActivityError) as info:
        _swim(**lengths).validate()
    assert (info.value.field, info.value.index) == (field, index)
    assert said in str(info.value)


def test_lengths_without_a_recording_are_refused():
    a = Activity(start=datetime(2020, 6, 1, tzinfo=UTC), pool_lengths={"start": np.zeros(1)})
    with pytest.raises(ActivityError, match="no samples"):
        a.validate()


def test_the_columns_and_codes_are_the_profiles():
    """One name per column for the reader, the writer and validation; the stroke and length type
    codes are the FIT profile's numbers."""
    from runhub.activity import LENGTH_BOUNDS
    from runhub.formats.fit import LENGTH_FIELDS, LENGTH_TYPES, SWIM_STROKES

    assert sorted(LENGTH_FIELDS.values()) == sorted(LENGTH_BOUNDS)
    assert dict(enumerate(SWIM_STROKES)) == Profile["types"]["swim_stroke"]
    assert dict(enumerate(LENGTH_TYPES)) == Profile["types"]["length_type"]
