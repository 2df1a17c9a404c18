"""Summary and time base on hand-built recordings; every expected number is worked out here."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from runhub.activity import Activity
from runhub.analysis.summary import summarize
from runhub.analysis.timebase import time_base

NAN = np.nan


def act(pauses: list[int] | None = None, sport: str = "running", **ch: list[float]) -> Activity:
    return Activity(
        start=datetime(2024, 5, 1, 8, tzinfo=UTC),
        sport=sport,
        channels={k: np.asarray(v, dtype=float) for k, v in ch.items()},
        pauses=pauses or [],
    )


def irregular() -> Activity:
    # clock 0,1,3,4 | pause 4 -> 10 | 10,11,12 ; steps 1,2,1,(6 paused),1,1
    return act(
        pauses=[4],
        time=[0, 1, 3, 4, 10, 11, 12],
        distance=[0, 3, 9, 12, 12, 12.5, 15.5],
        heart_rate=[100, 120, NAN, 200, 150, 160, 170],
        power=[200, NAN, 100, 300, 0, 50, 80],
        cadence=[80, 70, 90, NAN, 85, 0, 88],
        temperature=[10, 20, 20, 20, 30, 30, 30],
    )


def test_times_with_pause_and_stop():
    s = summarize(irregular())
    assert s.elapsed_time == 12
    assert s.timer_time == 12 - 6
    # moving: steps 1+2+1 (3 m/s), pause out, 10->11 at 0.5 m/s is below 0.894 m/s, 11->12 moving
    assert s.moving_time == pytest.approx(1 + 2 + 1 + 1)
    assert s.distance == pytest.approx(15.5)
    assert s.average_speed == pytest.approx(15.5 / 5)
    # best 3 s of running time: 0->3 s covers 9 m (timer axis 0,1,3,4,4,5,6)
    assert s.max_speed == pytest.approx(3.0)


def test_time_weighted_averages_skip_nan_and_pause():
    s = summarize(irregular())
    # backward weights: samples 1..6 stand for 1, 2, 1, 0 (the pause ends at sample 4), 1, 1 s;
    # sample 0 stands for no time
    # heart rate: 120*1 + NaN + 200*1 + (paused) + 160*1 + 170*1 over 4 s (sample mean would be 150)
    assert s.heart_rate_average == pytest.approx((120 + 200 + 160 + 170) / 4)
    assert (s.heart_rate_min, s.heart_rate_max) == (100, 200)
    # power: NaN + 100*2 + 300*1 + (paused) + 50*1 + 80*1 over 5 s
    assert s.power_average == pytest.approx(630 / 5)
    assert s.power_max == 300
    # cadence without zeros: 70*1 + 90*2 + NaN + (paused) + 0 dropped + 88*1 over 4 s
    assert s.cadence_average == pytest.approx(338 / 4)
    assert (s.cadence_min, s.cadence_max) == (70, 90)
    # temperature: 20*1 + 20*2 + 20*1 + 30*1 + 30*1 over 6 s
    assert s.temperature_average == pytest.approx(140 / 6)


def test_long_gap_weight_is_capped():
    # explicit pause on 4->5; the 30 s dropout 3->33 is not a pause: sample 4 stands for 15 s at most
    a = act(pauses=[5], time=[0, 1, 2, 3, 33, 34], heart_rate=[100, 100, 100, 100, 160, 100])
    s = summarize(a)
    assert s.heart_rate_average == pytest.approx((100 * 3 + 160 * 15) / 18)
    assert s.timer_time == 34 - 1


def test_gap_is_a_pause_when_source_has_no_pause_events():
    a = act(time=[0, 1, 2, 3, 63, 64, 65], heart_rate=[100] * 7)
    tb = time_base(a)
    assert tb.paused.tolist() == [False, False, False, True, False, False]
    assert summarize(a).timer_time == 65 - 60


def test_geodesic_distance_without_distance_stream():
    # algorithms.md V21 (geographiclib): 1 degree of latitude at the equator = 110 574.39 m
    a = act(time=[0, 100, 200], latitude=[0, 0.5, 1.0], longitude=[10, 10, 10])
    s = summarize(a)
    assert s.distance == pytest.approx(110574.39, abs=0.01)
    assert (s.start_latitude, s.end_latitude) == (0, 1.0)
    assert s.bbox == (0, 10, 1.0, 10)


def test_elevation_pause_jump_not_counted():
    # 0.5 m/s climbs: 100 -> 130 m in 60 s, a 10 min stop (altitude drifts to 200), 200 -> 230 m
    t = np.concatenate((np.arange(61.0), 660 + np.arange(61.0)))
    alt = np.concatenate((100 + 0.5 * np.arange(61.0), 200 + 0.5 * np.arange(61.0)))
    s = summarize(act(pauses=[61], time=t, altitude=alt))
    # without the 70 m jump the profile is one 100 -> 160 m ramp over 120 s of timer time; the
    # 15 s centred mean clipped at the ends reads 100 + 0.5*3.75 at the start and 160 - 0.5*3.75
    # at the end: gain = 60 - 2 * 1.875
    assert s.elevation_gain == pytest.approx(60 - 2 * 1.875)
    assert s.elevation_loss == 0
    assert (s.elevation_min, s.elevation_max) == (100, 230)


def test_noisy_profile_gain():
    # algorithms.md 14.2 [measured]: 1 h, three 100 m sine cycles; true gain 299.7 m (3 climbs of
    # 100 m minus the part of the first one before t=0: 3 * 200 - ... see below). Raw diffs give
    # ~2055 m on 1 m noise; smoothing + extrema hysteresis must stay near the truth.
    t = np.arange(3600.0)
    clean = 100 * np.sin(2 * np.pi * 3 * t / 3600)
    true_gain = float(np.clip(np.diff(clean), 0, None).sum())  # exact sum over the noiseless curve
    noisy = clean + np.random.default_rng(1).normal(0, 1, len(t))
    s = summarize(act(time=t, altitude=noisy))
    assert np.clip(np.diff(noisy), 0, None).sum() > 1500
    assert s.elevation_gain == pytest.approx(true_gain, abs=6)
