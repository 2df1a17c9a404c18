"""The Smashrun activity JSON object both ways: seed rules, bad input, exact round trips."""

import json
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from runhub.activity import Activity, ActivityError, Lap, Summary, timer_seconds
from runhub.formats import FormatError, decode, encode, sniff
from runhub.formats import smashrun_json as sj

# an externalId is any text but a NUL (refused: a database column holds none; test_activities covers it)
# and a lone surrogate (no character: refused; tests/smashrun/test_activities.py covers it)
ID_CHARS = st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",))


def one(obj: dict) -> Activity:
    return decode(json.dumps(obj).encode())[0]


def base(**extra) -> dict:
    obj = {"startDateTimeLocal": "2014-07-01T09:28:56-10:00", "activityType": "running"}
    obj.update(extra)
    return obj


def rec(keys, *cols) -> dict:
    return {"recordingKeys": list(keys), "recordingValues": [list(c) for c in cols]}


def refused(obj) -> FormatError:
    raw = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
    with pytest.raises(FormatError) as info:
        decode(raw, "json")
    return info.value


# ------------------------------------------------------------ seed rules


def test_local_time_keeps_its_offset():
    a = one(base(startDateTimeLocal="2014-07-01T09:28:56.321-10:00", distance=5, duration=1500))
    assert a.start == datetime(2014, 7, 1, 19, 28, 56, 321000, tzinfo=UTC)
    assert a.utc_offset == -36000
    assert sj.to_object(a)["startDateTimeLocal"] == "2014-07-01T09:28:56.321-10:00"


def test_manual_entry_needs_distance_and_duration():
    assert refused(base(duration=100)).location == "distance"
    assert refused(base(distance=1.0)).location == "duration"
    a = one(base(distance=10.5, duration=3000))
    assert a.manual and a.summary.distance == 10500.0 and a.summary.timer_time == 3000


def test_only_running_is_accepted_as_activity_type():
    err = refused(base(activityType="skating", distance=1, duration=1))
    assert err.location == "activityType" and "running" in err.message


def test_pauses_are_inferred_from_clock_and_duration():
    # clock jumps by 31 s between samples 2 and 3 but duration by 1 s: one pause before index 3.
    a = one(
        base(
            **rec(
                ["clock", "duration", "distance"], [0, 1, 2, 33, 34], [0, 1, 2, 3, 4], [0, 0.003, 0.006, 0.009, 0.012]
            )
        )
    )
    assert a.pauses == [3]
    assert "timer" in a.channels


def test_lap_duration_wins_over_distance_and_interval_means_work():
    obj = base(**rec(["clock", "distance"], [0, 60, 120, 180], [0, 0.2, 0.4, 0.6]))
    obj["laps"] = [
        {"lapType": "recovery", "endTime": 60},
        {"lapType": "interval", "endDuration": 120, "endDistance": 999},
        {"lapType": "cooldown", "endDistance": 600},
    ]
    a = one(obj)
    assert [lap.lap_type for lap in a.laps] == ["recovery", "work", "cooldown"]
    assert [lap.basis for lap in a.laps] == ["time", "timer", "distance"]
    assert [lap.end_index for lap in a.laps] == [1, 2, 3]
    assert sj.to_object(a)["laps"][1] == {"lapType": "work", "endDuration": 120}


def test_distance_from_positions_when_no_distance_series():
    # geographiclib's WGS84 inverse: 1 degree of latitude at the equator is 110 574.39 m
    # (algorithms.md 13.2 validation, V21).
    a = one(base(**rec(["clock", "latitude", "longitude"], [0, 3600], [0, 1], [0, 0])))
    assert a.channels["distance"][-1] == pytest.approx(110574.39, abs=0.01)
    out = sj.to_object(a)
    assert "distance" not in out["recordingKeys"]  # derived, so not written back


