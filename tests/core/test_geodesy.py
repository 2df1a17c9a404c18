"""The one cumulative-distance algorithm (geodesy.cumulative_distance) and its jump rule
(geodesy.gps_jumps), on hand-computed tracks.

Outside truth: 1 degree of latitude from the equator on WGS84 is 110 574.39 m (algorithms.md V21,
geographiclib); every expected value below is a sum of that arc, walked north or back south (a
hundredth of it for a hundredth of a degree: the meridian's curvature makes that 1 cm short over
the first tenth of a degree, and far less over the first hundredth).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from runhub import sports
from runhub.geodesy import cumulative_distance, gps_jumps, pause_steps

ARC = 110574.39  # m, (0, 10) -> (1, 10)
nan = math.nan


def _check(got: np.ndarray, want: list[float]) -> None:
    assert np.allclose(got, np.array(want), atol=0.01, rtol=0, equal_nan=True), got.tolist()


def test_one_degree_at_the_equator() -> None:
    _check(cumulative_distance(np.array([0.0, 1.0, 0.0]), np.array([10.0, 10.0, 10.0])), [0, ARC, 2 * ARC])


def test_missing_point_is_bridged_and_held() -> None:
    # the fix at index 1 is lost: the step runs 0 -> 1 degree; index 1 holds what is known there (0)
    lat = np.array([0.0, nan, 1.0, 0.0])
    lon = np.array([10.0, nan, 10.0, 10.0])
    _check(cumulative_distance(lat, lon), [0, 0, ARC, 2 * ARC])


def test_missing_longitude_alone_is_a_missing_fix() -> None:
    _check(cumulative_distance(np.array([0.0, 0.5, 1.0]), np.array([10.0, nan, 10.0])), [0, 0, ARC])


def test_nan_before_the_first_fix() -> None:
    _check(cumulative_distance(np.array([nan, nan, 0.0, 1.0]), np.array([nan, nan, 10.0, 10.0])),
           [nan, nan, 0, ARC])


def test_no_fix_at_all() -> None:
    assert np.isnan(cumulative_distance(np.array([nan, nan]), np.array([nan, nan]))).all()
    assert cumulative_distance(np.zeros(0), np.zeros(0)).shape == (0,)


def test_pause_adds_nothing() -> None:
    # pause index 2 (sample 2 follows a pause): the step 1 -> 2 is the pause
    lat = np.array([0.0, 1.0, 0.0, 1.0])
    lon = np.full(4, 10.0)
    _check(cumulative_distance(lat, lon, pause_steps([2])), [0, ARC, ARC, 2 * ARC])


def test_pause_inside_a_gap_zeroes_the_bridging_step() -> None:
    # fixes at 0 and 3; the pause is step 1 -> 2, inside the gap: the bridge 0 -> 3 spans it
    lat = np.array([0.0, nan, nan, 1.0, 0.0])
    lon = np.array([10.0, nan, nan, 10.0, 10.0])
    _check(cumulative_distance(lat, lon, pause_steps([2])), [0, 0, 0, 0, ARC])


def test_pause_at_the_step_into_a_gap_and_out_of_it() -> None:
    lat = np.array([0.0, 1.0, nan, 0.0])
    lon = np.array([10.0, 10.0, nan, 10.0])
    # step 2 -> 3 is the pause; the bridge 1 -> 3 spans it
    _check(cumulative_distance(lat, lon, pause_steps([3])), [0, ARC, ARC, ARC])
    # a pause before the gap's first fix (step 0 -> 1) does not touch the bridge 1 -> 3
    _check(cumulative_distance(lat, lon, pause_steps([1])), [0, 0, 0, ARC])


@pytest.mark.parametrize("pauses", [[], [1], [1, 3]])
def test_unsorted_or_list_pause_input(pauses: list[int]) -> None:
    lat = np.array([0.0, 1.0, 0.0, 1.0])
    lon = np.full(4, 10.0)
    got = cumulative_distance(lat, lon, list(reversed([p - 1 for p in pauses])))
    steps = [0.0 if i + 1 in pauses else ARC for i in range(3)]
    _check(got, [0.0, *np.cumsum(steps).tolist()])


# ---------------------------------------------------------------------------- receiver jumps
RUN = sports.max_speed("running")  # 12.5 m/s


def _line(n: int = 101, step_deg: float = 1e-4) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A run north along 10 E from the equator, a fix a second, 11.06 m apart (~11 m/s: the
    bound is 12.5)."""
    return np.arange(n) * step_deg, np.full(n, 10.0), np.arange(n, dtype=float)


def _distance(lat: np.ndarray, lon: np.ndarray, t: np.ndarray, bound: float | None = RUN,
              pauses: list[int] | None = None) -> tuple[float, np.ndarray]:
    steps = pause_steps(pauses or [])
    jumps = gps_jumps(lat, lon, t, bound, steps)
    return float(np.nanmax(cumulative_distance(lat, lon, steps, jumps))), np.flatnonzero(jumps)


def test_sport_bounds_by_family() -> None:
    assert sports.max_speed("running.trail") == 12.5 and sports.max_speed("cycling.ebike") == 40.0
    assert sports.max_speed("skiing.cross_country") == 40.0
    assert sports.max_speed("skiing.alpine") is None and sports.max_speed("generic") is None


