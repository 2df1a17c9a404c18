"""FIT writer: decode(encode(a)) gives `a` back within FIT's own resolution, and every file we
write is accepted by two independent readers (fitdecode strict, CRC checked; the Garmin SDK's
check_integrity and decoder).
"""

from __future__ import annotations

import gzip
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from runhub import formats
from runhub.activity import Activity, Lap
from runhub.demo import make_run
from runhub.formats import FormatError, fit

from .conftest import CORPUS

# channel -> (largest allowed difference, why). The FIT profile fixes each field's scale; a value
# is rounded to the nearest step, so the difference is at most half a step (plus float noise).
RESOLUTION: dict[str, tuple[float, str]] = {
    "time": (0.0, "timestamp uint32, 1 s: whole-second samples come back exactly (sub-second: see its test)"),
    "latitude": (90 / 2**31 + 1e-12, "position_lat sint32 semicircles: 180/2^31 deg a step"),
    "longitude": (90 / 2**31 + 1e-12, "position_long sint32 semicircles: 180/2^31 deg a step"),
    "distance": (0.005 + 1e-9, "distance uint32 scale 100: 0.01 m"),
    "altitude": (0.1 + 1e-9, "enhanced_altitude uint32 scale 5 offset 500: 0.2 m"),
    "speed": (0.0005 + 1e-9, "enhanced_speed uint32 scale 1000: 0.001 m/s"),
    "heart_rate": (0.5, "heart_rate uint8: whole bpm"),
    "cadence": (1 / 256 + 1e-9, "cadence uint8 + fractional_cadence uint8 scale 128: 1/128 rpm"),
    "power": (0.5, "power uint16: whole W"),
    "temperature": (0.5, "temperature sint8: whole degC"),
    "gps_accuracy": (0.5, "gps_accuracy uint8: whole m"),
    "smo2": (0.05 + 1e-9, "saturated_hemoglobin_percent uint16 scale 10: 0.1 %"),
    "core_temperature": (0.005 + 1e-9, "core_temperature uint16 scale 100: 0.01 degC"),
    "respiration_rate": (0.005 + 1e-9, "enhanced_respiration_rate uint16 scale 100: 0.01 /min"),
    "form_power": (0.0, "developer field, float64: lossless"),
    "satellites": (0.0, "developer field, float64: lossless"),
}


NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate)  # each example encodes a whole run: shrinking is slow


def test_dates_before_fit_absolute_time_are_refused() -> None:
    a = make_run(1, datetime(1997, 1, 1, tzinfo=UTC), minutes=1)
    with pytest.raises(FormatError, match="1998-07-27"):
        fit.encode(a)


def _record_field_step(name: str) -> float | None:
    """Half a step of the FIT record field `name` (a channel kept under a record field's name)."""
    from garmin_fit_sdk import Profile

    for f in Profile["messages"][20]["fields"].values():
        if f["name"] == name:
            return 0.5 / f["scale"][0] + 1e-9
    return None


def _tolerance(name: str) -> float:
    if name in RESOLUTION:
        return RESOLUTION[name][0]
    step = _record_field_step(name)
    return step if step is not None else 0.0  # anything else is a float64 developer field


def _oracles(data: bytes, full: bool = True) -> None:
    """Independent readers accept the file: fitdecode strict (CRC checked), Garmin SDK."""
    import fitdecode
    from garmin_fit_sdk import Decoder, Stream

    with fitdecode.FitReader(data, check_crc=fitdecode.CrcCheck.ENABLED,
                             error_handling=fitdecode.ErrorHandling.RAISE) as reader:
        names = [f.name for f in reader if isinstance(f, fitdecode.FitDataMessage)]
    assert names[0] == "file_id" and "session" in names and "activity" in names
    assert Decoder(Stream.from_byte_array(bytearray(data))).check_integrity()
    if not full:  # the SDK's pure-Python reader is slow on hour-long files; integrity (CRCs, sizes) suffices
        return
    msgs, errors = Decoder(Stream.from_byte_array(bytearray(data))).read()
    assert errors == []
    assert msgs["file_id_mesgs"][0]["type"] == "activity"
    assert len(msgs["session_mesgs"]) == 1 and len(msgs["activity_mesgs"]) == 1


