"""What real devices and apps write that a reader must live with, found by importing public TCX
and GPX files (Runalyze's, OpenTracks', phpGPX's and other projects' test files). Each document
here is written by hand after one of them, cut to the quirk; the expected values are read off the
document or worked out in the test."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from lxml import etree

from runhub import formats
from runhub.activity import Activity, ActivityError
from runhub.analysis import analyse
from runhub.formats import FormatError, NotAnActivity, fit, gpx, tcx

HEAD = (b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2">\n')


def _point(t: str, lat: float | None = None, lon: float | None = None, hr: int | None = None) -> str:
    pos = (f"<Position><LatitudeDegrees>{lat}</LatitudeDegrees><LongitudeDegrees>{lon}</LongitudeDegrees></Position>"
           if lat is not None else "")
    bpm = f"<HeartRateBpm><Value>{hr}</Value></HeartRateBpm>" if hr is not None else ""
    return f"<Trackpoint><Time>{t}</Time>{pos}{bpm}</Trackpoint>"


def _activity(lap_start: str, points: list[str], total_time: float = 60, distance: float | None = None,
              calories: int = 10, sport: str = "Running") -> bytes:
    dist = f"<DistanceMeters>{distance}</DistanceMeters>" if distance is not None else ""
    return HEAD + (
        f'<Activities><Activity Sport="{sport}"><Id>{lap_start}</Id><Lap StartTime="{lap_start}">'
        f"<TotalTimeSeconds>{total_time}</TotalTimeSeconds>{dist}<Calories>{calories}</Calories>"
        f"<Intensity>Active</Intensity><TriggerMethod>Manual</TriggerMethod>"
        f"<Track>{''.join(points)}</Track></Lap></Activity></Activities></TrainingCenterDatabase>"
    ).encode()


def _minute(lat_at: dict[int, float] | None = None, hr: int | None = None) -> list[str]:
    """61 points a second apart from 10:00:00, on a line north from 50.0 N 10.0 E (lat_at: a
    point's latitude and longitude both replaced, as a watch writes "no fix")."""
    out = []
    for k in range(61):
        lat = lon = (lat_at or {}).get(k)
        out.append(_point(f"2020-06-01T10:{k // 60:02d}:{k % 60:02d}Z", 50.0 + k * 1e-5 if lat is None else lat,
                          10.0 if lon is None else lon, hr))
    return out


def test_a_tcx_workout_is_not_an_activity_and_says_so():
    """A planned workout (Garmin Connect's export of one) has steps, no laps: skipped, not failed."""
    doc = HEAD + (b'<Workouts><Workout Sport="Running"><Name>Run</Name><Step><StepId>1</StepId>'
                  b"<Name>Warm Up</Name></Step></Workout></Workouts></TrainingCenterDatabase>")
    with pytest.raises(NotAnActivity) as exc:
        tcx.decode(doc, filename="workout.tcx")
    assert "workout" in str(exc.value) and exc.value.location == "Workouts"


def test_a_garbage_lap_calories_total_is_dropped_not_the_ride():
    """A lap's <Calories>547469</Calories> (as in Runalyze's Power-ns2-extension.tcx): no body
    burns that; the ride is kept with its calories unknown, and the reason is kept."""
    (a,) = tcx.decode(_activity("2020-06-01T10:00:00Z", _minute(), calories=547469))
    a.validate()
    assert a.calories is None
    assert "547469" in a.extras["calories_dropped"]
    (b,) = tcx.decode(_activity("2020-06-01T10:00:00Z", _minute(), calories=812))
    assert b.calories == 812.0 and "calories_dropped" not in b.extras


def test_a_no_fix_position_is_missing_not_a_refusal():
    """A Crane GPS watch writes 200/200 for a point without a fix: that point has no position
    (both coordinates), the other 60 keep theirs, and how many were masked is said."""
    (a,) = tcx.decode(_activity("2020-06-01T10:00:00Z", _minute({7: 200.0, 8: 200.0})))
    a.validate()
    lat, lon = a.channels["latitude"], a.channels["longitude"]
    assert np.isnan(lat[[7, 8]]).all() and np.isnan(lon[[7, 8]]).all()
    assert np.isfinite(lat).sum() == 59 and lat[9] == pytest.approx(50.00009)
    assert a.extras["masked_samples"] == {"latitude": 2, "longitude": 2}


def test_positions_mostly_off_the_earth_are_a_wrong_file():
    """Degrees that are not degrees (semicircles, 2**31 / 180 times too large) in most points: not
    a few no-fix markers; refused, naming the first sample."""
    semis = {k: 596523235.0 for k in range(61)}
    (a,) = tcx.decode(_activity("2020-06-01T10:00:00Z", _minute(semis)))
    with pytest.raises(ActivityError) as exc:
        a.validate()
    assert "latitude[0]" in str(exc.value)


def test_a_lap_start_hours_before_its_points_is_not_the_start():
    """A Garmin Dakota (Runalyze's Dakota.tcx) wrote Id and lap StartTime 07:21:53Z, its points
    from 13:29:31Z, and 1371 s of lap time. The lap cannot have begun more than all the laps' time
    before its first point: the run starts at its first point and lasts as its points say (60 s
    here, not 6 h)."""
    (a,) = tcx.decode(_activity("2020-06-01T04:00:00Z", _minute(), total_time=61))
    assert a.start == datetime(2020, 6, 1, 10, 0, tzinfo=UTC)
    assert a.channels["time"][0] == 0.0 and a.channels["time"][-1] == 60.0
    assert "lap_start_ignored" in a.extras
    assert analyse(a).summary.elapsed_time == 60.0


def test_a_timer_started_before_the_first_fix_still_starts_the_run():
    """The usual case the rule above must keep: the lap starts 20 s before the first point (the
    watch had no fix yet) and lasts 81 s: the run starts at the lap start, its first point at 20 s."""
    (a,) = tcx.decode(_activity("2020-06-01T09:59:40Z", _minute(), total_time=81))
    assert a.start == datetime(2020, 6, 1, 9, 59, 40, tzinfo=UTC)
    assert a.channels["time"][0] == 20.0 and "lap_start_ignored" not in a.extras


def test_an_indoor_rides_lap_distance_is_its_distance():
    """Polar Beat's indoor ride (Runalyze's Polar-one-lap-indoor-with-distance.tcx): heart rate in
    the points, 94 m only in the lap. The distance is the lap's; the average speed 94 m over the
    moving time (60 s of 1 s samples)."""
    points = [_point(f"2020-06-01T10:00:{k:02d}Z", hr=120 + k) for k in range(60)] + [
        _point("2020-06-01T10:01:00Z", hr=180)]
    (a,) = tcx.decode(_activity("2020-06-01T10:00:00Z", points, distance=94, sport="Biking"))
    s = analyse(a).summary
    assert s.distance == 94.0
    assert s.average_speed == pytest.approx(94.0 / s.moving_time)
    assert s.moving_time == 60.0


def test_points_with_their_own_distance_win_over_the_laps():
    """Where the points carry a track, the lap's total is not used (the track's geodesic length
    here, ~66.7 m for 60 x 1e-5 degree of latitude, not the lap's 5000 m)."""
    (a,) = tcx.decode(_activity("2020-06-01T10:00:00Z", _minute(), distance=5000))
    assert analyse(a).summary.distance == pytest.approx(66.7, abs=0.1)


def test_a_treadmill_fit_keeps_its_sessions_distance():
    """A FIT file whose records have heart rate only and whose session says 5 km (a treadmill
    without a foot pod): written by runhub's FIT writer, read back, analysed: 5000 m."""
    t = np.arange(0.0, 1501.0)
    a = Activity(start=datetime(2020, 6, 1, 10, 0, tzinfo=UTC), sport="running",
                 channels={"time": t, "heart_rate": np.full(len(t), 150.0)})
    a.summary.distance = 5000.0
    (back,) = fit.decode(fit.encode(a))
    assert "distance" not in back.channels and back.summary.distance == 5000.0
    s = analyse(back).summary
    assert s.distance == 5000.0 and s.average_speed == pytest.approx(5000.0 / 1500.0)


def test_a_file_refusal_still_names_the_file():
    """The quirks above are the only out-of-range values kept: an impossible date is still refused."""
    with pytest.raises(FormatError):
        tcx.decode(_activity("3000-01-01T00:00:00Z", [_point("3000-01-01T00:00:01Z", 50.0, 10.0)]))


def _gpx(trk_type: str | None = None, points: int = 3, wpt: bool = False) -> bytes:
    kind = f"<type>{trk_type}</type>" if trk_type else ""
    pts = "".join(f'<trkpt lat="{50 + k * 1e-4}" lon="10"><time>2020-06-01T10:00:{k:02d}Z</time></trkpt>'
                  for k in range(points))
    trk = f"<trk>{kind}<trkseg>{pts}</trkseg></trk>" if points else ""
    places = '<wpt lat="50" lon="10"><name>Hut</name></wpt>' if wpt else ""
    return ('<?xml version="1.0"?><gpx version="1.1" creator="x" xmlns="http://www.topografix.com/GPX/1/1">'
            f"{places}{trk}</gpx>").encode()


@pytest.mark.parametrize(("trk_type", "sport"), [
    ("16", "swimming"),  # a Strava swim's GPX (sports-lib's 4623204522-1.gpx, "Morning Swim")
    ("9", "running"),
    ("road_biking", "cycling.road"),  # Garmin Connect
    ("mountain biking", "cycling.mountainbike"),  # OpenTracks
    ("racebike", "cycling.road"),  # Komoot
    ("open_water_swimming", "swimming.open_water"),
    ("Running", "running"),
    ("unheard of", "generic"),
])
def test_a_gpx_track_type_names_its_sport(trk_type, sport):
    (a,) = gpx.decode(_gpx(trk_type))
    assert a.sport == sport


def test_a_gpx_of_waypoints_only_is_not_an_activity():
    """Saved places, no track: skipped with what the file is, as a route is; no track and no
    places at all is a broken file."""
    with pytest.raises(NotAnActivity) as exc:
        gpx.decode(_gpx(points=0, wpt=True))
    assert "waypoints" in str(exc.value)
    with pytest.raises(FormatError) as exc:
        gpx.decode(_gpx(points=0))
    assert not isinstance(exc.value, NotAnActivity) and "no track points" in str(exc.value)


def test_tracks_years_apart_in_one_gpx_are_refused_saying_so():
    """Two tracks six years apart (phpGPX's timezero.gpx): no single activity; the refusal says how
    far apart and where, not a number of seconds out of a range."""
    doc = _gpx(points=2).replace(
        b"</trk>", b'</trk><trk><trkseg><trkpt lat="50" lon="10"><time>2026-06-01T10:00:00Z</time></trkpt>'
                   b"</trkseg></trk>")
    (a,) = gpx.decode(doc)
    with pytest.raises(ActivityError) as exc:
        a.validate()
    assert "2191 days after the first sample" in str(exc.value) and "time[2]" in str(exc.value)


def test_a_null_island_point_is_no_fix_not_a_trip_to_the_equator():
    """0/0 written for a point without a fix (phone apps do): as a position it put 2 x 5,570 km
    into a 10 s run. It is missing; the run measures its 9 steps of 1e-4 degree of latitude (~11.1 m
    each, less the one step the missing point spans being measured fix to fix: the same line)."""
    doc = _gpx(points=10).replace(b'<trkpt lat="50.0005" lon="10">', b'<trkpt lat="0" lon="0">')
    (a,) = gpx.decode(doc)
    a.validate()
    assert np.isnan(a.channels["latitude"][5]) and a.extras["masked_samples"] == {"latitude": 1, "longitude": 1}
    assert analyse(a).summary.distance == pytest.approx(9 * 11.12, rel=0.01)
    all_zero = _gpx(points=10)
    for k in range(10):
        all_zero = all_zero.replace(f'lat="{50 + k * 1e-4}" lon="10"'.encode(), b'lat="0" lon="0"')
    (b,) = gpx.decode(all_zero)  # an indoor run an app wrote with 0/0 everywhere: no track at all
    assert "latitude" not in b.channels and b.extras["masked_samples"]["latitude"] == 10


def test_opentracks_legacy_pause_markers_give_the_apps_timer():
    """OpenTracks before v4.18 wrote a pause as a point at lat=100 and a resume at lat=200, each at
    the time it happened (its test file legacy_gpx_pause_resume.gpx, these times). The timer ran
    59.179 -> 02.658 (3.479 s) and 03.873 -> 04.103 (0.230 s): 3.709 s, not the 1.831 s the
    samples around the pause give; the elapsed time is 4.924 s."""
    def point(lat: str, when: str) -> str:
        return f'<trkpt lat="{lat}" lon="14"><time>2021-01-07T21:5{when}Z</time></trkpt>'

    pts = "".join(point(lat, when) for lat, when in (
        ("3", "1:59.179"), ("3.001", "2:00.653"), ("3.002", "2:01.010"), ("100", "2:02.658"),
        ("200", "2:03.873"), ("3.003", "2:04.103")))
    doc = ('<?xml version="1.0"?><gpx version="1.1" creator="OpenTracks" xmlns="http://www.topografix.com/GPX/1/1">'
           f"<trk><trkseg>{pts}</trkseg></trk></gpx>").encode()
    (a,) = gpx.decode(doc)
    s = analyse(a).summary
    assert a.pauses == [3] and a.extras["pause_source"] == "opentracks pause markers"
    assert s.timer_time == pytest.approx(3.709, abs=1e-6) and s.elapsed_time == pytest.approx(4.924, abs=1e-6)


def test_a_lap_without_points_after_a_wrong_lap_clock_is_no_negative_lap():
    """The Dakota's wrong clock in a file whose first lap has no points (a rest before the ride):
    that lap is not placed hours before the run (a negative end refused the whole file); its
    time is kept in the timer basis, and the run is read."""
    rest = ('<Lap StartTime="2020-06-01T04:00:00Z"><TotalTimeSeconds>30</TotalTimeSeconds><Calories>1</Calories>'
            "<Intensity>Resting</Intensity><TriggerMethod>Manual</TriggerMethod></Lap>")
    doc = _activity("2020-06-01T04:00:30Z", _minute(), total_time=61).replace(
        b'<Lap StartTime="2020-06-01T04:00:30Z">', rest.encode() + b'<Lap StartTime="2020-06-01T04:00:30Z">')
    (a,) = tcx.decode(doc)
    a.validate()
    assert a.start == datetime(2020, 6, 1, 10, 0, tzinfo=UTC) and "lap_start_ignored" in a.extras
    assert all(lap.end_time is None or lap.end_time >= 0 for lap in a.laps)
    assert a.laps[-1].end_timer == 91.0


def test_a_sensor_the_app_did_not_have_is_no_channel():
    """sportractive writes <power>0</power> and <cadence>0</cadence> in every point of a run
    (Runalyze's hr-not-always-there.gpx): no reading, so no channel (a 0 W average before); one
    real zero among readings stays."""
    ext = "<extensions><power>{p}</power><gpxtpx:TrackPointExtension><gpxtpx:cad>{c}</gpxtpx:cad>" \
          "</gpxtpx:TrackPointExtension></extensions>"

    def doc(power: list[int], cad: list[int]) -> bytes:
        pts = "".join(f'<trkpt lat="{50 + k * 1e-4}" lon="10"><time>2020-06-01T10:00:{k:02d}Z</time>'
                      + ext.format(p=p, c=c) + "</trkpt>" for k, (p, c) in enumerate(zip(power, cad, strict=True)))
        return ('<?xml version="1.0"?><gpx version="1.1" creator="x" xmlns="http://www.topografix.com/GPX/1/1" '
                'xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1">'
                f"<trk><trkseg>{pts}</trkseg></trk></gpx>").encode()

    (a,) = gpx.decode(doc([0] * 5, [0] * 5))
    assert "power" not in a.channels and "cadence" not in a.channels
    assert a.extras["all_zero_channels_left_out"] == ["power", "cadence"]
    assert analyse(a).summary.power_average is None
    (b,) = gpx.decode(doc([0, 200, 210, 0, 190], [0] * 5))
    assert b.channels["power"].tolist() == [0, 200, 210, 0, 190] and "cadence" not in b.channels


def test_a_receiver_jump_is_no_distance_run_and_stays_in_the_track():
    """A fix 0.03 deg (2.2 km) east for one second in a run (the sweep's GPX files had such
    points): the run measures its 19 steps of 1e-4 degree of latitude (~11.12 m each at 50 N), not
    2 x 2.2 km more. The position stays as recorded, and the file says what was left out. A GPX
    that names no sport has no speed bound: its jump is a distance run."""
    doc = _gpx("9", points=20).replace(b'<trkpt lat="50.001" lon="10">', b'<trkpt lat="50.001" lon="10.03">')
    (a,) = gpx.decode(doc)
    a.validate()
    assert a.channels["longitude"][10] == 10.03
    assert a.extras["gps_jumps_left_out"]["count"] == 1
    summary = analyse(a).summary
    assert summary.distance == pytest.approx(19 * 11.12, rel=0.01)
    # the two seconds bridged around the jump are run at the line's speed, not twice it at once
    assert summary.max_speed == pytest.approx(11.12, rel=0.01)
    (b,) = gpx.decode(doc.replace(b"<type>9</type>", b""))
    assert b.sport == "generic" and "gps_jumps_left_out" not in b.extras
    assert analyse(b).summary.distance > 4000


def test_a_real_ride_with_a_jump_put_in_keeps_the_devices_distance(corpus):
    """Strava's GPX of a 2.3 h ride whose FIT is in the corpus (sweatpy 4078723797): its distance
    along the track agrees with the Edge 1000's own session total (57,567.24 m, reference/
    fit_sessions.json) within 0.5 %. A fix put 0.07 deg (5 km) east halfway changes nothing there:
    a ride's bound is 40 m/s, the step took a second."""
    data = (corpus / "gpx" / "sweatpy_4078723797_strava.gpx").read_bytes()
    at = data.index(b"<trkpt ", len(data) // 2)
    lon_at = data.index(b'lon="', at) + 5
    end = data.index(b'"', lon_at)
    jumped = data[:lon_at] + str(float(data[lon_at:end]) + 0.07).encode() + data[end:]
    (a,) = gpx.decode(jumped)
    assert a.extras["gps_jumps_left_out"]["count"] == 1
    assert analyse(a).summary.distance == pytest.approx(57567.24, rel=0.005)


def test_a_dropout_in_a_tcx_without_distances_is_no_burst_of_speed():
    """30 s of points without a position (a tunnel) in a TCX without distances, on a line run at
    1.112 m/s: the distance across the dropout is placed along it in time, so the max speed (a
    3 s average) is the line's, not 30 steps' distance in one second (~11.9 m/s)."""
    points = [_point(f"2020-06-01T10:{k // 60:02d}:{k % 60:02d}Z", *((None, None) if 20 <= k < 50 else
                                                                    (50.0 + k * 1e-5, 10.0)), hr=140)
              for k in range(61)]
    (a,) = tcx.decode(_activity("2020-06-01T10:00:00Z", points))
    a.validate()
    summary = analyse(a).summary
    assert summary.distance == pytest.approx(60 * 1.112, rel=0.01)
    assert summary.max_speed == pytest.approx(1.112, rel=0.01)


def test_a_receiver_jump_in_a_tcx_without_distances_is_no_distance_run():
    """TCX points with positions and no DistanceMeters: the distance along the track is the
    analysis's (analysis.geo), with the same jump rule: 60 steps of 1e-5 deg of latitude (~1.112 m
    each at 50 N), not 2 x 2.1 km more for the point put 0.03 deg east."""
    points = _minute()
    points[30] = _point("2020-06-01T10:00:30Z", 50.0 + 30 * 1e-5, 10.03)
    (a,) = tcx.decode(_activity("2020-06-01T10:00:00Z", points))
    a.validate()
    assert "distance" not in a.channels
    assert analyse(a).summary.distance == pytest.approx(60 * 1.112, rel=0.01)


# GPX+ laps as MyTourbook and the JPX library's documentation write them (ClueTrust's GPXDATA 1.0)
GPX_DATA_LAPS = ('<?xml version="1.0"?><gpx version="1.1" creator="x" xmlns="http://www.topografix.com/GPX/1/1" '
                 'xmlns:gpxdata="http://www.cluetrust.com/XML/GPXDATA/1/0"><trk><type>9</type><trkseg>'
                 + "".join(f'<trkpt lat="{50 + k * 1e-4:.4f}" lon="10"><time>2020-06-01T10:00:{k:02d}Z</time></trkpt>'
                           for k in range(30))
                 + "</trkseg></trk><extensions>"
                 "<gpxdata:lap><gpxdata:index>1</gpxdata:index>"
                 '<gpxdata:startPoint lat="50" lon="10"/><gpxdata:endPoint lat="50.0012" lon="10"/>'
                 "<gpxdata:startTime>2020-06-01T10:00:00Z</gpxdata:startTime>"
                 "<gpxdata:elapsedTime>12.5000000</gpxdata:elapsedTime><gpxdata:calories>3</gpxdata:calories>"
                 "<gpxdata:distance>133.4</gpxdata:distance>"
                 '<gpxdata:summary name="AverageHeartRateBpm" kind="avg">141</gpxdata:summary>'
                 '<gpxdata:trigger kind="manual"/><gpxdata:intensity>active</gpxdata:intensity></gpxdata:lap>'
                 "<gpxdata:lap><gpxdata:index>2</gpxdata:index>"
                 "<gpxdata:startTime>2020-06-01T10:00:12.500Z</gpxdata:startTime>"
                 "<gpxdata:elapsedTime>16.5</gpxdata:elapsedTime><gpxdata:distance>180</gpxdata:distance>"
                 '<gpxdata:trigger kind="distance"/><gpxdata:intensity>rest</gpxdata:intensity></gpxdata:lap>'
                 "<gpxdata:lap><gpxdata:index>3</gpxdata:index><gpxdata:distance>5</gpxdata:distance></gpxdata:lap>"
                 "</extensions></gpx>").encode()


def test_gpx_plus_laps_are_the_activitys_laps():
    """Each GPX+ lap ends at its start plus its elapsed time (12.5 s, then 12.5 + 16.5 = 29 s, the
    last point), at the last point by then (12 and 29); distances add up (133.4, 313.4 m); a lap
    without a start cannot be placed and is said; the file's lap totals are kept."""
    (a,) = gpx.decode(GPX_DATA_LAPS)
    a.validate()
    assert [(lap.end_time, lap.end_index, lap.end_distance) for lap in a.laps] == [(12.5, 12, 133.4), (29.0, 29, 313.4)]
    assert [(lap.lap_type, lap.trigger) for lap in a.laps] == [("work", "manual"), ("recovery", "distance")]
    assert a.laps[0].totals["summary"] == {"AverageHeartRateBpm": 141.0} and a.laps[0].totals["calories"] == 3.0
    assert a.extras["gpx_laps_unplaced"] == 1
    # a runhub export of the run carries them back
    (b,) = gpx.decode(gpx.encode(a))
    assert [(lap.end_time, lap.end_index, lap.end_distance, lap.lap_type, lap.trigger) for lap in b.laps] == [
        (lap.end_time, lap.end_index, lap.end_distance, lap.lap_type, lap.trigger) for lap in a.laps]



# ClueTrust's gpxdata10.xsd: intensityKind is "rest" or "active"; triggerKind (the kind attribute)
# is "manual", "time", "distance", "location" or "hr"
SCHEMA_INTENSITIES = {"rest", "active"}
SCHEMA_TRIGGERS = {"manual", "time", "distance", "location", "hr"}


def test_gpx_plus_laps_are_written_in_the_schemas_words_and_read_in_others():
    """runhub writes GPX+ lap intensities and triggers as the schema names them (a recovery lap is
    "rest", a heart-rate trigger "hr"), and reads what converters from TCX write too: "resting",
    the kind as the element's text, TCX's TriggerMethod lower-cased ("heartrate")."""
    (a,) = gpx.decode(GPX_DATA_LAPS)
    a.laps[0].trigger, a.laps[1].trigger = "heart_rate", "position"
    out = gpx.encode(a)
    root = etree.fromstring(out)
    ns = {"d": "http://www.cluetrust.com/XML/GPXDATA/1/0"}
    intensities = [x.text for x in root.iterfind(".//d:lap/d:intensity", ns)]
    kinds = [x.get("kind") for x in root.iterfind(".//d:lap/d:trigger", ns)]
    assert intensities == ["active", "rest"] and set(intensities) <= SCHEMA_INTENSITIES
    assert kinds == ["hr", "location"] and set(kinds) <= SCHEMA_TRIGGERS
    (b,) = gpx.decode(out)
    assert [(lap.lap_type, lap.trigger) for lap in b.laps] == [("work", "heart_rate"), ("recovery", "position")]
    as_text = b"<gpxdata:trigger>HeartRate</gpxdata:trigger>"
    converted = GPX_DATA_LAPS.replace(b'<gpxdata:trigger kind="manual"/>', as_text).replace(b">rest<", b">resting<")
    (c,) = gpx.decode(converted)
    assert [(lap.lap_type, lap.trigger) for lap in c.laps] == [("work", "heart_rate"), ("recovery", "distance")]


@pytest.mark.parametrize("start, elapsed", [
    ("1999-01-01T00:00:00Z", "16.5"),  # a lap clock of another day
    ("2020-06-01T10:00:12.500Z", "1e308"),  # a lap ending past any recording
    ("2020-06-01T10:00:12.500Z", "-5"),
])
def test_a_gpx_plus_lap_off_the_recording_is_unplaced_not_a_refusal(start, elapsed):
    """A lap is the file's annotation: one that cannot lie in the recording is left out, and said,
    and the run imports (a lap end of 1e308 s was a refusal of the whole file)."""
    lap = f"<gpxdata:elapsedTime>{elapsed}</gpxdata:elapsedTime>".encode()
    doc = GPX_DATA_LAPS.replace(b"2020-06-01T10:00:12.500Z", start.encode()).replace(
        b"<gpxdata:elapsedTime>16.5</gpxdata:elapsedTime>", lap)
    (a,) = gpx.decode(doc)
    a.validate()
    assert [lap.end_time for lap in a.laps] == [12.5] and a.extras["gpx_laps_unplaced"] == 2


FRACTIONAL = ("2020-06-01T10:00:00Z", "2020-06-01T10:00:01.1Z", "2020-06-01T10:00:02.3Z", "2020-06-01T10:00:03.456789Z",
              "2020-06-01T10:00:04.7Z")


def test_sub_second_times_are_the_clock_the_file_wrote():
    """A file's times to the tenth or the microsecond are its clock exactly: 1.1 s after the start
    is the float64 nearest 1.1 (what Python reads "1.1" as, and what a CSV's timestamp 10:00:01.1
    gives), not the difference of two times of day parsed to float64 (off by up to ~1e-7 s at
    1.6e9 s). A CSV export therefore reads back to the same bits."""
    expected = [0.0, 1.1, 2.3, 3.456789, 4.7]
    (a,) = tcx.decode(_activity(FRACTIONAL[0], [_point(t, 50.0 + k * 1e-5, 10.0) for k, t in enumerate(FRACTIONAL)]))
    gpx_doc = ('<gpx version="1.1" creator="x" xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>'
               + "".join(f'<trkpt lat="{50 + k * 1e-5}" lon="10"><time>{t}</time></trkpt>'
                         for k, t in enumerate(FRACTIONAL))
               + "</trkseg></trk></gpx>").encode()
    (b,) = gpx.decode(gpx_doc)
    for act in (a, b):
        assert act.channels["time"].tolist() == expected
        (back,) = formats.decode(formats.encode(act, "csv"), filename="x.csv", sport="running")
        assert back.channels["time"].tolist() == expected
