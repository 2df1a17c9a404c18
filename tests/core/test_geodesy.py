"""The one cumulative-distance algorithm (geodesy.cumulative_distance), on hand-computed tracks.

Outside truth: 1 degree of latitude from the equator on WGS84 is 110 574.39 m (algorithms.md V21,
geographiclib); every expected value below is a sum of that arc, walked north or back south.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from runhub.geodesy import cumulative_distance, pause_steps

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