def _assert_same(a: Activity, b: Activity) -> None:
    assert b.start == a.start.replace(microsecond=0)
    assert b.sport == a.sport and b.utc_offset == a.utc_offset
    assert b.pauses == a.pauses
    # FIT has no timer field: the timer comes back from the stop/start events, which exist only
    # where there are pauses, and whose stops are whole seconds (half a second per pause at most)
    assert set(b.channels) - {"timer"} == set(a.channels) - {"timer"}
    if "timer" in a.channels and "timer" in b.channels:
        lost = float(np.nanmax(np.abs((a.channels["timer"] - a.channels["timer"][0])
                                      - (b.channels["timer"] - b.channels["timer"][0]))))
        assert lost <= 0.5 * len(a.pauses) + 1.0, f"timer differs by {lost} s"
    for name in (n for n in b.channels if n != "timer"):
        x, y = a.channels[name], b.channels[name]
        assert np.array_equal(np.isnan(x), np.isnan(y)), f"{name}: missing samples differ"
        if np.isfinite(x).any():
            diff = float(np.nanmax(np.abs(x - y)))
            assert diff <= _tolerance(name), f"{name}: off by {diff}, FIT resolution {_tolerance(name)}"
    if a.laps:
        assert len(b.laps) == len(a.laps)
        assert [lap.end_index for lap in b.laps] == [lap.end_index for lap in a.laps]
        assert [lap.lap_type for lap in b.laps] == [lap.lap_type for lap in a.laps]
        for la, lb in zip(a.laps, b.laps, strict=True):
            if la.end_time is not None:
                assert abs(lb.end_time - la.end_time) <= 0.5  # lap timestamp: whole seconds
            if la.end_distance is not None:
                assert abs(lb.end_distance - la.end_distance) <= 0.005 + 1e-9
            if la.end_timer is not None:
                assert abs(lb.end_timer - la.end_timer) <= 0.0005 + 1e-9  # total_timer_time: 1 ms
            assert lb.trigger == la.trigger or la.trigger is None or la.trigger not in _LAP_TRIGGERS
    else:  # FIT activity files carry at least one lap: the writer adds one for the whole activity
        assert len(b.laps) == 1 and b.laps[0].trigger == "session_end"


_LAP_TRIGGERS = {"manual", "time", "distance", "position_start", "position_lap", "position_waypoint",
                 "position_marked", "session_end", "fitness_equipment"}


def _full_run(seed: int = 3) -> Activity:
    a = make_run(seed, datetime(2024, 5, 1, 6, 30, 17, tzinfo=UTC), minutes=25)
    n = a.n_samples
    rng = np.random.default_rng(seed)
    # fractional where the field holds whole numbers: each comes back to the nearest (RESOLUTION),
    # not cut down (the Encoder takes int() of what it is given: 99.99 bpm was written as 99)
    a.channels["power"] = 250 + 30 * rng.standard_normal(n)
    a.channels["speed"] = np.abs(3.2 + 0.3 * rng.standard_normal(n))
    a.channels["temperature"] = 18 + rng.standard_normal(n)
    a.channels["gps_accuracy"] = 3 + rng.random(n) * 5
    a.channels["heart_rate"] = a.channels["heart_rate"] + rng.random(n)
    a.channels["smo2"] = 60 + 5 * rng.random(n)
    a.channels["core_temperature"] = 37.5 + rng.random(n)
    a.channels["respiration_rate"] = 30 + 5 * rng.random(n)
    a.channels["form_power"] = 60 + 10 * rng.random(n)
    a.channels["satellites"] = np.round(8 + 4 * rng.random(n))
    a.channels["Leg Spring Stiffness"] = 10 + rng.random(n)
    a.channels["vertical_oscillation"] = np.round(80 + 10 * rng.random(n), 1)
    a.channels["cadence"] = 85 + rng.random(n)  # fractional: fractional_cadence carries it
    a.channels["heart_rate"][10:20] = np.nan  # dropouts stay missing
    a.extras["channel_units"] = {"Leg Spring Stiffness": "kN/m"}
    a.device_type, a.device_name, a.app_version = "garmin", "garmin fenix5", "9.3"
    a.extras["fit_serial_number"] = 3987654321
    t = a.channels["time"]
    a.laps = [Lap(end_time=float(t[i]), end_index=i, end_timer=None, end_distance=None, lap_type=kind, trigger=trig)
              for i, kind, trig in ((299, "warmup", "manual"), (599, "work", "distance"), (899, "recovery", "time"),
                                    (1199, "work", "distance"), (n - 1, "cooldown", "session_end"))]
    return a