def test_missing_samples_are_null_and_minus_one_is_a_real_reading():
    obj = base(
        **rec(
            ["clock", "distance", "temperature", "elevation", "latitude", "longitude"],
            [0, 1, 2],
            [0, 0.001, 0.002],
            [-1, None, 3],
            [-1, 5, None],
            [52.1, -1, 52.1],
            [4.1, -1, 4.1],
        )
    )
    a = one(obj)
    assert a.channels["temperature"][0] == -1.0 and np.isnan(a.channels["temperature"][1])
    assert a.channels["altitude"][0] == -1.0
    assert np.isnan(a.channels["latitude"][1]) and np.isnan(a.channels["longitude"][1])  # Smashrun's -1,-1
    out = json.loads(sj.encode(a))
    values = dict(zip(out["recordingKeys"], out["recordingValues"], strict=True))
    assert values["temperature"] == [-1, None, 3] and values["latitude"] == [52.1, None, 52.1]


def test_input_aliases():
    a = one(base(distance=1, duration=1, temperatureAverage=12, externalDeviceType="Apple", externalAppVersion="2.1"))
    assert (a.summary.temperature_average, a.device_type, a.app_version) == (12, "Apple", "2.1")


# ------------------------------------------------------------ bad input names field and index


@pytest.mark.parametrize(
    ("obj", "where", "field"),
    [
        (
            base(**rec(["clock", "distance", "heartRate"], [0, 1], [0, 0.1], [120, "fast"])),
            "recordingValues[2][1]",
            "heartRate",
        ),
        (base(**rec(["clock", "distance", "speed"], [0, 1], [0, 0.1], [1, 2])), "recordingKeys[2]", None),
        (base(**rec(["clock", "distance"], [0, 1, 2], [0, 0.1])), "recordingValues[1]", "distance"),
        (base(**rec(["clock", "distance"], [0, 2, 1], [0, 0.1, 0.2])), "recordingValues[clock][2]", "clock"),
        (base(**rec(["clock", "distance"], [-3, 2, 4], [0, 0.1, 0.2])), "recordingValues[clock][0]", "clock"),
        # found by fuzzing: steps of 1e-320 s were kept, and the CSV export (microseconds) read back refused
        (base(**rec(["clock", "distance"], [0, 1e-320, 1], [0, 0, 0.1])), "recordingValues[clock][1]", "clock"),
        (base(**rec(["clock", "distance"], [0, 1, 1.0000004], [0, 0, 0.1])), "recordingValues[clock][2]", "clock"),
        (
            base(**rec(["clock", "distance", "heartRate"], [0, 1, 2], [0, 0.1, 0.2], [100, 300, 120])),
            "recordingValues[heartRate][1]",
            "heartRate",
        ),
        (base(**rec(["clock", "distance"], [0, 1, 2], [0, 0.5, 0.2])), "recordingValues[distance][2]", "distance"),
        (
            base(**rec(["clock", "latitude", "longitude"], [0, 1], [95, 52], [4, 4])),
            "recordingValues[latitude][0]",
            "latitude",
        ),
        (base(distance=1, duration=1, notes="x" * 801), "notes", None),
        (base(distance="five", duration=1), "distance", None),
        (base(distance=1, duration=1, howFelt="meh"), "howFelt", None),
        (base(startDateTimeLocal="2014-07-01T09:28:56", distance=1, duration=1), "startDateTimeLocal", None),
        (base(startDateTimeLocal="3000-01-01T00:00:00Z", distance=1, duration=1), "startDateTimeLocal", None),
        (base(distance=1, duration=1, surprise=1), "surprise", None),
        (base(**rec(["clock", "distance", "gpsAccuracy", "satellites"], [0], [0], [3], [7])), "recordingKeys", None),
        (base(**rec(["clock", "distance"], [0, 1], [0, 0.1]), pauseIndexes=[5]), "pauseIndexes[0]", None),
        # found by fuzzing: laps by duration read the timer the pauses make (was: an IndexError)
        (base(**rec(["clock", "distance"], [0, 1, 2], [0, 0.1, 0.2]), pauseIndexes=[1, 3],
              laps=[{"lapType": "general", "endDuration": 1}]), "pauseIndexes[1]", None),
        (base(**rec(["clock", "latitude", "longitude"], [0, 1, 2], [52, 52.0001, 52.0002], [4, 4, 4]),
              pauseIndexes=[0]), "pauseIndexes[0]", None),
        (
            base(**rec(["clock", "distance"], [0, 1], [0, 0.1]), laps=[{"lapType": "sprint", "endTime": 1}]),
            "laps[0].lapType",
            None,
        ),
        (base(**rec(["distance"], [0, 0.1])), "recordingKeys", None),
    ],
)
def test_bad_input_is_refused_with_location(obj, where, field):
    err = refused(obj)
    assert err.location == where, str(err)
    if field:
        assert err.field == field
    assert err.format == "json"


