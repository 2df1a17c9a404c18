"""Across activities: longitudinal mean-max and AWD, Smashrun stats, goals, notables and the
Runalyze panel. References: algorithms.md section 18 (cited sources) and hand-built histories."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from runhub.analysis import load
from runhub.analysis.awd import longitudinal_awd
from runhub.analysis.longitudinal import join_curves, longitudinal_mean_max
from runhub.analysis.mean_max import GRID
from runhub.analysis.notables import NotableRun, notables
from runhub.analysis.stats import RunFact, goal_progress, smashrun_stats

T0 = datetime(2024, 1, 1, 8, tzinfo=UTC)


def test_longitudinal_mean_max_envelope_and_provenance():
    # activity 1: 1 s..10 s curve 500 W, start at 100 s; activity 2: shorter but stronger at 1 s
    v1 = np.full(10, 300.0)
    v1[0] = 500
    v2 = np.array([600.0, 250.0])
    rows = join_curves(
        [(1, T0, "cycling", v1), (2, T0 + timedelta(days=1), "cycling", v2)],
        [(1, T0, "cycling", np.full(10, 100.0)), (2, T0, "cycling", np.array([5.0, 5.0]))],
    )
    out = {r["duration"]: r for r in longitudinal_mean_max(rows, [1, 2, 10])}
    assert (out[1]["value"], out[1]["activity_id"]) == (600, 2)
    assert out[1]["start"] == T0 + timedelta(days=1, seconds=5)
    assert (out[2]["value"], out[2]["activity_id"]) == (300, 1)
    assert out[10]["start"] == T0 + timedelta(seconds=100)
    # 11 s is answered from the next grid duration (12 s); nobody lasted it, so it is left out
    assert GRID[11] == 12 and longitudinal_mean_max(rows, [11]) == []


def test_longitudinal_awd_levels():
    # four training days, histograms (1 W bins) -> time at or above 2 W per day: 10, 20, 30, 40 s
    # (day 4 has two activities of 20 s each, summed)
    days = [date(2024, 1, d) for d in (1, 2, 3, 4)]
    h = lambda s: np.array([0, 0, s], dtype=float)  # noqa: E731
    rows = [(1, days[0], h(10)), (2, days[1], h(20)), (3, days[2], h(30)), (4, days[3], h(20)), (5, days[3], h(20))]
    r = longitudinal_awd(rows, 1.0)
    assert r["max"][2] == 40
    # numpy linear quantiles of [10, 20, 30, 40]: q90 = 37, q50 = 25, q25 = 17.5 -> rounded 18
    assert (r["hard"][2], r["medium"][2], r["easy"][2]) == (37, 25, 18)


def runs():
    mk = lambda d, h, km, mins: RunFact(datetime(2024, 3, d, h), km * 1000, mins * 60)  # noqa: E731
    # March 2024: 1 (Fri) 7h 10 km 50 min; 2 (Sat) 18h 5 km 25 min; 3 (Sun) 7h 5 km 30 min and 19h 2 km;
    # 10 (Sun) 8h 21.1 km 120 min
    return [mk(1, 7, 10, 50), mk(2, 18, 5, 25), mk(3, 7, 5, 30), mk(3, 19, 2, 12), mk(10, 8, 21.1, 120)]


def test_smashrun_stats_month():
    s = smashrun_stats(runs(), 2024, 3, today=date(2024, 3, 31))
    assert s["runCount"] == 5
    assert s["totalDistance"] == pytest.approx(43.1)
    # speeds 12, 12, 10, 10, 10.55 km/h weighted by 10, 5, 5, 2, 21.1 km
    expect = (12 * 10 + 12 * 5 + 10 * 5 + 10 * 2 + 21.1 / 2 * 21.1) / 43.1
    assert s["averageSpeed"] == pytest.approx(expect)
    assert (s["longestRun"], s["longestRunWhen"]) == (pytest.approx(21.1), "2024-03-10")
    assert (s["longestStreak"], s["longestStreakDate"]) == (3, "2024-03-01")
    assert (s["longestBreakBetweenRuns"], s["longestBreakBetweenRunsDate"]) == (6, "2024-03-04")
    assert (s["daysRunAM"], s["daysRunPM"], s["daysRunBoth"]) == (3, 2, 1)
    assert s["averageDistancePerDay"] == pytest.approx(43.1 / 31)
    assert s["averageRunLength"] == pytest.approx(43.1 / 5)
    assert s["averageDaysRunPerWeek"] == pytest.approx(4 / 31 * 7)
    # Sundays: 3 runs (5 + 2 + 21.1 km); least often: Monday, 0 runs
    assert (s["mostOftenRunOnDay"], s["mostOftenRunOnDayCount"]) == ("Sunday", 3)
    assert s["mostOftenRunOnDayAverageDistance"] == pytest.approx(28.1 / 3)
    assert (s["leastOftenRunOnDay"], s["leastOftenRunOnDayCount"]) == ("Monday", 0)
    assert s["averagePace"] == f"{int(3600 / expect) // 60}:{round(3600 / expect) % 60:02d}"


def test_goal_progress():
    assert goal_progress(runs(), 2024, 3) == pytest.approx(43100)
    assert goal_progress(runs(), 2024, 4) == 0


def nrun(i, day, km, mins, gain=0.0, efforts=None):
    return NotableRun(i, datetime(2024, 1, 1, 8) + timedelta(days=day), km * 1000, mins * 60, gain, efforts or {})


def test_notables_on_hand_built_history():
    hist = [
        nrun(1, 0, 5, 30, 50, {"1K": 300, "5K": 1500}),  # long ago (> 12 months before run 9)
        nrun(2, 400, 5, 28, 20, {"1K": 320, "5K": 1550}),
        nrun(3, 420, 8, 45, 30, {"1K": 330, "5K": 1600}),
        nrun(4, 430, 6, 35, 10, {"1K": 310, "5K": 1580}),
        nrun(5, 440, 4, 22, 5, {"1K": 305}),
    ]
    # run 9: 12 km (longest ever), 5K 1520 s (fastest in a year: run 1's 1500 s is > 12 months old),
    # 1K 306 s (fastest in 3 months only? no: 305 s within a month) -> not notable, gain 40 m
    # (most in a year: run 1's 50 m is older), pace 12 km / 66 min in the 10-21 km band: first
    # such run, no prior values -> nothing
    r = nrun(9, 445, 12, 66, 40, {"1K": 306, "5K": 1520})
    got = {n["key"]: n for n in notables(r, hist)}
    assert got["longest_run"]["period"] == 99 and got["longest_run"]["previousBest"] == 8000
    assert got["fastest_5k"]["period"] == 12 and got["fastest_5k"]["previousBest"] == 1550
    assert got["fastest_5k"]["reasonCode"] == "speedkm" and got["fastest_5k"]["supportingValue"] == 5
    assert got["most_elevation"]["period"] == 12
    assert got["longest_time"]["period"] == 99
    assert "fastest_1k" not in got and "pace_10_21k" not in got
    # 7-day windows ending with the run: runs 5 (day 440) and 9 (day 445) -> 2 runs; before: at
    # most 1 run in any earlier 7-day window ending with a run -> notable, and 16 km > 10 km
    assert got["runs_7d"]["value"] == 2 and got["runs_7d"]["previousBest"] == 2 - 1
    assert got["distance_7d"]["value"] == 16000


def test_notables_need_prior_runs_and_ties_are_not_notable():
    hist = [nrun(1, 0, 5, 30), nrun(2, 1, 5, 30)]
    assert notables(nrun(3, 2, 9, 50), hist) == []  # only 2 prior runs
    hist.append(nrun(4, 3, 9, 50))
    assert not any(n["key"] == "longest_run" for n in notables(nrun(5, 4, 9, 50), hist))


# ---- Runalyze panel ---------------------------------------------------------------------


def test_v10_trimp():
    # V10 (Runalyze Trimp CalculatorTest, Fellrnr example): male 200/40, 30 min at 130 -> 32 +-1 %
    h = np.zeros(201)
    h[130] = 1800
    assert load.trimp(h, 200, 40, "male") == pytest.approx(32, rel=0.01)
    h2 = np.zeros(161)
    h2[90] = 1800
    assert load.trimp(h2, 160, 0, "male") == pytest.approx(32, rel=0.01)


def test_trimp_is_integrated_not_from_average():
    # 15 min at 100 + 15 min at 160 (avg 130): convexity makes it larger than 30 min at 130
    h = np.zeros(201)
    h[100] = h[160] = 900
    assert load.trimp(h, 200, 40, "male") > 32


def test_v8_vdot_tables():
    # V8 (Runalyze LegacyEffectiveVO2maxTest, Daniels' tables) +-0.1
    assert load.vdot(5000, 19 * 60 + 57) == pytest.approx(50, abs=0.1)
    assert load.vdot(5000, 30 * 60 + 40) == pytest.approx(30, abs=0.1)
    assert load.vdot(5000, 12 * 60 + 37) == pytest.approx(85, abs=0.1)
    assert load.vdot(10000, 41 * 60 + 21) == pytest.approx(50, abs=0.1)
    assert load.vdot(21097.5, 3600 + 31 * 60 + 35) == pytest.approx(50, abs=0.1)
    assert load.vdot(42195, 3 * 3600 + 10 * 60 + 49) == pytest.approx(50, abs=0.1)
    assert load.vdot(42195, 2 * 3600 + 60 + 10) == pytest.approx(85, abs=0.1)


def test_v9_vo2max_from_hr():
    # V9 (Runalyze VO2maxCalculatorTest): 10 km in 2481 s at HR 190 of 200 -> 50 +-0.5; HR 170 -> > 55
    assert load.vo2max_from_hr(10000, 2481, 190, 200) == pytest.approx(50, abs=0.5)
    assert load.vo2max_from_hr(10000, 2481, 170, 200) > 55


def test_v11_tsb():
    # V11 (Runalyze TsbModelTest, lambda = 2/(N+1)): a single 1000 -> fitness 47, fatigue 250, TSB -203
    p = load.tsb_model([1000])
    assert (round(p.ctl[0]), round(p.atl[0]), round(p.tsb[0])) == (47, 250, -203)
    assert load.rest_days(p.atl[0], p.ctl[0]) == pytest.approx(7, abs=0.5)
    p = load.tsb_model([100] * 7 + [0] * 7)
    assert np.round(p.ctl).astype(int).tolist() == [5, 9, 13, 17, 21, 25, 28, 27, 26, 25, 23, 22, 21, 20]
    assert np.round(p.atl).astype(int).tolist() == [25, 44, 58, 68, 76, 82, 87, 65, 49, 37, 27, 21, 15, 12]
    assert np.round(p.tsb).astype(int).tolist() == [-20, -35, -44, -51, -55, -57, -58, -38, -23, -12, -4, 2, 6, 9]
    rd = [round(load.rest_days(a, c), 1) for a, c in zip(p.atl, p.ctl, strict=True)]
    assert rd == pytest.approx([6.7, 6.6, 6.2, 5.8, 5.4, 4.9, 4.7, 3.7, 2.6, 1.6, 0.7, 0, 0, 0], abs=0.06)


def test_v13_monotony():
    # V13 (Runalyze MonotonyTest)
    assert load.monotony([0, 20, 10, 10, 10, 10, 10]) == pytest.approx(10 / math.sqrt(200 / 7))
    assert load.training_strain([0, 20, 10, 10, 10, 10, 10]) == pytest.approx(7 * 10 * 10 / math.sqrt(200 / 7))
    assert load.monotony([5, 15, 20, 20, 20, 25, 35]) == pytest.approx(20 / 8.45, abs=0.01)
    assert load.monotony([0, 0, 0, 10, 20, 30, 40]) == load.monotony([10, 20, 30, 40])


def test_v14_marathon_shape():
    # V14 (Runalyze MarathonShapeTest): V=60 -> targets 104 km/week, 32.5 km long run; 50/50 weights
    week, long_run = load.marathon_targets(60)
    assert round(week) == 104 and long_run == pytest.approx(32.5, abs=0.1)
    cases = [((52, 1.0), 75), ((104, 0.5), 75), ((104, 1.0), 100), ((52, 2.0), 125), ((0, 2.0), 100)]
    for (km, lp), expect in cases:
        assert load.shape_from_parts(km / 104, lp, 0.5, 0.5) == expect
    assert load.marathon_targets(20) == pytest.approx((38, 22.0), abs=1)


def test_v15_predictions():
    # V15 (Runalyze prognosis tests): Cameron 5 km 16:32 -> 10 km 34:26, HM 1:15:56, M 2:41:22 (+-1 s)
    t = 16 * 60 + 32
    assert load.predict_cameron(5000, t, 10000) == pytest.approx(34 * 60 + 26, abs=1)
    assert load.predict_cameron(5000, t, 21100) == pytest.approx(3600 + 15 * 60 + 56, abs=1)
    assert load.predict_cameron(5000, t, 42200) == pytest.approx(2 * 3600 + 41 * 60 + 22, abs=1)
    # Daniels V50: 5k 19:57, 10k 41:21, HM 1:31:35, M 3:10:49 (tolerance 1.5 s per km)
    for d, expect in ((5000, 1197), (10000, 2481), (21097.5, 5495), (42195, 11449)):
        assert load.predict_daniels(d, 50) == pytest.approx(expect, abs=1.5 * d / 1000)


def test_v22_critical_power_fit():
    # V22 (synthetic): MM(t) = 250 + 20000/t on 120..1200 s -> CP 250, W' 20000 exactly
    t = np.arange(120, 1201, 10.0)
    r = load.critical_power(t, 250 + 20000 / t)
    assert r["cp"] == pytest.approx(250) and r["w_prime"] == pytest.approx(20000)


def test_envelope_matches_brute_force_with_ties_and_gaps():
    # the two-level envelope against a plain per-column scan: best value and the first row
    # holding it, NaN meaning "this curve has no such duration"
    from runhub.analysis.longitudinal import envelope

    rng = np.random.default_rng(5)
    for a, j in ((1, 1), (3, 5), (64, 7), (65, 3), (200, 40), (130, 1)):
        mat = rng.integers(0, 6, (a, j)).astype(np.float32)  # few values: many ties
        mat[rng.random((a, j)) < 0.3] = np.nan
        mat[:, 0] = np.nan  # a duration nobody reached
        best, who = envelope(mat)
        for col in range(j):
            vals = mat[:, col]
            if np.isnan(vals).all():
                assert np.isnan(best[col]) and who[col] == -1
            else:
                m = np.nanmax(vals)
                assert best[col] == m and who[col] == int(np.flatnonzero(vals == m)[0])