@pytest.mark.parametrize("off", [[50], [49, 50, 51], [10, 11, 12, 13, 14, 15, 16, 17, 18, 19]])
def test_a_fix_kilometres_off_adds_no_distance(off: list[int]) -> None:
    """One fix (or a burst of up to ten) 0.02 deg (2.2 km) east of the line, a second each: the run
    is the line's 0.01 deg, as if the receiver had said nothing there."""
    lat, lon, t = _line()
    lon[off] = 10.02
    got, jumps = _distance(lat, lon, t)
    assert got == pytest.approx(ARC / 100, abs=0.01)
    assert jumps.tolist() == off
    # with no bound (a sport that has none) the fixes are a distance run: 2 x 2.2 km more
    assert _distance(lat, lon, t, bound=None)[0] > ARC / 100 + 4000


@pytest.mark.parametrize("off", [[0], [0, 1, 2], [100], [98, 99, 100]])
def test_a_jump_at_the_start_or_the_end_adds_no_distance(off: list[int]) -> None:
    """A cold start's first fix 2.2 km off (or the last ones): the piece beyond the cut is longer,
    so the short piece is the jump. The distance starts at the first fix kept."""
    lat, lon, t = _line()
    lon[off] = 10.02
    got, jumps = _distance(lat, lon, t)
    assert got == pytest.approx(ARC / 100 * (100 - len(off)) / 100, abs=0.01)
    assert jumps.tolist() == off


def test_eleven_fixes_off_are_a_track_not_a_jump() -> None:
    """More than MAX_JUMP_FIXES in a row are kept as recorded (a drive in a run's recording)."""
    lat, lon, t = _line()
    lon[40:51] = 10.02
    got, jumps = _distance(lat, lon, t)
    assert len(jumps) == 0 and got > ARC / 100 + 4000


def test_slow_enough_over_its_time_is_no_jump() -> None:
    """2.2 km east after 10 minutes without a fix (a tunnel), and back: 3.7 m/s, a run."""
    lat, lon, t = _line(5)
    lon[2] = 10.02
    t[2:] += 600.0
    t[3:] += 600.0
    got, jumps = _distance(lat, lon, t)
    assert len(jumps) == 0 and got > 4000


def test_a_jump_across_a_pause_is_no_jump_and_no_distance() -> None:
    """Resumed 2.2 km away after a pause: not a jump (it moved while paused), and no distance."""
    lat, lon, t = _line()
    lon[50:] = 10.02
    got, jumps = _distance(lat, lon, t, pauses=[50])
    assert len(jumps) == 0
    assert got == pytest.approx(ARC / 100 * 99 / 100, abs=0.01)


def test_equal_times_are_judged_over_a_second() -> None:
    """Two fixes in one whole second (a GPX's times), 11 m apart: no jump; 2.2 km apart: a jump."""
    lat, lon, t = _line()
    t[51:] -= 1.0  # fixes 50 and 51 share a second
    assert len(_distance(lat, lon, t)[1]) == 0
    lon[51] = 10.02
    assert _distance(lat, lon, t)[1].tolist() == [51]


def test_a_ride_at_descent_speed_is_no_jump() -> None:
    """30 m/s (108 km/h) with a fix every 3 s, 90 m apart: within a rider's bound (40 m/s x 3 s +
    50 m). For a runner's bound (87.5 m) every step is a cut, yet no piece is a jump: the track
    never comes back within reach, so it stays as recorded."""
    lat, lon, t = _line(step_deg=90 / ARC)
    t *= 3.0
    ride, jumps = _distance(lat, lon, t, bound=sports.max_speed("cycling"))
    assert len(jumps) == 0 and ride == pytest.approx(9000.0, abs=0.05)
    run, jumps = _distance(lat, lon, t)
    assert len(jumps) == 0 and run == ride


def test_a_track_cut_at_every_step_is_left_as_recorded() -> None:
    """A planner's route written with one time on every point (steps of 110 m in no time): every
    step is a cut, which is no receiver's slip; the distance is the track's, 100 steps of 0.001 deg."""
    lat, lon, t = _line(step_deg=1e-3)
    t[:] = 0.0
    got, jumps = _distance(lat, lon, t)
    assert len(jumps) == 0 and got == pytest.approx(ARC / 10, abs=0.02)


def test_with_times_a_gap_between_fixes_is_placed_along_its_step() -> None:
    """With the samples' times, the samples without a fix between two fixes take the step's
    distance in proportion to their time (3 s of 4 -> 3/4 of the arc); after the last fix the
    distance holds; across a pause the step adds nothing, so the gap holds too."""
    lat = np.array([0.0, nan, 1.0, nan])
    lon = np.array([10.0, nan, 10.0, nan])
    t = np.array([0.0, 3.0, 4.0, 5.0])
    _check(cumulative_distance(lat, lon, t=t), [0, 0.75 * ARC, ARC, ARC])
    _check(cumulative_distance(lat, lon), [0, 0, ARC, ARC])  # without times: held, as before
    _check(cumulative_distance(lat, lon, pause_steps([1]), t=t), [0, 0, 0, 0])