def test_a_clock_of_whole_microseconds_reads_and_its_csv_export_keeps_every_sample():
    """The shortest step read (half a microsecond) keeps a clock of whole microseconds 50 days in,
    where float64 holds 4,320,000.000001 s to about 1e-9 s, and CSV, which writes microseconds,
    carries every sample back."""
    a = one(base(**rec(["clock", "distance"], [4_320_000, 4_320_000.000001, 4_320_000.000002, 4_320_001],
                       [0, 0, 0, 0.003])))
    (back,) = decode(encode(a, "csv"), "csv", sport="running")
    assert back.n_samples == a.n_samples == 4


def test_a_missing_duration_reading_is_placed_by_its_neighbours():
    # found by fuzzing: with pauses given, a duration series may miss a reading; its timer held the
    # NaN and the FIT writer failed on a lap ending there. By hand: duration 0..2, missing at 3 s,
    # 4 at 4 s, missing at the last sample (5 s): placed by clock, 3; past the last known, its 4
    a = one(base(**rec(["clock", "duration", "distance"], range(6), [0, 1, 2, None, 4, None],
                       [0, 1, 2, 3, 4, 5]), pauseIndexes=[], laps=[{"lapType": "general", "endTime": 3},
                                                                   {"lapType": "general", "endTime": 5}]))
    assert timer_seconds(a).tolist() == [0, 1, 2, 3, 4, 4]
    (back,) = decode(encode(a, "fit"), "fit")
    assert [lap.end_timer for lap in back.laps] == [3.0, 4.0]


def test_a_run_with_gps_accuracy_and_satellites_is_written_with_the_accuracy():
    # found by fuzzing: a CSV with both columns was kept, and its JSON export, with both keys, read
    # back refused ("send gpsAccuracy or satellites, not both"); the seed takes one: the accuracy
    t = np.arange(3.0)
    a = Activity(start=datetime(2024, 5, 1, 6, 0, tzinfo=UTC), sport="running",
                 channels={"time": t, "distance": t * 3.0, "gps_accuracy": np.array([3.0, 4.0, 5.0]),
                           "satellites": np.array([7.0, 8.0, 9.0])})
    back = one(json.loads(sj.encode(a)))
    assert back.channels["gps_accuracy"].tolist() == [3.0, 4.0, 5.0] and "satellites" not in back.channels


def test_malformed_json_says_line_and_column():
    err = refused(b'{"startDateTimeLocal": "2014-07-01T09:28:56-10:00",\n "distance": }')
    assert err.location == "line 2 column 14"
    assert sniff(b"  {}") == "json"


# ------------------------------------------------------------ round trips

finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