def test_full_run_round_trips() -> None:
    a = _full_run()
    data = fit.encode(a)
    _oracles(data)
    [b] = fit.decode(data)
    assert b.extras["fit_decoder"] == "fitfast"  # our files take the fast path
    _assert_same(a, b)
    assert b.device_type == "garmin" and b.device_name == "garmin fenix5" and b.app_version == "9.3"
    assert b.extras["fit_serial_number"] == 3987654321
    assert b.extras["channel_units"]["Leg Spring Stiffness"] == "kN/m"
    assert [lap.lap_type for lap in b.laps] == ["warmup", "work", "recovery", "work", "cooldown"]
    # the session carries the local time: activity.local_timestamp - timestamp = the offset
    assert b.local_start.utcoffset() == timedelta(seconds=3600)


def test_general_laps_beside_recovery_laps_read_as_work() -> None:
    """A known loss: FIT has no "general" intensity. runhub writes general as `active` and work as
    `interval`; a reader (ours included) takes `active` laps in a session with rest/recovery laps and
    no `interval` lap as the work part, the way Garmin workouts write intervals."""
    a = make_run(5, datetime(2023, 1, 2, 8, 0, tzinfo=UTC), minutes=10)
    t = a.channels["time"]
    a.laps = [Lap(end_time=float(t[199]), end_index=199, lap_type="general"),
              Lap(end_time=float(t[399]), end_index=399, lap_type="recovery"),
              Lap(end_time=float(t[-1]), end_index=a.n_samples - 1, lap_type="general")]
    [b] = fit.decode(fit.encode(a))
    assert [lap.lap_type for lap in b.laps] == ["work", "recovery", "work"]
    a.laps[2].lap_type = "work"  # with one work lap marked `interval`, `active` laps stay general
    [b] = fit.decode(fit.encode(a))
    assert [lap.lap_type for lap in b.laps] == ["general", "recovery", "work"]


def test_sub_second_sampling_keeps_the_first_sample_of_each_second() -> None:
    # FIT record timestamps are whole seconds: 4 Hz samples come back as 1 Hz, the first of each second
    t = np.arange(0, 60, 0.25)
    a = Activity(start=datetime(2024, 2, 3, 10, 0, 0, 400000, tzinfo=UTC), sport="cycling",
                 channels={"time": t, "power": np.arange(len(t), dtype=np.float64)})
    [b] = fit.decode(fit.encode(a))
    assert b.start == datetime(2024, 2, 3, 10, 0, 0, tzinfo=UTC)  # start truncated to its second
    # round-half-even: 0, 0.25 -> 0; 0.5 -> 0 (kept: 0.0); 0.75 -> 1 (first sample of second 1) ...
    # 59.75 -> 60: 61 whole seconds, 0..60
    assert b.channels["time"].tolist() == list(range(61))
    kept = [int(np.flatnonzero(np.round(t) == s)[0]) for s in range(61)]
    assert b.channels["power"].tolist() == [float(k) for k in kept]


def test_a_timer_that_started_after_the_session_starts_there_again() -> None:
    """A watch whose first record comes 98 s into the session with its timer at 1 s (a pool swim
    in the corpus): the timer start event goes 97 s in, not at the session start, so the timer
    read back is the recorded one, 1 s at the first record and 1 + 99 = 100 s at the last."""
    t = np.arange(98.0, 198.0)
    a = Activity(start=datetime(2024, 10, 14, 5, 4, 22, tzinfo=UTC), sport="swimming.pool",
                 channels={"time": t, "timer": t - 97.0, "heart_rate": np.full(len(t), 120.0)})
    [b] = fit.decode(fit.encode(a))
    assert b.channels["time"][0] == 98.0
    assert b.channels["timer"][0] == 1.0 and b.channels["timer"][-1] == 100.0


