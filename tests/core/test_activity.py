"""Validation of the canonical Activity: each impossible recording is refused, naming field and index."""

from datetime import UTC, datetime

import numpy as np
import pytest

from runhub.activity import Activity, ActivityError, Lap, timer_seconds

START = datetime(2024, 5, 1, 6, 0, tzinfo=UTC)


def run(**channels: list[float]) -> Activity:
    return Activity(start=START, channels={k: np.asarray(v, dtype=np.float64) for k, v in channels.items()})


def refused(a: Activity) -> ActivityError:
    with pytest.raises(ActivityError) as info:
        a.validate()
    return info.value


def test_a_plain_recording_is_accepted():
    a = run(time=[0, 1, 2], distance=[0, 3, 6], heart_rate=[100, np.nan, 120])
    assert a.validate() is a


@pytest.mark.parametrize(
    ("channels", "field", "index"),
    [
        ({"time": [0, 1, 1, 2]}, "time", 2),
        ({"time": [0, 2, 1]}, "time", 2),
        ({"time": [0, np.nan, 2]}, "time", 1),
        ({"time": [0, 1, 2], "heart_rate": [100, 300, 120]}, "heart_rate", 1),
        ({"time": [0, 1, 2], "heart_rate": [100, 19, 120]}, "heart_rate", 1),
        ({"time": [0, 1, 2], "distance": [0, 10, 5]}, "distance", 2),
        ({"time": [0, 1, 2], "distance": [0, -1, 5]}, "distance", 1),
        ({"time": [0, 1, 2], "latitude": [52, 91, 52], "longitude": [4, 4, 4]}, "latitude", 1),
        ({"time": [0, 1, 2], "latitude": [52, 52, 52], "longitude": [4, 181, 4]}, "longitude", 1),
        ({"time": [0, 1, 2], "power": [100, np.inf, 100]}, "power", 1),
        ({"time": [0, 1, 2], "latitude": [52, np.nan, 52], "longitude": [4, 4, 4]}, "latitude", 1),
        ({"time": [-5, 1, 2]}, "time", 0),
    ],
)
def test_impossible_samples_are_refused_with_field_and_index(channels, field, index):
    err = refused(run(**channels))
    assert (err.field, err.index) == (field, index)
    assert f"{field}[{index}]" in str(err)


def test_unequal_lengths_name_the_channel():
    err = refused(run(time=[0, 1, 2], cadence=[80, 81]))
    assert err.field == "cadence" and "2 samples" in err.message


def test_distance_float_noise_is_not_a_step_back():
    # Devices write cumulative distance with sub-millimetre float noise; that is no error.
    run(time=[0, 1, 2], distance=[0, 5.0, 4.9999999]).validate()


def test_pause_and_lap_indexes_are_checked():
    base = run(time=[0, 1, 2, 3])
    base.pauses = [4]
    assert refused(base).field == "pauses"
    base.pauses = [0]
    assert refused(base).field == "pauses"
    base.pauses = [2, 2]
    assert refused(base).index == 1
    base.pauses = [2]
    base.laps = [Lap(end_time=2, end_index=2), Lap(end_time=1, end_index=3)]
    err = refused(base)
    assert (err.field, err.index) == ("laps", 1)
    base.laps = [Lap(end_time=2, end_index=9)]
    assert "outside" in refused(base).message
    base.laps = [Lap(end_time=2, lap_type="sprint")]
    assert "sprint" in refused(base).message


def test_start_notes_and_summary_bounds():
    a = run(time=[0, 1])
    a.start = datetime(3000, 1, 1, tzinfo=UTC)
    assert refused(a).field == "start"
    a = run(time=[0, 1])
    a.start = datetime(2024, 1, 1)
    assert refused(a).field == "start"
    a = run(time=[0, 1])
    a.notes = "x" * 801
    assert refused(a).field == "notes"
    a.notes = "x" * 800
    a.validate()
    a.summary.heart_rate_max = 400
    assert refused(a).field == "summary.heart_rate_max"


def test_timer_seconds_remove_each_pause_as_the_seed_defines():
    # Smashrun: "The duration of the pause is equal to the difference between the clock
    # recordingValue at this index, and the preceding index."  Clock 0,1,2,62,63 with a pause
    # before index 3: timer 0,1,2,2,3.
    a = run(time=[0, 1, 2, 62, 63])
    a.pauses = [3]
    assert timer_seconds(a).tolist() == [0, 1, 2, 2, 3]