@st.composite
def activities(draw) -> Activity:
    n = draw(st.integers(1, 40))
    steps = draw(st.lists(st.floats(0.001, 1e4), min_size=n, max_size=n))
    t = np.cumsum(np.asarray(steps)) - steps[0]
    chs = {"time": t}

    def column(lo, hi, nan=True):
        el = st.floats(lo, hi) | (st.just(float("nan")) if nan else st.nothing())
        return np.asarray(draw(st.lists(el, min_size=n, max_size=n)), dtype=np.float64)

    d = np.cumsum(np.asarray(draw(st.lists(st.floats(0, 50), min_size=n, max_size=n))))
    chs["distance"] = d
    if draw(st.booleans()):
        lat = column(-90, 90, nan=False)
        lon = column(-180, 180, nan=False)
        gaps = np.asarray(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
        lat[gaps], lon[gaps] = np.nan, np.nan
        lat[(lat == -1) & (lon == -1)] = 0.5  # -1,-1 is Smashrun's "no position"
        chs["latitude"], chs["longitude"] = lat, lon
    for name, lo, hi in (
        ("altitude", -500, 9000),
        ("heart_rate", 20, 260),
        ("cadence", 0, 300),
        ("power", 0, 3000),
        ("form_power", 0, 1000),
        ("temperature", -60, 70),
    ):
        if draw(st.booleans()):
            chs[name] = column(lo, hi)
    if draw(st.booleans()):
        chs[draw(st.sampled_from(["gps_accuracy", "satellites"]))] = column(0, 100)
    pauses = sorted(draw(st.sets(st.integers(1, n - 1), max_size=3))) if n > 1 else []
    if draw(st.booleans()):
        timer = t.copy()
        chs["timer"] = timer
        pauses = []  # a timer series defines the pauses itself
    laps = []
    ends = sorted(draw(st.sets(st.integers(0, n - 1), max_size=3)))
    for i in ends:
        basis = draw(st.sampled_from(["time", "distance"]))
        lap = Lap(
            lap_type=draw(st.sampled_from(["general", "work", "recovery", "warmup", "cooldown"])),
            basis=basis,
            end_index=i,
        )
        if basis == "time":
            lap.end_time = float(t[i])
        else:
            lap.end_distance = float(d[i])
            lap.end_index = int(np.argmax(d >= d[i]))  # the first sample that reaches it
        laps.append(lap)
    # laps by distance need strictly increasing ends
    seen: set = set()
    laps = [
        lap
        for lap in laps
        if not (
            (lap.basis, lap.end_time, lap.end_distance) in seen or seen.add((lap.basis, lap.end_time, lap.end_distance))
        )
    ]
    offset = draw(st.integers(-14 * 4, 14 * 4)) * 900
    start = datetime(2020, 1, 1, tzinfo=UTC) + timedelta(
        seconds=draw(st.integers(0, 10**8)), milliseconds=draw(st.integers(0, 999))
    )
    return Activity(
        start=start,
        utc_offset=offset,
        channels=chs,
        pauses=pauses,
        laps=laps,
        summary=Summary(heart_rate_average=draw(st.none() | st.integers(40, 200).map(float))),
        notes=draw(st.none() | st.text(max_size=50)),
        how_felt=draw(st.none() | st.sampled_from(["Unstoppable", "great", "soso", "tired", "injured"])),
        weather_type=draw(st.none() | st.sampled_from(["clear", "rain", "snow"])),
        humidity=draw(st.none() | st.integers(0, 100).map(float)),
        body_weight=draw(st.none() | st.floats(20, 400)),
        external_id=draw(st.none() | st.text(ID_CHARS, min_size=1, max_size=20)),
        device_type=draw(st.none() | st.sampled_from(["Apple", "Google"])),
        app_version=draw(st.none() | st.just("1.2.3")),
        songs=draw(
            st.lists(
                st.fixed_dictionaries(
                    {
                        "album": st.text(max_size=5),
                        "artist": st.text(max_size=5),
                        "song": st.text(max_size=5),
                        "startClock": st.integers(0, 99),
                        "endClock": st.integers(100, 200),
                    }
                ),
                max_size=2,
            )
        ),
        heart_rate_recovery=[{"duration": k * 5, "heartRate": 150 - k} for k in range(draw(st.integers(0, 3)))],
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(activities())
def test_activity_to_json_to_activity_is_bit_exact(a):
    try:
        a.validate()
    except ActivityError:
        assume(False)  # the generator can draw laps in an impossible order; those are not recordings
    back = decode(sj.encode(a), "json")[0]
    assert back.start == a.start and back.utc_offset == a.utc_offset
    assert set(back.channels) == set(a.channels)
    for name, arr in a.channels.items():
        assert back.channels[name].view(np.uint64).tolist() == arr.view(np.uint64).tolist(), name
    if "timer" not in a.channels:
        assert back.pauses == a.pauses
    assert [(x.lap_type, x.basis, x.end_time, x.end_distance, x.end_index) for x in back.laps] == [
        (x.lap_type, x.basis, x.end_time, x.end_distance, x.end_index) for x in a.laps
    ]
    for attr in (
        "notes",
        "how_felt",
        "weather_type",
        "humidity",
        "body_weight",
        "external_id",
        "device_type",
        "app_version",
        "songs",
        "heart_rate_recovery",
    ):
        assert getattr(back, attr) == getattr(a, attr), attr
    assert back.summary.heart_rate_average == a.summary.heart_rate_average


@st.composite
def smashrun_objects(draw) -> dict:
    n = draw(st.integers(1, 30))
    clock = np.cumsum(draw(st.lists(st.integers(1, 5), min_size=n, max_size=n))).tolist()
    # km with up to 6 decimals (1 mm): real devices' resolution; any such number comes back equal
    dist_mm = np.cumsum(draw(st.lists(st.integers(0, 5000), min_size=n, max_size=n))).tolist()
    keys, cols = ["clock", "distance"], [clock, [mm / 1e6 for mm in dist_mm]]
    ranges = {
        "heartRate": (20, 260),
        "cadence": (0, 300),
        "elevation": (-500, 9000),
        "temperature": (-60, 70),
        "power": (0, 3000),
    }
    for key in draw(st.sets(st.sampled_from(sorted(ranges)))):
        lo, hi = ranges[key]
        cols.append(draw(st.lists(st.none() | st.integers(lo, hi) | st.floats(lo, hi), min_size=n, max_size=n)))
        keys.append(key)
    offset = draw(st.sampled_from(["+00:00", "-10:00", "+05:30", "+14:00"]))
    obj = {
        "startDateTimeLocal": draw(st.sampled_from(["2019-03-04T06:07:08", "2021-12-31T23:59:59.250"])) + offset,
        "activityType": "running",
        "distance": dist_mm[-1] / 1e6,
        "duration": clock[-1] - clock[0],
        "heartRateAverage": draw(st.integers(60, 200)),
        "notes": draw(st.text(max_size=800)),
        "howFelt": draw(st.sampled_from(["Unstoppable", "great", "soso", "tired", "injured"])),
        "terrain": draw(st.sampled_from(["road", "trail", "beach"])),
        "weatherType": draw(st.sampled_from(["indoor", "clear", "cloudy", "rain", "storm", "snow"])),
        "humidity": draw(st.integers(0, 100)),
        "windSpeed": draw(st.integers(0, 80)),
        "bodyWeight": draw(st.integers(40, 120)),
        "deviceType": "Apple",
        "externalId": draw(st.text(ID_CHARS, min_size=1, max_size=12)),
        "appVersion": "3.1",
        "pauseIndexes": sorted(draw(st.sets(st.integers(1, n - 1), max_size=2))) if n > 1 else [],
        "songs": [
            {
                "album": "13 Songs",
                "artist": "Fugazi",
                "song": "Waiting Room",
                "BPM": 155,
                "startClock": 0,
                "endClock": 150,
            }
        ],
        "heartRateRecovery": [{"duration": 0, "heartRate": 190}, {"duration": 5, "heartRate": 180}],
        "recordingKeys": keys,
        "recordingValues": cols,
    }
    if n > 1:
        obj["laps"] = [{"lapType": "warmup", "endTime": clock[0]}, {"lapType": "work", "endDistance": 1e9}]
        obj["laps"][1]["endDistance"] = dist_mm[-1] / 1e3 + 1
    return obj


def by_key(obj: dict) -> dict:
    out = dict(obj)
    out["recordingValues"] = dict(zip(obj["recordingKeys"], obj["recordingValues"], strict=True))
    out.pop("recordingKeys")
    return out


@settings(max_examples=150, deadline=None)
@given(smashrun_objects())
def test_json_to_activity_to_json_gives_equal_json(obj):
    out = json.loads(sj.encode(one(obj)))
    assert by_key(out) == by_key(obj)
    assert (
        datetime.fromisoformat(out["startDateTimeLocal"]).utcoffset()
        == datetime.fromisoformat(obj["startDateTimeLocal"]).utcoffset()
    )


def test_local_time_format_in_each_precision():
    tz = timezone(timedelta(hours=2))
    for dt, text in [
        (datetime(2020, 1, 1, 8, 0, 0, tzinfo=tz), "2020-01-01T08:00:00+02:00"),
        (datetime(2020, 1, 1, 8, 0, 0, 5000, tzinfo=tz), "2020-01-01T08:00:00.005+02:00"),
    ]:
        assert sj.format_local_time(dt.astimezone(UTC), 7200) == text


@pytest.mark.parametrize(
    ("metres", "km_text"),
    [  # written by hand: metres / 1000 in the fewest digits, plain notation
        (333.0, "0.333"),
        (1000.0, "1"),
        (12000.0, "12"),
        (100000.0, "100"),
        (12345.6, "12.3456"),
        (0.0, "0"),
        (0.1, "0.0001"),
        (1e-07, "0.0000000001"),
        (42195.0, "42.195"),
        (1.5e7, "15000"),
    ],
)
def test_km_written_minimal_and_read_back_exact(metres: float, km_text: str) -> None:
    assert sj._km(metres) == km_text
    t = np.array([0.0, 1.0])
    a = Activity(start=datetime(2024, 5, 1, 6, 0, tzinfo=UTC), sport="running",
                 channels={"time": t, "distance": np.array([0.0, metres])})
    a.summary.distance = metres
    text = sj.encode(a).decode()
    obj = json.loads(text)
    assert obj["distance"] == json.loads(km_text)
    assert f"[0,{km_text}]" in text.replace(" ", "")  # the distance recording, as written
    back = decode(text.encode(), "json")[0]
    assert back.channels["distance"][1] == metres  # bit-exact


def test_km_never_in_exponent_notation() -> None:
    assert sj._km(5e20) == "500000000000000000"  # Decimal would print 5E+17
    assert sj._km(1e-09) == "0.000000000001"


def test_a_lap_whose_own_timer_disagrees_with_the_pauses_is_written_by_its_clock():
    """Found by fuzzing: a TCX lap's timer is the file's own total, which may disagree with the timer
    the track's pauses give. Written as endDuration, the last lap below (timer 5.5 s by its file,
    ending at sample 9) would read back at sample 5, before the lap ending at sample 6, and the
    export was refused ("lap end indexes must not decrease"). Where the lap's own measure places
    it, read back, at its end sample it is written so; else by the clock at that sample."""
    t = np.arange(10.0)  # no pauses: the timer is the clock
    a = Activity(start=datetime(2024, 5, 1, 6, 0, tzinfo=UTC), channels={"time": t, "distance": 3 * t})
    a.laps = [Lap(end_time=3.0, end_timer=3.0, end_index=3), Lap(end_time=6.0, end_index=6),
              Lap(end_time=9.0, end_timer=5.5, end_index=9)]
    a.laps[0].basis, a.laps[1].basis, a.laps[2].basis = "timer", "time", "timer"
    laps = json.loads(encode(a, "json"))["laps"]
    assert [lap.get("endDuration") for lap in laps] == [3, None, None]
    assert [lap.get("endTime") for lap in laps] == [None, 6, 9]
    (b,) = decode(encode(a, "json"))
    assert [lap.end_index for lap in b.laps] == [3, 6, 9]
