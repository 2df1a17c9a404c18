"""Heart-rate variability: the beat-to-beat (RR) intervals a chest strap records (FIT `hrv`
messages, up to five intervals each, no timestamp) are read as they are, kept beside the samples
and written back by the FIT export (within FIT's 1 ms), the JSON export and the Parquet metadata
(bit for bit). The readings to expect come from fitdecode and the Garmin SDK reading the files
themselves, and from values written in the tests."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

import fitdecode
import numpy as np
import pyarrow.parquet as pq
import pytest
from garmin_fit_sdk import Decoder, Encoder, Profile, Stream

from runhub import formats
from runhub.activity import RR_MAX, Activity, ActivityError

from .conftest import CORPUS, random_activities

# the corpus's files with hrv messages, and their beats as fitdecode counts them (none is None)
RR_FILES = {"elevate_bloemendaal.fit": 5416, "fitparse_garmin-fenix-5-run.fit": 113,
            "gc_Move_2020_01_15_19_27_16_Running.fit": 2335}
FIT_EPOCH = 631065600
MESG = {v: k for k, v in Profile["types"]["mesg_num"].items()}


def _fitdecode_rr(data: bytes) -> list[float]:
    """Every interval of every hrv message, in file order, as fitdecode reads them."""
    out: list[float] = []
    with fitdecode.FitReader(data, check_crc=fitdecode.CrcCheck.DISABLED) as reader:
        for frame in reader:
            if isinstance(frame, fitdecode.FitDataMessage) and frame.name == "hrv":
                v = frame.get_value("time")
                out.extend(x for x in (v if isinstance(v, tuple) else (v,)) if x is not None)
    return out


def _sdk_rr(data: bytes) -> list[float]:
    """The same by the Garmin SDK's decoder (a message of one interval comes as a number)."""
    msgs, errors = Decoder(Stream.from_byte_array(bytearray(data))).read()
    assert not errors, errors
    out: list[float] = []
    for m in msgs.get("hrv_mesgs", []):
        v = m["time"]
        out.extend(x for x in (v if isinstance(v, list) else [v]) if x is not None)
    return out


@pytest.mark.parametrize("name", sorted(RR_FILES))
@pytest.mark.parametrize("engine", ["auto", "auto unsplit", "fitdecode"])
def test_the_files_rr_intervals_are_read_as_recorded(corpus, name, engine, monkeypatch):
    """auto: the message walk reads the hrv messages (fit_walk.walk); unsplit, as for a file whose
    kept messages have compressed timestamps, fitfast.parse reads them; fitdecode: the fallback."""
    data = (CORPUS / "fit" / name).read_bytes()
    if engine == "auto unsplit":
        scan = formats.fit._scan
        monkeypatch.setattr(formats.fit, "_scan", lambda d: dataclasses.replace(scan(d), others=None, rr_ms=None))
    (a,) = formats.fit.decode(data, engine=engine.split()[0])
    assert a.extras["fit_decoder"] == ("fitdecode" if engine == "fitdecode" else "fitfast")
    expected = _fitdecode_rr(data)
    assert len(expected) == RR_FILES[name]
    assert a.rr_intervals.tolist() == expected  # bit for bit: both are the file's ms / 1000


@pytest.mark.parametrize("name", sorted(RR_FILES))
def test_the_fit_export_writes_them_back_as_hrv_messages(corpus, name):
    data = (CORPUS / "fit" / name).read_bytes()
    (a,) = formats.decode(data)
    out = formats.encode(a, "fit")
    assert _sdk_rr(out) == _fitdecode_rr(data)  # the Garmin SDK reads what the device wrote
    (back,) = formats.decode(out)
    assert back.rr_intervals.tolist() == a.rr_intervals.tolist()


def test_files_without_hrv_messages_have_none(corpus):
    (a,) = formats.decode((CORPUS / "fit" / "fitparse_garmin-edge-500-activity.fit").read_bytes())
    assert a.rr_intervals is None
    assert not _sdk_rr(formats.encode(a, "fit"))


def _fit(sessions: list[tuple[int, int]], records: range, rr: list[list[float]]) -> bytes:
    """A FIT file written by the Garmin SDK: records at 2020-06-01T10:00:00Z + each second of
    `records`, one session per (start, end) second, then the hrv messages."""
    t0 = int(datetime(2020, 6, 1, 10, tzinfo=UTC).timestamp()) - FIT_EPOCH
    enc = Encoder()
    enc.write_mesg({"mesg_num": MESG["file_id"], "type": "activity", "manufacturer": "development",
                    "time_created": t0})
    for s in records:
        enc.write_mesg({"mesg_num": MESG["record"], "timestamp": t0 + s, "heart_rate": 120, "distance": 3.0 * s})
    for times in rr:
        enc.write_mesg({"mesg_num": MESG["hrv"], "time": times})
    for k, (s0, s1) in enumerate(sessions):
        enc.write_mesg({"mesg_num": MESG["session"], "message_index": k, "start_time": t0 + s0,
                        "timestamp": t0 + s1, "total_elapsed_time": float(s1 - s0), "total_timer_time": float(s1 - s0),
                        "sport": "running" if k == 0 else "cycling"})
    return bytes(enc.close())