def test_unrepresentable_values_are_written_as_missing() -> None:
    t = np.arange(5.0)
    a = Activity(start=datetime(2024, 2, 3, 10, 0, tzinfo=UTC),
                 channels={"time": t, "heart_rate": np.array([120, 254, 255, 258, 130.0])})
    [b] = fit.decode(fit.encode(a))
    np.testing.assert_array_equal(b.channels["heart_rate"], [120, 254, np.nan, np.nan, 130])


def test_registered_for_export() -> None:
    a = make_run(2, datetime(2022, 7, 1, 5, 0, tzinfo=UTC), minutes=5)
    assert "fit" in formats.ENCODERS
    data = formats.encode(a, "fit")
    assert formats.sniff(data) == "fit"
    [b] = formats.decode(data)
    _assert_same(a, b)


def test_summary_only_activity() -> None:
    from runhub.activity import Summary

    a = Activity(start=datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC), sport="swimming.pool",
                 summary=Summary(distance=1500.0, elapsed_time=1900.0, timer_time=1800.0))
    data = fit.encode(a)
    _oracles(data)
    [b] = fit.decode(data)
    assert not b.has_streams and b.sport == "swimming.pool"
    assert b.summary.distance == 1500.0 and b.summary.timer_time == 1800.0 and b.summary.elapsed_time == 1900.0


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow], phases=NO_SHRINK)
@given(
    seed=st.integers(0, 10_000),
    minutes=st.floats(1.0, 8.0),
    pause_at=st.one_of(st.none(), st.floats(0.1, 0.9)),
    pause_seconds=st.integers(2, 3600),
    offset_quarters=st.integers(-48, 56),
    # FIT dates: 1998-07-27 onwards, to 2026-01-01 (every reader refuses a start after tomorrow)
    start_s=st.integers(0x10000000, 0x10000000 + 867_724_544),
)
def test_synthetic_runs_round_trip(seed: int, minutes: float, pause_at: float | None, pause_seconds: int,
                                   offset_quarters: int, start_s: int) -> None:
    start = datetime(1989, 12, 31, tzinfo=UTC) + timedelta(seconds=start_s)
    a = make_run(seed, start, minutes=minutes, pause_at=pause_at, pause_seconds=pause_seconds,
                 utc_offset=offset_quarters * 900)
    data = fit.encode(a)
    _oracles(data)
    [b] = fit.decode(data)
    _assert_same(a, b)


def _corpus_fits() -> list[str]:
    d = CORPUS / "fit"
    return sorted(p.name for p in d.iterdir()) if d.is_dir() else ["(no corpus)"]


@pytest.mark.parametrize("name", _corpus_fits())
def test_corpus_file_round_trips(name: str, corpus: Path) -> None:
    """Every real file runhub reads: decode -> encode -> decode gives the same activities."""
    data = (corpus / "fit" / name).read_bytes()
    if name.endswith(".gz"):
        data = gzip.decompress(data)
    try:
        acts = fit.decode(data, filename=name)
    except FormatError:
        pytest.skip("a broken file runhub refuses: nothing to write back")
    for a in acts:
        out = fit.encode(a)
        _oracles(out, full=a.n_samples < 3000)
        [b] = fit.decode(out)
        assert b.extras["fit_decoder"] == "fitfast"
        _assert_same(a, b)
        if a.device_type:
            assert b.device_name == a.device_name or (a.device_name or "").startswith(b.device_type)
        if not a.has_streams:  # a session without records keeps its declared totals
            for fld in ("distance", "timer_time", "elapsed_time"):
                x, y = getattr(a.summary, fld), getattr(b.summary, fld)
                assert (x is None and y in (None, 0.0)) or math.isclose(x, y, abs_tol=0.01)


