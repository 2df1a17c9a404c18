"""TCX laps as runhub writes them: a lap's Calories and heart rate (the schema's ActivityLap_t:
Calories required, AverageHeartRateBpm and MaximumHeartRateBpm optional), so that the activity's
calories and a summary-only activity's heart rate survive a TCX round trip. Expected values are
worked out by hand here."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import numpy as np

from runhub.activity import Activity, Lap
from runhub.formats import smashrun_json, tcx

START = datetime(2024, 3, 2, 9, 0, tzinfo=UTC)


def three_laps(**totals: dict) -> Activity:
    """601 samples at 1 Hz; laps end at 100, 300 and 600 s (clock lengths 100, 200, 300 s)."""
    t = np.arange(601.0)
    hr = np.full(601, 150.0)
    hr[:101] = 120.0  # lap 1: samples 0..100
    hr[50] = 171.0
    hr[101:301] = 140.0  # lap 2: samples 101..300
    hr[101] = np.nan
    return Activity(
        start=START, sport="running",
        channels={"time": t, "distance": t * 3.0, "heart_rate": hr},
        laps=[Lap(end_index=100, end_time=100.0, totals=totals.get("lap1")),
              Lap(end_index=300, end_time=300.0), Lap(end_index=600, end_time=600.0)],
        calories=601.0,
    )


def test_the_activitys_calories_are_spread_over_laps_without_any_and_add_up():
    # shares by clock length: 601 x (100, 200, 300) / 600 = 100.17, 200.33, 300.5; floors
    # 100 + 200 + 300 = 600, the kcal left goes to the largest remainder (0.5, the third lap)
    xml = tcx.encode(three_laps()).decode()
    assert re.findall(r"<Calories>(\d+)</Calories>", xml) == ["100", "200", "301"]
    (back,) = tcx.decode(xml.encode())
    assert back.calories == 601.0


def test_a_laps_own_calories_are_written_as_they_are():
    xml = tcx.encode(three_laps(lap1={"total_calories": 42})).decode()  # a FIT lap's field name
    assert re.findall(r"<Calories>(\d+)</Calories>", xml) == ["42", "0", "0"]


def test_a_laps_total_that_is_no_number_is_taken_as_none():
    # found by fuzzing: a FIT lap definition that widens total_calories to 113 values made it an
    # array, kept in the lap's totals as read; the TCX writer failed on it (TypeError). It is no
    # calorie count: with none of its own, the activity's 601 kcal are spread as without any
    lap1 = {"total_calories": [42, 7], "calories": "42", "avg_heart_rate": True}
    xml = tcx.encode(three_laps(lap1=lap1)).decode()
    assert re.findall(r"<Calories>(\d+)</Calories>", xml) == ["100", "200", "301"]
    assert re.findall(r"<AverageHeartRateBpm><Value>(\d+)</Value>", xml)[0] == "121"  # from the samples


def test_lap_heart_rate_is_the_mean_and_max_of_its_samples():
    xml = tcx.encode(three_laps()).decode()
    avg = re.findall(r"<AverageHeartRateBpm><Value>(\d+)</Value>", xml)
    mx = re.findall(r"<MaximumHeartRateBpm><Value>(\d+)</Value>", xml)
    # lap 1: 100 samples of 120 and one of 171 -> (100 x 120 + 171) / 101 = 120.505 -> 121;
    # lap 2: the NaN left out, 199 x 140; lap 3: 300 x 150
    assert avg == ["121", "140", "150"] and mx == ["171", "140", "150"]


def test_a_summary_only_activity_keeps_its_heart_rate_and_calories():
    """A manual entry (no samples) with the lap totals a Garmin Edge 500 wrote for it (corpus file
    gc_2012_02_05_09_03_59.fit: 18.71 s of timer, 107 bpm on average, 110 at most, 2 kcal)."""
    a = Activity(start=START, sport="cycling", calories=2.0,
                 laps=[Lap(end_time=38.0, end_timer=18.71, end_distance=0.0,
                           totals={"total_timer_time": 18.71, "total_calories": 2, "avg_heart_rate": 107,
                                   "max_heart_rate": 110})])
    (back,) = tcx.decode(tcx.encode(a))
    s = back.summary
    assert (s.timer_time, s.heart_rate_average, s.heart_rate_max, back.calories) == (18.71, 107.0, 110.0, 2.0)


def test_a_laps_heart_rate_no_summary_can_hold_stays_the_laps():
    """Found by fuzzing: a FIT summary-only run whose session says 169 bpm at most and whose laps
    say 19 (a garbage lap total, kept as the device wrote it). Its TCX export carries the laps, and
    read back the run's maximum was the laps' 19, refused (20..260). The run's figures come from
    the lap totals a summary can hold; each lap keeps its own. By hand: averages 100 and 140 over
    10 and 30 s -> (1000 + 4200) / 40 = 130; maxima 19 and 19 -> none."""
    a = Activity(start=START, sport="running",
                 laps=[Lap(end_time=10.0, end_timer=10.0, totals={"total_timer_time": 10.0, "avg_heart_rate": 100,
                                                                  "max_heart_rate": 19}),
                       Lap(end_time=40.0, end_timer=40.0, totals={"total_timer_time": 30.0, "avg_heart_rate": 140,
                                                                  "max_heart_rate": 19})])
    (back,) = tcx.decode(tcx.encode(a))
    back.validate()
    assert (back.summary.heart_rate_average, back.summary.heart_rate_max) == (130.0, None)
    assert [lap.totals["heart_rate_max"] for lap in back.laps] == [19.0, 19.0]


REST_LAP_TCX = b"""<?xml version="1.0" encoding="UTF-8"?>
<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2">
<Activities><Activity Sport="Other"><Id>2015-01-31T10:17:15Z</Id>
<Lap StartTime="2015-01-31T10:17:15Z"><TotalTimeSeconds>100</TotalTimeSeconds><DistanceMeters>200</DistanceMeters>
<Calories>20</Calories><Intensity>Active</Intensity><TriggerMethod>Manual</TriggerMethod><Track>
<Trackpoint><Time>2015-01-31T10:17:15Z</Time><DistanceMeters>0</DistanceMeters></Trackpoint>
<Trackpoint><Time>2015-01-31T10:18:55Z</Time><DistanceMeters>200</DistanceMeters></Trackpoint>
</Track></Lap>
<Lap StartTime="2015-01-31T10:18:55Z"><TotalTimeSeconds>60</TotalTimeSeconds><DistanceMeters>0</DistanceMeters>
<Calories>3</Calories><Intensity>Resting</Intensity><TriggerMethod>Manual</TriggerMethod></Lap>
<Lap StartTime="2015-01-31T10:19:55Z"><TotalTimeSeconds>100</TotalTimeSeconds><DistanceMeters>200</DistanceMeters>
<Calories>20</Calories><Intensity>Active</Intensity><TriggerMethod>Manual</TriggerMethod><Track>
<Trackpoint><Time>2015-01-31T10:19:55Z</Time><DistanceMeters>200</DistanceMeters></Trackpoint>
<Trackpoint><Time>2015-01-31T10:21:35Z</Time><DistanceMeters>400</DistanceMeters></Trackpoint>
</Track></Lap>
</Activity></Activities></TrainingCenterDatabase>"""


def test_a_rest_lap_without_points_ends_where_its_start_and_time_put_it():
    """A pool swim's rest lap (an FR910XT writes them without trackpoints): 60 s from 100 s in,
    so it ends at 160 s, not at the last point of the lap before (100 s); it then survives a FIT
    round trip, whose reader merges laps of no length."""
    from runhub.formats import fit

    (a,) = tcx.decode(REST_LAP_TCX)
    # Active laps beside Resting ones are the work of an interval session (FIT's rule for its
    # `active` intensity, fit.INTENSITY_TYPES), Resting ones its recoveries
    assert [(lap.end_time, lap.lap_type) for lap in a.laps] == [(100.0, "work"), (160.0, "recovery"),
                                                                 (260.0, "work")]
    (back,) = fit.decode(fit.encode(a))
    assert [(lap.end_time, lap.lap_type) for lap in back.laps] == [(100.0, "work"), (160.0, "recovery"),
                                                                    (260.0, "work")]
    (again,) = tcx.decode(tcx.encode(back))
    assert [lap.lap_type for lap in again.laps] == ["work", "recovery", "work"]
    (plain,) = tcx.decode(REST_LAP_TCX.replace(b"Resting", b"Active"))  # no rest: no intervals
    assert [lap.lap_type for lap in plain.laps] == ["general"] * 3
    assert a.calories == 43.0


def _lap(start: str, seconds: int, points: list[str]) -> str:
    track = "".join(f"<Trackpoint><Time>2015-01-31T{p}Z</Time></Trackpoint>" for p in points)
    return (f'<Lap StartTime="2015-01-31T{start}Z"><TotalTimeSeconds>{seconds}</TotalTimeSeconds>'
            f"<Calories>1</Calories><Intensity>Active</Intensity><TriggerMethod>Manual</TriggerMethod>"
            f"<Track>{track}</Track></Lap>")


def _doc(laps: list[str]) -> bytes:
    return ('<?xml version="1.0"?><TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/'
            'TrainingCenterDatabase/v2"><Activities><Activity Sport="Other"><Id>2015-01-31T10:00:00Z</Id>'
            f'{"".join(laps)}</Activity></Activities></TrainingCenterDatabase>').encode()


def test_a_lap_of_no_timer_time_with_its_own_points_is_a_lap_of_its_own():
    """A pool swim's rest as a Garmin watch records it (corpus file
    gc_2024-10-14-070422-Pool_Swim-BingiWatch.fit has one: 0 s of timer, 24 s after the lap
    before): a lap of 0 s whose points go on. Its timer does not advance, its clock does, so it
    ends at its last point (124 s), on the clock; a lap that advances neither is folded into the
    lap before."""
    laps = [_lap("10:00:00", 100, ["10:00:00", "10:01:40"]), _lap("10:01:40", 0, ["10:01:50", "10:02:04"]),
            _lap("10:02:04", 100, ["10:02:05", "10:03:44"])]
    (a,) = tcx.decode(_doc(laps))
    a.validate()
    assert [(lap.end_time, lap.end_timer, lap.basis) for lap in a.laps] == [
        (100.0, 100.0, "timer"), (124.0, 100.0, "time"), (224.0, 200.0, "timer")]
    (back,) = tcx.decode(tcx.encode(a))
    assert [(lap.end_time, lap.end_timer) for lap in back.laps] == [(100.0, 100.0), (124.0, 100.0), (224.0, 200.0)]
    # the same lap without points of its own ends where the lap before does: nothing tells it apart
    laps[1] = _lap("10:01:40", 0, [])
    (folded,) = tcx.decode(_doc(laps))
    assert [(lap.end_time, lap.end_timer) for lap in folded.laps] == [(100.0, 100.0), (224.0, 200.0)]
    assert len(folded.laps[0].totals["merged_laps"]) == 1


def test_a_lap_of_one_point_at_its_start_ends_where_its_start_and_time_put_it():
    """Garmin Training Center's pool swim (an FR310XT's, as Runalyze's test file
    Swim-without-time_by-Timekiller.tcx holds it): each lap opens with a point of time only, often
    the lap before's last instant again, and some laps have no other point. Such a lap's time has no
    sample of its own: it ends at its start plus its TotalTimeSeconds, where the old reader ended
    it at its only point (a lap of 0 s, or of 1 s), giving its time to the lap after."""
    laps = [_lap("10:00:00", 65, ["10:00:00", "10:01:05"]),
            _lap("10:01:05", 70, ["10:01:05"]),  # its one point: lap 1's last instant again
            _lap("10:02:15", 60, ["10:02:16"]),  # its one point: a second after its start
            _lap("10:03:15", 50, ["10:03:15", "10:04:05"])]
    (a,) = tcx.decode(_doc(laps))
    a.validate()
    # 0 + 65 = 65; 65 + 70 = 135; 135 + 60 = 195; the last at its last point, 245 (= 195 + 50)
    assert [(lap.end_time, lap.end_timer) for lap in a.laps] == [
        (65.0, 65.0), (135.0, 135.0), (195.0, 195.0), (245.0, 245.0)]


def _lap_xml(start: int, points: int, total_time: int | None) -> str:
    """A lap of `points` trackpoints 1 s apart from `start` s after 07:00, 3 m apart."""
    stamp = lambda s: f"2024-05-01T07:{s // 60:02d}:{s % 60:02d}Z"  # noqa: E731
    track = "".join(f"<Trackpoint><Time>{stamp(s)}</Time><DistanceMeters>{3 * s}</DistanceMeters></Trackpoint>"
                    for s in range(start, start + points))
    total = "" if total_time is None else f"<TotalTimeSeconds>{total_time}</TotalTimeSeconds>"
    return (f'<Lap StartTime="{stamp(start)}">{total}<DistanceMeters>{3 * points}</DistanceMeters>'
            f"<Calories>5</Calories><Intensity>Active</Intensity><TriggerMethod>Time</TriggerMethod><Track>{track}</Track></Lap>")


def test_after_a_lap_without_its_time_the_laps_end_on_the_clock():
    """Found by fuzzing: laps of 60, 100 and 60 one-second points, the second without its
    TotalTimeSeconds. The third lap's timer end was the sum of the others' times, 120 s, before the
    second lap's last point (159 s): its Smashrun JSON export wrote that as its endDuration, and
    read back, "lap end indexes must not decrease". The timer is unknown after a lap without its
    time: the later laps end on the clock, at their last points, 159 and 219 s. In the JSON each
    lap ends at its own sample: the first one's time, 60 s, would place it at the sample of 60 s, so
    it is written by its clock, 59 s (smashrun_json._lap_objects)."""
    doc = ('<?xml version="1.0"?><TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/'
           'TrainingCenterDatabase/v2"><Activities><Activity Sport="Running"><Id>2024-05-01T07:00:00Z</Id>'
           f"{_lap_xml(0, 60, 60)}{_lap_xml(60, 100, None)}{_lap_xml(160, 60, 60)}"
           "</Activity></Activities></TrainingCenterDatabase>").encode()
    (a,) = tcx.decode(doc)
    assert [(lap.end_time, lap.end_index, lap.end_timer, lap.basis) for lap in a.laps] == [
        (59.0, 59, 60.0, "timer"), (159.0, 159, None, "time"), (219.0, 219, None, "time")]
    (back,) = smashrun_json.decode(smashrun_json.encode(a))
    assert [lap.end_index for lap in back.validate().laps] == [59, 159, 219]


def test_a_track_per_trackpoint_is_a_run_paused_throughout_with_no_timer_time():
    """Found by fuzzing (runhub's TCX export of a run whose timer barely moved): each Trackpoint in
    its own Track, so every interval is a pause. The timer, elapsed less the paused time, came out
    -8.9e-16 s (the two sums differ in their last bits) and the run was refused for it."""
    from runhub.formats import decode
    from runhub.ingest import checked_products

    times = ["43.325", "43.575", "44.574", "45.574", "50.574"]
    metres = ["3", "5.123", "5.123", "5.123", "5.124"]
    tracks = "".join(f"<Track><Trackpoint><Time>2024-06-23T14:01:{t}Z</Time><DistanceMeters>{d}</DistanceMeters>"
                     f"</Trackpoint></Track>" for t, d in zip(times, metres, strict=True))
    data = ('<?xml version="1.0"?><TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/'
            'TrainingCenterDatabase/v2"><Activities><Activity Sport="Biking"><Id>2024-06-23T14:01:42.325Z</Id>'
            '<Lap StartTime="2024-06-23T14:01:42.325Z"><TotalTimeSeconds>0.5</TotalTimeSeconds>'
            f'<Intensity>Active</Intensity><TriggerMethod>Manual</TriggerMethod>{tracks}</Lap></Activity>'
            '</Activities></TrainingCenterDatabase>').encode()
    (a,) = decode(data)
    assert a.pauses == [1, 2, 3, 4]  # by hand: a break before each Track but the first
    checked_products(a)
    assert a.summary.timer_time == 0.0 and a.summary.elapsed_time == 7.249