def test_a_multisport_files_beats_go_to_the_session_they_fall_in():
    """Two sessions, at 0 s and at 10 s; 30 beats of 0.5 s from the first record: beat k ends at
    0.5 k s, so beats 1..19 (up to 9.5 s) are the first session's and 20..30 (10 s on, as a record
    at 10 s is the second's) the second's."""
    data = _fit([(0, 10), (10, 20)], range(20), [[0.5] * 5] * 6)
    first, second = formats.decode(data)
    assert first.rr_intervals.tolist() == [0.5] * 19
    assert second.rr_intervals.tolist() == [0.5] * 11


def test_unused_slots_and_zero_intervals_are_not_beats():
    """A message's unused slots are FIT's invalid value (0xFFFF: 65.535 s scaled by 1000), and 0 is
    no interval."""
    data = _fit([(0, 10)], range(11), [[0.8, 0.75, 65.535, 65.535, 65.535], [0.0, 0.7]])
    (a,) = formats.decode(data)
    assert a.rr_intervals.tolist() == [0.8, 0.75, 0.7]


def _with_rr(seed: int, draws: int) -> list[Activity]:
    """Activities drawn at random, each given 1 to 40 intervals anywhere in runhub's bounds (the
    shortest and longest FIT holds among them)."""
    rng = np.random.default_rng(seed)
    out = []
    for a in random_activities(seed, draws):
        rr = rng.uniform(0.2, 2.5, int(rng.integers(1, 41)))
        rr[rng.integers(0, len(rr))] = rng.choice([0.001, RR_MAX, 1 / 3])
        a.rr_intervals = rr
        out.append(a.validate())
    return out


def test_fit_keeps_them_to_the_millisecond():
    for a in _with_rr(20261201, 200):
        (back,) = formats.decode(formats.encode(a, "fit"))
        assert back.rr_intervals is not None and len(back.rr_intervals) == len(a.rr_intervals)
        assert np.abs(back.rr_intervals - a.rr_intervals).max() <= 0.0005 + 1e-12  # half of FIT's 1 ms


def test_json_keeps_them_bit_for_bit():
    seen = 0
    for a in _with_rr(20261202, 200):
        if "distance" not in a.channels:  # Smashrun JSON needs one (positions drawn at random make none)
            continue
        a.channels.pop("latitude", None)
        a.channels.pop("longitude", None)
        seen += 1
        (back,) = formats.decode(formats.encode(a, "json"))
        assert back.rr_intervals.view(np.uint64).tolist() == a.rr_intervals.view(np.uint64).tolist()
    assert seen > 50


def test_parquet_metadata_keeps_them_bit_for_bit(tmp_path):
    for k, a in enumerate(_with_rr(20261203, 30)):
        path = tmp_path / f"{k}.parquet"
        path.write_bytes(formats.encode(a, "parquet"))
        meta = json.loads(pq.read_schema(path).metadata[b"runhub"])
        assert meta["rr_intervals"] == a.rr_intervals.tolist()


@pytest.mark.parametrize(("rr", "index", "said"), [
    ([0.8, 0.0], 1, "0.0 s is not an interval between heartbeats"),
    ([-0.5], 0, "-0.5 s"),
    ([0.8, 0.9, float("nan")], 2, "nan s"),
    ([70.0], 0, "70.0 s"),
    ([0.8, 0.0004], 1, "(0.001..65.534 s)"),
])
def test_what_is_no_interval_is_refused_naming_it(rr, index, said):
    a = Activity(start=datetime(2020, 6, 1, tzinfo=UTC), channels={"time": np.arange(3.0)},
                 rr_intervals=np.array(rr))
    with pytest.raises(ActivityError) as info:
        a.validate()
    assert (info.value.field, info.value.index) == ("rr_intervals", index)
    assert said in str(info.value)


def test_intervals_without_a_recording_are_refused():
    a = Activity(start=datetime(2020, 6, 1, tzinfo=UTC), rr_intervals=np.array([0.8]))
    with pytest.raises(ActivityError, match="no samples"):
        a.validate()
