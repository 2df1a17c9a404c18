"""timebase.time_base (one compiled pass) against the numpy definitions of the time base it replaced
(algorithms.md section 1, as timebase.py's docstring states them), bit for bit: every metric reads
its intervals, weights and pauses from here."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runhub.activity import Activity, pause_mask
from runhub.analysis.timebase import MIN_GAP_THRESHOLD, moving_threshold, time_base


def gap_threshold(t: np.ndarray) -> float:
    """Seconds above which a recording step is a gap: max(15 s, 3 x the median step)."""
    if len(t) < 2:
        return MIN_GAP_THRESHOLD
    return max(MIN_GAP_THRESHOLD, 3.0 * float(np.median(np.diff(t))))


def pauses_of(a: Activity, t: np.ndarray) -> np.ndarray:
    """Paused intervals: the source's pause events or timer channel; else gaps > threshold."""
    n = len(t)
    mask = pause_mask(a) if a.pauses else np.zeros(max(n - 1, 0), dtype=bool)
    timer = a.channels.get("timer")
    if timer is not None and n > 1:
        dtimer = np.diff(timer)
        with np.errstate(invalid="ignore"):
            mask |= np.isfinite(dtimer) & (np.diff(t) - dtimer > 0.5 * np.diff(t)) & (np.diff(t) > 1.0)
    if not a.pauses and timer is None and not a.extras.get("pause_source") and n > 1:
        gaps = np.diff(t) > gap_threshold(t)
        d = a.channels.get("distance")
        if d is not None and np.isfinite(d).sum() >= 2:  # a gap the distance ran on through was run
            with np.errstate(invalid="ignore", divide="ignore"):
                gaps &= ~(np.diff(d) / np.diff(t) >= moving_threshold(a.sport))
        mask |= gaps
    return mask


def interval_speed(a: Activity, dt: np.ndarray) -> np.ndarray | None:
    """Speed of each interval (m/s) from the distance stream, else the speed channel; NaN unknown."""
    d = a.channels.get("distance")
    if d is not None and np.isfinite(d).sum() >= 2:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.diff(d) / dt
    s = a.channels.get("speed")
    if s is not None:
        return s[1:].copy()
    return None


def reference(a: Activity) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    t = a.channels["time"]
    dt = np.diff(t)
    paused = pauses_of(a, t)
    gap = gap_threshold(t)
    weights = np.where(paused, 0.0, np.minimum(dt, gap))
    speed = interval_speed(a, dt)
    moving = ~paused
    if speed is not None:
        with np.errstate(invalid="ignore"):
            moving = moving & ~(np.isfinite(speed) & (speed < moving_threshold(a.sport)))
    return dt, paused, weights, moving, gap


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 400),
    st.integers(0, 2**32 - 1),
    st.sampled_from(["running", "cycling", "swimming", "walking", "other"]),
    st.sampled_from(["none", "events", "timer", "pause_source"]),
    st.sampled_from(["none", "distance", "speed", "both", "one_fix"]),
)
def test_time_base_matches_the_numpy_definitions(n, seed, sport, pauses, motion):
    rng = np.random.default_rng(seed)
    # regular, smart-recording and sub-second steps, and a few long dropouts
    kinds = [1.0, 2.0, 0.5, 7.0, 45.0, 600.0]
    steps = rng.choice(kinds, n - 1, p=[0.7, 0.1, 0.1, 0.05, 0.03, 0.02])
    t = np.concatenate(([0.0], np.cumsum(steps))) + rng.choice([0.0, -3.0, 12.5])
    a = Activity(start=datetime(2024, 5, 1, 8, tzinfo=UTC), sport=sport, channels={"time": t})
    if pauses == "events" and n > 1:
        a.pauses = sorted({int(i) for i in rng.integers(1, n, size=rng.integers(1, 4))})
    elif pauses == "timer":
        stalled = rng.random(n - 1) < 0.15  # the timer stands still over some intervals
        timer = np.concatenate(([0.0], np.cumsum(np.where(stalled, 0.0, steps))))
        timer[rng.random(n) < 0.05] = np.nan
        a.channels["timer"] = timer
    elif pauses == "pause_source":
        a.extras["pause_source"] = "fit timer events"
    if motion in ("distance", "both", "one_fix"):
        d = np.concatenate(([0.0], np.cumsum(rng.choice([0.0, 0.1, 1.0, 3.0, 9.0], n - 1))))
        d[rng.random(n) < 0.1] = np.nan
        if motion == "one_fix":  # fewer than two known distances: the speed channel decides
            d[:] = np.nan
            d[0] = 0.0
        a.channels["distance"] = d
    if motion in ("speed", "both", "one_fix"):
        s = rng.choice([0.0, 0.05, 0.5, 1.2, 3.0, np.nan], n)
        a.channels["speed"] = s
    tb = time_base(a)
    dt, paused, weights, moving, gap = reference(a)
    assert tb.gap == gap
    assert tb.dt.tobytes() == dt.tobytes()
    assert np.array_equal(tb.paused, paused)
    assert tb.weights.tobytes() == weights.tobytes()
    assert np.array_equal(tb.moving, moving)


