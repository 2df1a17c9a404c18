"""`make_timer_explicit`: what an export writes so that its reader finds the timer runhub shows.
Hand-built recordings; the expected pauses and timers are worked out here from the gap rule
(algorithms.md 1: a step longer than max(15 s, 3 x median step) is a pause when the source says
nothing of pauses)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from runhub import formats
from runhub.activity import Activity
from runhub.analysis.timebase import make_timer_explicit, time_base

# 1 Hz: 0..299, a 601 s step (299 -> 900), then 900..1199 (300 samples each side)
CLOCK = np.concatenate((np.arange(0.0, 300.0), np.arange(900.0, 1200.0)))


def act(**extras: object) -> Activity:
    return Activity(
        start=datetime(2024, 5, 1, 8, tzinfo=UTC),
        sport="running",
        channels={"time": CLOCK.copy(), "distance": np.arange(600) * 3.0, "heart_rate": np.full(600, 140.0)},
        extras=dict(extras),
    )


def test_a_source_silent_on_pauses_gets_the_gap_rules_pause_in_fit_only():
    for fmt in ("json", "csv", "tcx", "gpx"):  # silent files: their readers find the same gap
        a = act()
        make_timer_explicit(a, fmt)
        assert a.pauses == [] and "timer" not in a.channels, fmt
    a = act()
    assert time_base(a).timer == 1199.0 - 601.0  # the gap rule: the 601 s step (299 -> 900) is a pause
    make_timer_explicit(a, "fit")
    assert a.pauses == [300]  # the sample after the gap
    assert "timer" not in a.channels
    # written with it, the FIT file says where its timer stopped: read back, the same 598 s
    (back,) = formats.decode(formats.encode(a, "fit"))
    assert back.pauses == [300]
    assert time_base(back).timer == 598.0


def test_a_source_whose_timer_ran_through_the_dropout_keeps_that_timer_in_every_format_that_can_say_it():
    """A FIT file whose timer events say the timer never stopped: 1,199 s of timer time, the
    dropout included. FIT says it again with its events; Smashrun JSON and CSV have no pause to
    write, so the export writes the timer itself (Smashrun's duration series, a CSV timer column)."""
    for fmt in ("json", "csv", "fit"):
        a = act(pause_source="fit timer events")
        assert time_base(a).timer == 1199.0
        make_timer_explicit(a, fmt)
        assert a.pauses == []
        if fmt == "fit":
            assert "timer" not in a.channels
        else:
            assert list(a.channels["timer"]) == list(CLOCK)  # the timer ran with the clock
        (back,) = formats.decode(formats.encode(a, fmt), sport="running")
        assert time_base(back).timer == 1199.0, fmt


def test_without_it_the_readers_apply_the_gap_rule():
    """The control: the same FIT-sourced activity written as it is loses the 601 s step through
    Smashrun JSON and CSV (1,199 - 601 s), whose readers see a file that says nothing of pauses."""
    a = act(pause_source="fit timer events")
    for fmt in ("json", "csv"):
        (back,) = formats.decode(formats.encode(a, fmt), sport="running")
        assert time_base(back).timer == 598.0, fmt


def test_pauses_a_json_can_write_need_no_timer_channel():
    """A source with pauses of its own (Smashrun pauseIndexes, GPX segments): the JSON export
    writes them as they are, the CSV export (no pauses) the timer they make."""
    a = act()
    a.pauses = [300]
    make_timer_explicit(a, "json")
    assert a.pauses == [300] and "timer" not in a.channels
    make_timer_explicit(a, "csv")
    assert list(a.channels["timer"][298:302]) == [298.0, 299.0, 299.0, 300.0]  # stopped over the pause


def test_a_recorded_timer_and_a_short_activity_are_left_alone():
    a = act()
    a.channels["timer"] = CLOCK - 1.0
    make_timer_explicit(a, "csv")
    assert a.pauses == [] and list(a.channels["timer"]) == list(CLOCK - 1.0)
    one = Activity(start=datetime(2024, 5, 1, tzinfo=UTC), sport="running", channels={"time": np.zeros(1)})
    make_timer_explicit(one, "csv")
    assert one.pauses == [] and "timer" not in one.channels
