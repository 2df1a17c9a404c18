"""Per-activity products: mean-max, best efforts, splits, laps, zones, AWD, extended fields.
Expected numbers come from algorithms.md section 18 (with its cited source) or are worked out
by hand in the test."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pytest

from runhub.activity import Activity, Lap
from runhub.analysis import analyse
from runhub.analysis.awd import awd_exact, awd_from_hist
from runhub.analysis.best_efforts import best_effort, best_efforts
from runhub.analysis.extended import encoded_polyline, pace_variability, sun_moon
from runhub.analysis.geo import distance_stream
from runhub.analysis.mean_max import DEFAULT_DURATIONS, GRID, mean_max, parse_durations, window_max
from runhub.analysis.splits import KM, laps, splits
from runhub.analysis.timebase import time_base
from runhub.analysis.zones import distribution_buckets, histogram, time_in_zones, zone_index

NAN = np.nan


def act(pauses=None, laps_=None, sport="running", **ch) -> Activity:
    return Activity(
        start=datetime(2024, 5, 1, 8, tzinfo=UTC),
        sport=sport,
        channels={k: np.asarray(v, dtype=float) for k, v in ch.items()},
        pauses=pauses or [],
        laps=laps_ or [],
    )


# ---- mean-max --------------------------------------------------------------------------


def test_v1_sweatpy_mean_max():
    # V1 (sweatpy tests/metrics/test_core.py TestMeanMax): power 0..100 at 1 Hz
    a = act(time=np.arange(101), power=np.arange(101))
    _, v, start = mean_max(time_base(a), "power", a.channels["power"], [1, 50, 100])
    assert v.tolist() == pytest.approx([100, 75.5, 50.5])
    # the best 1 s is the second that ends at t=100 (backward weights): it starts at 99
    assert start[0] == 99


def test_grid_contains_sweatstack_defaults_and_all():
    assert set(DEFAULT_DURATIONS) <= set(GRID.tolist())
    allg = parse_durations("all")
    assert allg[:180].tolist() == list(range(1, 181))
    assert {185, 600, 610, 1800, 1830, 3600, 3660} <= set(allg.tolist())
    assert parse_durations("5,60,300").tolist() == [5, 60, 300]


def test_mean_max_pause_counts_as_zero_power_up_to_bound():
    # 10 s at 300 W, a 20 s pause, 10 s at 300 W: the best 30 s spans the pause as zero power:
    # 10*300 + 20*0 (pause) ... best 30 s window = 10 s of work + 20 s pause = 3000/30 = 100 W;
    # a 40 s window holds both blocks: 6000/40 = 150 W
    t = np.concatenate((np.arange(11.0), 30 + np.arange(11.0)))
    p = np.full(22, 300.0)
    a = act(pauses=[11], time=t, power=p)
    _, v, _ = mean_max(time_base(a), "power", p, [10, 30, 40])
    assert v.tolist() == pytest.approx([300, 100, 150])


def test_mean_max_heart_rate_removes_paused_time():
    # same layout for heart rate: the pause is cut out, so 20 s of timer time at 150 bpm
    t = np.concatenate((np.arange(11.0), 30 + np.arange(11.0)))
    hr = np.concatenate((np.full(11, 150.0), np.full(11, 150.0)))
    a = act(pauses=[11], time=t, heart_rate=hr)
    _, v, _ = mean_max(time_base(a), "heart_rate", hr, [20, 21])
    assert v[0] == pytest.approx(150)
    assert np.isnan(v[1])


def test_mean_max_irregular_sampling_is_time_weighted():
    # samples at 0, 1, 5, 6 s: the sample at 5 stands for 4 s (1 -> 5) at 400 W.
    # best 4 s = 400 W (1 -> 5); best 5 s = (4*400 + 1*100)/5 = 340 W; a sample-mean would say 250
    t = [0, 1, 5, 6]
    p = [100, 100, 400, 100]
    a = act(time=t, power=p)
    _, v, st = mean_max(time_base(a), "power", a.channels["power"], [4, 5])
    assert v.tolist() == pytest.approx([400, 340])
    assert st[0] == 1


def test_exact_path_on_fractional_times():
    # the sample at 1.5 s stands for 0.5 s at 200, at 2.75 s for 1.25 s at 100 (clock 0 .. 2.75)
    tau = np.array([0, 1.0, 1.5, 2.75])
    e = np.concatenate(([0], np.cumsum(np.diff(tau) * np.array([0.0, 200, 100]))))
    v, s = window_max(tau, e, [0.5, 1.0])
    # best 0.5 s: 1.0 -> 1.5 at 200; best 1 s: 1.0 -> 2.0: 0.5*200 + 0.5*100 = 150
    assert v.tolist() == pytest.approx([200, 150])
    assert s.tolist() == pytest.approx([1.0, 1.0])


def test_mean_max_nan_power_is_zero():
    a = act(time=[0, 1, 2, 3], power=[0, 100, NAN, 100])
    _, v, _ = mean_max(time_base(a), "power", a.channels["power"], [3])
    assert v[0] == pytest.approx(200 / 3)


# ---- best efforts ----------------------------------------------------------------------


def test_v4_best_effort_with_stop():
    # V4 (algorithms.md 4.3, hand-computed): a 100 s stop at 800 m
    t = np.array([0, 100, 200, 300, 400, 500.0])
    d = np.array([0, 400, 800, 800, 1200, 1600.0])
    assert best_effort(t, d, 400)[0] == pytest.approx(100)
    assert best_effort(t, d, 1000)[0] == pytest.approx(350)
    assert best_effort(t, d, 1500)[0] == pytest.approx(475)
    assert best_effort(t, d, 1600)[0] == pytest.approx(500)


def test_best_efforts_no_overshoot_and_indexes():
    # 1 Hz, 3 m/s for 300 s then 5 m/s for 200 s (1900 m): best 400 m = 80 s inside the fast part
    v = np.concatenate((np.full(300, 3.0), np.full(200, 5.0)))
    d = np.concatenate(([0.0], np.cumsum(v)))
    t = np.arange(501.0)
    be = {b["name"]: b for b in best_efforts(t, d)}
    assert be["400m"]["elapsed_time"] == pytest.approx(80)
    # 1000 m: all 1000 m of the fast block take 200 s
    assert be["1K"]["elapsed_time"] == pytest.approx(200)
    assert (be["1K"]["start_index"], be["1K"]["end_index"]) == (300, 500)
    assert "1 mile" in be and "5K" not in be
    # 1 mile = 1609.344 m: 1000 m in 200 s at 5 m/s plus 609.344 m at 3 m/s
    assert be["1 mile"]["elapsed_time"] == pytest.approx(200 + 609.344 / 3)


# ---- splits and laps -------------------------------------------------------------------


def run_2500m():
    # 1 Hz, 4 m/s for 250 s, a 100 s pause at 1000 m (clock 250 -> 350), then 4 m/s for 375 s
    t = np.concatenate((np.arange(251.0), 350 + np.arange(376.0)))
    d = np.concatenate((4 * np.arange(251.0), 1000 + 4 * np.arange(376.0)))
    alt = 100 + d / 100  # 1 m per 100 m
    hr = np.where(t < 300, 140.0, 160.0)
    return act(pauses=[251], time=t, distance=d, altitude=alt, heart_rate=hr)


def test_splits_km_with_pause_and_partial():
    a = run_2500m()
    tb = time_base(a)
    sp = splits(a, tb, distance_stream(a, tb), KM)
    assert [s["distance"] for s in sp] == pytest.approx([1000, 1000, 500])
    # split 1: 0 -> 250 s; split 2: 250 s (1000 m reached) -> 350 + 250 = 600 s clock, with the
    # 100 s pause inside: elapsed 350, moving 250
    assert [s["elapsed_time"] for s in sp] == pytest.approx([250, 350, 125])
    assert [s["moving_time"] for s in sp] == pytest.approx([250, 250, 125])
    assert [s["average_speed"] for s in sp] == pytest.approx([4, 4, 4])
    assert [s["elevation_difference"] for s in sp] == pytest.approx([10, 10, 5])
    # HR: split 1 all at 140; split 2 after the pause all 160 (samples after t=350)
    assert sp[0]["average_heartrate"] == pytest.approx(140)
    assert sp[1]["average_heartrate"] == pytest.approx(160)


def test_laps_from_end_distance():
    a = run_2500m()
    a.laps = [Lap(end_distance=1000.0, basis="distance"), Lap(end_distance=2500.0, basis="distance")]
    tb = time_base(a)
    lp = laps(a, tb, distance_stream(a, tb))
    assert len(lp) == 2
    assert (lp[0]["elapsed_time"], lp[0]["moving_time"], lp[0]["distance"]) == pytest.approx((250, 250, 1000))
    assert (lp[1]["elapsed_time"], lp[1]["moving_time"], lp[1]["distance"]) == pytest.approx((375 + 100, 375, 1500))
    assert lp[1]["average_speed"] == pytest.approx(4)
    assert lp[0]["max_speed"] == pytest.approx(4)
    assert lp[0]["start_index"] == 0 and lp[1]["end_index"] == len(a.channels["time"]) - 1


# ---- zones and AWD ---------------------------------------------------------------------


def test_v6_sweatpy_zone_classification():
    # V6 (sweatpy test_core): pd.cut right-closed edges; our closed="right" reproduces them
    ftp = [-0.001, 0.55, 0.75, 0.90, 1.05, 1.20, 1.50, 10]
    assert zone_index(np.array([0.55, 0.75, 0.9, 1.05, 1.2, 1.5, 10.0]), ftp, "right").tolist() == [1, 2, 3, 4, 5, 6, 7]
    lthr = [-0.001, 0.68, 0.83, 0.94, 1.05, 10]
    assert zone_index(np.array([0.6, 0.8, 0.9, 1.0, 1.1]), lthr, "right").tolist() == [1, 2, 3, 4, 5]
    edges = [-1, 144, 196, 235, 274, 313, 391, 10000]
    assert zone_index(np.array([1, 150, 210, 250, 300, 350, 450.0]), edges, "right").tolist() == [1, 2, 3, 4, 5, 6, 7]
    hr = [-1, 142, 155, 162, 174, 10000]
    assert zone_index(np.array([60, 120, 150, 160, 170, 180.0]), hr, "right").tolist() == [1, 1, 2, 3, 4, 5]


def test_time_in_zones_weighted_by_time():
    # samples at 0,1,2,7 s: sample 1 = 1 s at 120, sample 2 = 1 s at 150, sample 3 = 5 s at 170
    a = act(time=[0, 1, 2, 7], heart_rate=[100, 120, 150, 170])
    tb = time_base(a)
    h = histogram(a.channels["heart_rate"][1:], tb.weights, 1.0)
    assert time_in_zones(h, [0, 130, 160]) == [1, 1, 5]
    b = distribution_buckets(h, [0, 130, 160])
    assert b == [
        {"min": 0, "max": 129, "time": 1},
        {"min": 130, "max": 159, "time": 1},
        {"min": 160, "max": -1, "time": 5},
    ]


def test_awd_exact_and_from_histogram():
    # weights 1, 2, 1, 4 s at 200, 300, 200, 100 W: >= 300: 2 s; >= 200: 4 s; >= 100: 8 s
    lv, dur = awd_exact(np.array([200, 300, 200, 100.0]), np.array([1, 2, 1, 4.0]))
    assert lv.tolist() == [300, 200, 100] and dur.tolist() == [2, 4, 8]
    levels, above = awd_from_hist(histogram(np.array([200, 300, 200, 100.0]), np.array([1, 2, 1, 4.0]), 1.0), 1.0)
    assert (above[100], above[101], above[200], above[201], above[300]) == (8, 4, 4, 2, 2)


# ---- extended --------------------------------------------------------------------------


def test_v17_v18_sun_and_moon():
    # V17 (astral test_moon): phase 2015-12-01 = 19.477889, 2014-01-01 = 27.955666
    r = sun_moon(51.50853, -0.12574, datetime(2015, 12, 1, 12, tzinfo=UTC))
    assert r["moon_phase_days"] == pytest.approx(19.477889, abs=0.001)
    new_year = sun_moon(0, 0.1, datetime(2014, 1, 1, 12, tzinfo=UTC))
    assert new_year["moon_phase_days"] == pytest.approx(27.955666, abs=0.001)
    # V18 (astral test_sun_utc): London 2015-12-01 sunrise 07:43Z, sunset 15:55Z (+-1 min)
    rise = datetime.fromisoformat(r["sunrise"])
    sset = datetime.fromisoformat(r["sunset"])
    assert abs((rise - datetime(2015, 12, 1, 7, 43, tzinfo=UTC)).total_seconds()) <= 60
    assert abs((sset - datetime(2015, 12, 1, 15, 55, tzinfo=UTC)).total_seconds()) <= 60
    # V18 (suncalc test.js): 2013-03-05 50.5 N 30.5 E sunrise 04:34:56Z, sunset 15:46:57Z (+-2 min)
    k = sun_moon(50.5, 30.5, datetime(2013, 3, 5, 12, tzinfo=UTC))
    rise, sset = datetime.fromisoformat(k["sunrise"]), datetime.fromisoformat(k["sunset"])
    assert abs((rise - datetime(2013, 3, 5, 4, 34, 56, tzinfo=UTC)).total_seconds()) <= 120
    assert abs((sset - datetime(2013, 3, 5, 15, 46, 57, tzinfo=UTC)).total_seconds()) <= 120


def test_polar_day_and_night():
    # 69.65 N (Tromso) at midsummer never sees the sun set; at midwinter it never rises
    assert sun_moon(69.65, 18.96, datetime(2021, 6, 21, 12, tzinfo=UTC))["daylight"] == "polar_day"
    assert sun_moon(69.65, 18.96, datetime(2021, 12, 21, 12, tzinfo=UTC))["daylight"] == "polar_night"


def test_v20_polyline():
    lat = np.array([38.5, 40.7, 43.252])
    lon = np.array([-120.2, -120.95, -126.453])
    assert encoded_polyline(lat, lon) == "_p~iF~ps|U_ulLnnqC_mqNvxq`@"


def test_polyline_encoder_matches_the_polyline_package():
    # our encoder is compiled for speed; the maintained package is the oracle, including
    # half-way rounding (x.xxxxx5), negative deltas and large jumps (many 5-bit chunks)
    import polyline

    from runhub.analysis.extended import polyline_encode

    rng = np.random.default_rng(7)
    for trial in range(60):
        n = int(rng.integers(1, 200))
        if trial % 3 == 0:
            lat, lon = rng.uniform(-90, 90, n), rng.uniform(-180, 180, n)
        else:
            lat = 50 + np.cumsum(rng.normal(0, 1e-4, n))
            lon = 8 + np.cumsum(rng.normal(0, 1e-4, n))
        if trial % 4 == 0:
            lat, lon = np.round(lat, 5) + 5e-6, np.round(lon, 5) - 5e-6
        assert polyline_encode(lat, lon) == polyline.encode(list(zip(lat.tolist(), lon.tolist(), strict=True)), 5)


def test_summary_polyline_simplification_keeps_corners():
    # an L-shaped track (1 km east, then 1 km north, 1 m steps) with 0.5 m zig-zag noise:
    # simplified at 10 m it is the three corners, whatever the noise
    from runhub.analysis.extended import _rdp

    x = np.concatenate((np.arange(0, 1000.0), np.full(1000, 1000.0)))
    y = np.concatenate((np.zeros(1000), np.arange(0, 1000.0)))
    x[1000:] += np.where(np.arange(1000) % 2, 0.5, -0.5)
    y[1:1000] += np.where(np.arange(1, 1000) % 2, 0.5, -0.5)
    kept = _rdp(x, y, 10.0)
    assert kept[0] == 0 and kept[-1] == 1999 and len(kept) == 3 and abs(int(kept[1]) - 1000) <= 1


def test_pace_variability():
    # 10 s intervals alternating 3 and 5 m/s: mean 4, mean |dev| 1 -> 25 %
    v = np.tile(np.concatenate((np.full(10, 3.0), np.full(10, 5.0))), 6)
    d = np.concatenate(([0.0], np.cumsum(v)))
    a = act(time=np.arange(len(d)), distance=d)
    tb = time_base(a)
    assert pace_variability(tb, d) == pytest.approx(25.0)


def test_analyse_products_shapes():
    t = np.arange(0, 3601.0)
    rng = np.random.default_rng(0)
    a = act(
        sport="cycling",
        time=t,
        distance=np.cumsum(np.full(len(t), 8.0)) - 8,
        power=200 + 50 * rng.standard_normal(len(t)).clip(-3, 3),
        heart_rate=np.full(len(t), 140.0),
        latitude=50 + t * 1e-5,
        longitude=np.full(len(t), 8.0),
        altitude=100 + 10 * np.sin(t / 300),
    )
    r = analyse(a)
    p = r.products
    n = len(p["mm_power"])
    assert GRID[n - 1] == 3600 and len(p["mm_power_start"]) == n
    assert p["mm_speed"][0] == pytest.approx(8)
    assert p["hist_heart_rate"][140] == pytest.approx(3600)
    assert len(p["splits_km"]) == 29 and p["splits_km"][-1]["distance"] == pytest.approx(800)
    assert {"pace_variability", "sunrise", "moon_phase", "elevation_gain", "max_power"} <= set(p["extended"])
    # a straight track simplifies to its two ends (50, 8) -> (50.036, 8)
    assert p["summary_polyline"] == encoded_polyline(np.array([50, 50.036]), np.array([8.0, 8.0]))
    assert date.fromisoformat(p["facts"]["local_start"][:10]) == date(2024, 5, 1)