def test_the_cases_the_random_ones_may_miss():
    """A step of no time with distance (speed inf or NaN, never below a threshold); the gap rule on
    a recording whose median step is long (3 x median above 15 s)."""
    t = np.array([0.0, 1.0, 1.0, 2.0, 3.0])
    d = np.array([0.0, 3.0, 3.0, 6.0, 6.0])
    a = Activity(start=datetime(2024, 5, 1, 8, tzinfo=UTC), channels={"time": t, "distance": d})
    tb = time_base(a)
    assert tb.moving.tolist() == [True, True, True, False]  # 0/0 is NaN: not known to be slow
    assert tb.moving.tolist() == reference(a)[3].tolist()
    slow = np.arange(0.0, 200.0, 10.0)
    slow[12:] += 40.0  # one 50 s step among 10 s steps: 3 x 10 = 30 s threshold
    b = Activity(start=datetime(2024, 5, 1, 8, tzinfo=UTC), channels={"time": slow})
    tb = time_base(b)
    assert tb.gap == 30.0 and tb.paused.tolist() == [i == 11 for i in range(19)]


def test_a_gap_run_through_is_not_a_pause_and_a_stop_is():
    """Steps of 20 s at 3 m/s and one of 120 s (the gap threshold: 3 x 20 = 60 s). Over it the
    runner either stood (2 m: a stop, paused: timer 220 - 120 = 100 s) or ran on at 3 m/s (360 m:
    a GPS logging sparsely, a tunnel; not paused: timer 220 s, moving 220 s)."""
    t = np.array([0.0, 20, 40, 60, 80, 200, 220])
    for over_gap, paused, timer in ((2.0, True, 100.0), (360.0, False, 220.0)):
        d = np.array([0.0, 60, 120, 180, 240, 240 + over_gap, 300 + over_gap])
        a = Activity(start=datetime(2024, 5, 1, 8, tzinfo=UTC), sport="running", channels={"time": t, "distance": d})
        tb = time_base(a)
        assert tb.gap == 60.0 and tb.paused.tolist() == [False] * 4 + [paused, False]
        assert tb.timer == timer and tb.moving.sum() == (5 if paused else 6)
        assert np.array_equal(tb.paused, reference(a)[1])


def test_a_sparse_gpx_track_keeps_its_time_and_its_average_under_its_maximum():
    """An eTrex logging a run every 10 to 37 s (Runalyze's standard.gpx, GPSies' Route-only.gpx):
    the 37 s steps, over the gap threshold (3 x 10 s median), were run at ~2.8 m/s. They are timer
    and moving time, so the average speed (distance / moving time) is no more than the best."""
    from runhub.analysis.summary import summarize
    from runhub.formats import gpx

    steps = [37, 10, 8, 9, 9, 37, 9, 8, 10, 7]
    t = np.concatenate(([0], np.cumsum(steps)))
    # due north, 2.8 m/s: 2.8 m per second is 2.8 / 111194.9 degrees of latitude (R = 6371 km)
    lat = 50.0 + t * 2.8 / 111194.9
    pts = "".join(f'<trkpt lat="{la:.8f}" lon="10.0"><time>2020-06-01T10:{int(s) // 60:02d}:{int(s) % 60:02d}Z</time>'
                  f"</trkpt>" for la, s in zip(lat, t, strict=True))
    doc = ('<?xml version="1.0"?><gpx version="1.1" creator="x" xmlns="http://www.topografix.com/GPX/1/1">'
           f"<trk><trkseg>{pts}</trkseg></trk></gpx>").encode()
    (a,) = gpx.decode(doc)
    s = summarize(a)
    assert s.elapsed_time == 144.0 and s.timer_time == 144.0 and s.moving_time == 144.0
    assert s.distance == pytest.approx(144 * 2.8, rel=0.005)
    assert s.average_speed <= s.max_speed + 1e-9
