"""The athlete's rolling VO2max (Runalyze's "VO2max form", algorithms.md 10.1) from stored facts,
on hand-built histories. Expected values are written out from the published formulas:
  v = distance / minutes (m/min); %VO2max = exp((HR/HRmax - 1.00466) / 0.68725);
  VO2max_HR = -4.6 + 0.182253 v100 + 0.000104 v100^2 with v100 = v / %VO2max;
  VO2max_time (Daniels) = (-4.6 + 0.182258 v + 0.000104 v^2) /
                          (0.8 + 0.1894393 e^(-0.012778 t) + 0.2989558 e^(-0.1932605 t)), t in min;
  form = sum(VO2max_HR x duration) / sum(duration) over (day - 30, day], x the corrector =
  max(VO2max_time / VO2max_HR) over the 3 races with the best VO2max_time."""

from __future__ import annotations

import math
from datetime import date, datetime

import pytest

from runhub.analysis.load import (
    Vo2maxRun,
    athlete_vo2max,
    rolling_vo2max,
    run_from_facts,
    run_vo2max_by_hr,
    vo2max_corrector,
)

HR_MAX = 200.0


def by_hr(distance: float, seconds: float, hr: float) -> float:
    v = distance / (seconds / 60)
    v100 = v / math.exp((hr / HR_MAX - 1.00466) / 0.68725)
    return -4.6 + 0.182253 * v100 + 0.000104 * v100**2


def by_time(distance: float, seconds: float) -> float:
    v, t = distance / (seconds / 60), seconds / 60
    return (-4.6 + 0.182258 * v + 0.000104 * v**2) / (
        0.8 + 0.1894393 * math.exp(-0.012778 * t) + 0.2989558 * math.exp(-0.1932605 * t)
    )


def run(day: int, km: float, minutes: float, hr: float | None, race: bool = False, month: int = 3) -> Vo2maxRun:
    return Vo2maxRun(datetime(2024, month, day, 7), km * 1000, minutes * 60, hr, is_race=race)


def test_per_run_value_matches_the_formula_and_v9():
    r = run(1, 10, 2481 / 60, 190)
    assert run_vo2max_by_hr(r, HR_MAX) == pytest.approx(by_hr(10000, 2481, 190), rel=1e-12)
    assert run_vo2max_by_hr(r, HR_MAX) == pytest.approx(50, abs=0.5)  # V9
    assert run_vo2max_by_hr(run(1, 10, 40, None), HR_MAX) is None


def test_form_is_duration_weighted_over_the_last_30_days():
    history = [
        run(1, 10, 50, 160),  # 2024-03-01: 31 days before 04-01 07:00 -> outside the window
        run(5, 12, 60, 165),
        run(20, 5, 25, 170),
        run(31, 21.1, 110, 168),
        run(25, 8, 40, None),  # no heart rate: no value, does not dilute the mean
    ]
    on = datetime(2024, 4, 1, 7)
    got = athlete_vo2max(history, HR_MAX, on)
    vals = [(by_hr(12000, 3600, 165), 3600), (by_hr(5000, 1500, 170), 1500), (by_hr(21100, 6600, 168), 6600)]
    expected = sum(v * d for v, d in vals) / sum(d for _, d in vals)
    assert got == pytest.approx(expected, rel=1e-12)
    # the window is (on - 30 days, on]: on 03-31 at 07:00 the run of 03-01 07:00 is exactly 30
    # days old and out, the one of 03-31 07:00 is in
    assert athlete_vo2max(history, HR_MAX, datetime(2024, 3, 31, 7)) == pytest.approx(expected, rel=1e-12)
    assert athlete_vo2max(history, HR_MAX, datetime(2024, 2, 1)) is None


def test_corrector_uses_the_three_best_races_by_time():
    races = [
        run(2, 5, 20, 185, race=True),  # VDOT by time ~ 49.8: best
        run(9, 10, 42, 180, race=True),
        run(16, 21.0975, 95, 175, race=True),
        run(23, 5, 27, 195, race=True),  # slowest race (4th by time): its ratio is ignored
    ]
    ratios = [by_time(r.distance, r.duration) / by_hr(r.distance, r.duration, r.heart_rate_average) for r in races]
    assert ratios[3] > max(ratios[:3])  # the excluded race would have given the largest ratio
    assert vo2max_corrector(races, HR_MAX) == pytest.approx(max(ratios[:3]), rel=1e-12)
    assert vo2max_corrector([run(2, 5, 20, 185)], HR_MAX) == 1.0  # no race: no correction
    # the form multiplies by it; a historical date only sees races up to that date
    on = datetime(2024, 3, 10)
    form = athlete_vo2max(races, HR_MAX, on)
    raw = (by_hr(5000, 1200, 185) * 1200 + by_hr(10000, 2520, 180) * 2520) / (1200 + 2520)
    assert form == pytest.approx(raw * max(ratios[:2]), rel=1e-12)


def test_rolling_series_and_facts():
    facts = {
        "local_start": "2024-03-05T07:00:00",
        "distance": 12000.0,
        "timer_time": 3600.0,
        "elapsed_time": 3700.0,
        "heart_rate_average": 165.0,
        "is_race": False,
        "elevation_gain": 100.0,
        "elevation_loss": 40.0,
    }
    r = run_from_facts(facts)
    assert r is not None and (r.duration, r.elevation_up, r.elevation_down) == (3600, 100, 40)
    # elevation correction: distance + 2 x 100 - 1 x 40 = 12160 m
    assert run_vo2max_by_hr(r, HR_MAX, elevation=True) == pytest.approx(by_hr(12160, 3600, 165), rel=1e-12)
    series = rolling_vo2max([r], HR_MAX, [date(2024, 3, 4), date(2024, 3, 5), date(2024, 4, 3), date(2024, 4, 4)])
    v = by_hr(12000, 3600, 165)
    assert series[0] is None and series[1] == pytest.approx(v) and series[2] == pytest.approx(v)
    assert series[3] is None  # 30 days later the run has left the window
    assert run_from_facts({"local_start": "2024-03-05T07:00:00", "distance": None}) is None