@pytest.mark.parametrize(("title", "back"), [
    ("Tempo by the river 🏃 (10 × 400 m)", "Tempo by the river 🏃 (10 × 400 m)"),
    # 127 two-byte characters fill 254 bytes, the most a FIT string field holds: the 128th is cut
    ("é" * 128, "é" * 127),
    # a four-byte character that would straddle byte 254 is left out whole, not split
    ("a" * 252 + "🏃", "a" * 252),
])
def test_the_title_rides_in_a_developer_field_of_the_session(title, back):
    """FIT has no title of its own: runhub writes it as a developer string field of the session
    (runhub_title), which the Garmin SDK reads as such, and reads it back from runhub's files."""
    from garmin_fit_sdk import Decoder, Stream

    a = _full_run()
    a.name = title
    data = fit.encode(a)
    msgs, errors = Decoder(Stream.from_byte_array(bytearray(data))).read()
    assert not errors
    names = {d["field_definition_number"]: d["field_name"] for d in msgs["field_description_mesgs"]}
    (session,) = msgs["session_mesgs"]
    assert {names[k]: v for k, v in session["developer_fields"].items()}["runhub_title"] == back
    for engine in ("auto", "fitdecode"):
        (b,) = fit.decode(data, engine=engine)
        assert b.name == back and "runhub_title" not in b.device_summary


def test_a_title_field_in_another_apps_file_is_not_believed():
    """Only a file runhub wrote (its developer data id) names the run by that field: another app's
    developer field of the same name is its own affair."""
    from garmin_fit_sdk import Encoder, Profile

    mesg = {v: k for k, v in Profile["types"]["mesg_num"].items()}
    t0 = int(datetime(2020, 6, 1, 10, tzinfo=UTC).timestamp()) - 631065600
    dev_id = {"mesg_num": mesg["developer_data_id"], "developer_data_index": 0, "application_version": 1,
              "application_id": list(range(16))}
    desc = {"mesg_num": mesg["field_description"], "developer_data_index": 0, "field_definition_number": 0,
            "fit_base_type_id": 7, "field_name": "runhub_title", "native_mesg_num": mesg["session"]}
    enc = Encoder()
    enc.add_developer_field(0, dev_id, desc)
    enc.write_mesg({"mesg_num": mesg["file_id"], "type": "activity", "manufacturer": "development",
                    "time_created": t0})
    enc.write_mesg(dev_id)
    enc.write_mesg(desc)
    enc.write_mesg({"mesg_num": mesg["record"], "timestamp": t0, "heart_rate": 120})
    enc.write_mesg({"mesg_num": mesg["session"], "start_time": t0, "timestamp": t0 + 1, "sport": "running",
                    "total_elapsed_time": 1.0, "developer_fields": {0: "Not runhub's"}})
    (a,) = fit.decode(bytes(enc.close()))
    assert a.name is None and a.device_summary["runhub_title"] == "Not runhub's"


def test_a_chain_of_files_out_of_date_order_gives_each_run_its_own_records() -> None:
    # found by fuzzing (the corpus's Garmin 830 ride chained before its fenix 5 run): each session
    # took the records from its start to the next session's, as in a multisport file, whose
    # sessions are in time order; a chain's need not be, and the later run got the earlier one's
    # records. Each run of the chain must come back as its own file alone gives it.
    later = make_run(1, datetime(2024, 5, 1, 6, tzinfo=UTC), minutes=10)
    earlier = make_run(2, datetime(2023, 1, 1, 6, tzinfo=UTC), minutes=12)
    alone = [fit.decode(fit.encode(a))[0] for a in (earlier, later)]
    chained = fit.decode(fit.encode(later) + fit.encode(earlier))
    assert [b.start for b in chained] == [earlier.start, later.start]
    for got, want in zip(chained, alone, strict=True):
        assert got.n_samples == want.n_samples and len(got.laps) == len(want.laps)
        np.testing.assert_array_equal(got.channels["heart_rate"], want.channels["heart_rate"])
        np.testing.assert_array_equal(got.channels["time"], want.channels["time"])
