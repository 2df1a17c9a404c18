"""Apple Health's export, as a runner leaving an Apple Watch brings it: `runhub import` of the
export's folder reads each workout of export.xml as an activity, with its route (the GPX its
FileReference names) and the heart rate and distance the watch recorded during it, each sample at
its own time; the route files are not imported again on their own. The export here is written
as the Health app writes it (the DOCTYPE's internal subset, Records with MetadataEntry children,
Workouts with metadata, events (pauses, segments), statistics and a WorkoutRoute; routes with Apple's extensions);
every expected value below is read off the numbers written into it."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from runhub.formats import apple_health
from runhub.ingest import ingest_bytes, ingest_paths
from runhub.store import activities as repo
from tests.conftest import make_user
from tests.core.test_import_sources import CLI, stored_count

WATCH = "Ann’s Apple Watch"
PHONE = "Ann’s iPhone"
DTD = ("<!DOCTYPE HealthData [\n<!-- HealthKit Export Version: 13 -->\n"
       "<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary|ClinicalRecord)*)>\n"
       "<!ATTLIST Record type CDATA #REQUIRED unit CDATA #IMPLIED value CDATA #IMPLIED>\n]>\n")
ROUTE = "/workout-routes/route_2024-04-04_6.30am.gpx"


def hr(when: str, value: float, source: str = WATCH) -> str:
    return (f'<Record type="HKQuantityTypeIdentifierHeartRate" sourceName="{source}" sourceVersion="10.4" '
            f'unit="count/min" creationDate="2024-04-04 06:40:00 +0200" startDate="{when}" endDate="{when}" '
            f'value="{value}">\n  <MetadataEntry key="HKMetadataKeyHeartRateMotionContext" value="2"/>\n </Record>')


def distance(start: str, end: str, km: str, source: str = WATCH) -> str:
    return (f'<Record type="HKQuantityTypeIdentifierDistanceWalkingRunning" sourceName="{source}" unit="km" '
            f'creationDate="{end}" startDate="{start}" endDate="{end}" value="{km}"/>')


def power(when: str, value: str, unit: str = "W") -> str:
    return (f'<Record type="HKQuantityTypeIdentifierRunningPower" sourceName="{WATCH}" unit="{unit}" '
            f'creationDate="{when}" startDate="{when}" endDate="{when}" value="{value}"/>')


def workout(kind: str, start: str, end: str, minutes: str, body: str = "", source: str = WATCH, **attrs: str) -> str:
    extra = "".join(f' {k}="{v}"' for k, v in attrs.items())
    return (f'<Workout workoutActivityType="HKWorkoutActivityType{kind}" duration="{minutes}" durationUnit="min"'
            f'{extra} sourceName="{source}" sourceVersion="10.4" '
            f'device="&lt;&lt;HKDevice: 0x283bc8f00&gt;, name:Apple Watch, hardware:Watch6,2&gt;" '
            f'creationDate="{end}" startDate="{start}" endDate="{end}">\n{body} </Workout>')


RUN = workout(
    "Running", "2024-04-04 06:30:00 +0200", "2024-04-04 06:30:30 +0200", "0.4",
    '  <MetadataEntry key="HKIndoorWorkout" value="0"/>\n'
    '  <MetadataEntry key="HKTimeZone" value="Europe/Amsterdam"/>\n'
    '  <MetadataEntry key="HKElevationAscended" value="50 cm"/>\n'
    '  <WorkoutEvent type="HKWorkoutEventTypePause" date="2024-04-04 06:30:12 +0200"/>\n'
    '  <WorkoutEvent type="HKWorkoutEventTypeResume" date="2024-04-04 06:30:18 +0200"/>\n'
    # two segments the runner marked: 0-12 s and 12-24 s (0.2 min each)
    '  <WorkoutEvent type="HKWorkoutEventTypeSegment" date="2024-04-04 06:30:00 +0200" duration="0.2" '
    'durationUnit="min"/>\n'
    '  <WorkoutEvent type="HKWorkoutEventTypeSegment" date="2024-04-04 06:30:12 +0200" duration="0.2" '
    'durationUnit="min"/>\n'
    '  <WorkoutStatistics type="HKQuantityTypeIdentifierHeartRate" startDate="2024-04-04 06:30:00 +0200" '
    'endDate="2024-04-04 06:30:30 +0200" average="130" minimum="120" maximum="140" unit="count/min"/>\n'
    f'  <WorkoutRoute sourceName="{WATCH}" creationDate="2024-04-04 06:31:00 +0200">\n'
    f'   <FileReference path="{ROUTE}"/>\n  </WorkoutRoute>\n',
    totalDistance="0.061", totalDistanceUnit="km", totalEnergyBurned="5", totalEnergyBurnedUnit="kcal",
)
# a treadmill run in the evening: no route, no time zone named (the dates' offset is the phone's)
TREADMILL = workout(
    "Running", "2024-04-04 19:00:00 +0200", "2024-04-04 19:00:20 +0200", "0.3333333333",
    '  <MetadataEntry key="HKIndoorWorkout" value="1"/>\n',
)
YOGA = workout("Yoga", "2024-04-05 07:00:00 +0200", "2024-04-05 07:30:00 +0200", "30")
POOL = workout("Swimming", "2024-04-06 07:00:00 +0200", "2024-04-06 07:40:00 +0200", "38",
               '  <MetadataEntry key="HKSwimmingLocationType" value="1"/>\n'
               '  <MetadataEntry key="HKLapLength" value="25 m"/>\n',
               totalDistance="1500", totalDistanceUnit="m")
RECORDS = [
    hr("2024-04-04 06:29:00 +0200", 70),  # before the run
    hr("2024-04-04 06:30:05 +0200", 120),
    hr("2024-04-04 06:30:10 +0200", 130),
    hr("2024-04-04 06:30:10 +0200", 99, PHONE),  # another source's: the watch's are the run's
    hr("2024-04-04 06:30:25 +0200", 140),
    hr("2024-04-04 06:31:00 +0200", 90),  # after it
    distance("2024-04-04 06:30:00 +0200", "2024-04-04 06:30:10 +0200", "0.030"),
    distance("2024-04-04 06:30:10 +0200", "2024-04-04 06:30:20 +0200", "0.031"),
    power("2024-04-04 06:30:05 +0200", "250"),
    power("2024-04-04 06:30:15 +0200", "0.3", "kW"),  # not the unit Apple writes: left out
    power("2024-04-04 06:30:25 +0200", "260"),
    hr("2024-04-04 06:30:20 +0200", 300),  # no heart beats so: missing, as every decoder masks it
    distance("2024-04-04 06:30:20 +0200", "2024-04-04 06:30:25 +0200", "-0.01"),  # no distance is negative
    hr("2024-04-04 19:00:02 +0200", 100),
    hr("2024-04-04 19:00:12 +0200", 110),
    distance("2024-04-04 19:00:00 +0200", "2024-04-04 19:00:20 +0200", "0.05"),
]


def route_gpx() -> str:
    """Six points, 4 s apart from 04:30:00Z (06:30 in Amsterdam), as Apple writes a route."""
    pts = "".join(
        f'<trkpt lon="4.{k:04d}" lat="52.0000"><ele>1.{k}</ele><time>2024-04-04T04:30:{k * 4:02d}Z</time>'
        f"<extensions><speed>3.{k}</speed><course>90</course><hAcc>4</hAcc><vAcc>3</vAcc></extensions></trkpt>"
        for k in range(6))
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" creator="Apple Health Export" '
            'xmlns="http://www.topografix.com/GPX/1/1"><metadata><time>2024-04-05T06:00:00Z</time></metadata>'
            f"<trk><name>Route 2024-04-04 6:30am</name><trkseg>{pts}</trkseg></trk></gpx>")


def export_folder(tmp_path: Path, workouts: list[str], records: list[str] = RECORDS) -> Path:
    root = tmp_path / "apple_health_export"
    (root / "workout-routes").mkdir(parents=True)
    body = "\n ".join([*records, *workouts])
    (root / "export.xml").write_text(
        f'<?xml version="1.0" encoding="UTF-8"?>\n{DTD}<HealthData locale="en_NL">\n'
        f' <ExportDate value="2024-04-07 08:00:00 +0200"/>\n <Me HKCharacteristicTypeIdentifierBiologicalSex="x"/>\n'
        f" {body}\n</HealthData>\n", encoding="utf-8")
    (root / ROUTE.lstrip("/")).write_text(route_gpx(), encoding="utf-8")
    return root


def import_one(db, tmp_path: Path, workout_xml: str, records: list[str], prefix: str):
    """(its result, the stored activity) of an export of one workout."""
    root = export_folder(tmp_path, [workout_xml], records)
    uid, _ = make_user(db, prefix)
    (r,) = imported(db, uid, root)["export.xml"]
    with db.connect() as conn:
        return r, repo.load_activity(conn, r.activity_id, uid)


def imported(db, owner: int, root: Path, workers: int = 1) -> dict[str, list]:
    paths = sorted(p for p in root.rglob("*") if p.is_file())
    return {p.name: rs for p, rs in ingest_paths(db, owner, paths, client_id=CLI, workers=workers)}


def test_each_workout_is_an_activity_with_its_route_and_its_heart_rate(db, tmp_path):
    root = export_folder(tmp_path, [RUN, TREADMILL, YOGA, POOL])
    uid, _ = make_user(db, "apple")
    results = imported(db, uid, root)
    assert [r.status for r in results["export.xml"]] == ["created"] * 4
    (route,) = results[Path(ROUTE).name]
    assert route.status == "skipped" and "imported with its workout" in route.error
    assert stored_count(db, uid) == 4
    with db.connect() as conn:
        run, treadmill, yoga, pool = (repo.load_activity(conn, r.activity_id, uid) for r in results["export.xml"])
        original = repo.load_original(conn, results["export.xml"][0].activity_id)

    # the run: the route's points every 4 s, heart rate at 5, 10 and 25 s, the distance records'
    # ends at 10 and 20 s (and the first one's start, 0 m, at 0 s), on one time axis
    assert run.start == datetime(2024, 4, 4, 4, 30, tzinfo=UTC)
    assert (run.sport, run.timezone, run.utc_offset) == ("running", "Europe/Amsterdam", 7200)
    ch = run.channels
    assert ch["time"].tolist() == [0, 4, 5, 8, 10, 12, 16, 20, 25]
    nan = math.nan
    assert np.array_equal(ch["heart_rate"], [nan, nan, 120, nan, 130, nan, nan, nan, 140], equal_nan=True)
    assert np.array_equal(ch["distance"], [0, nan, nan, nan, 30, nan, nan, 61, nan], equal_nan=True)
    assert np.array_equal(ch["power"], [nan, nan, 250, nan, nan, nan, nan, nan, 260], equal_nan=True)
    assert np.array_equal(ch["latitude"], [52, 52, nan, 52, nan, 52, 52, 52, nan], equal_nan=True)
    assert np.array_equal(ch["longitude"], [4, 4.0001, nan, 4.0002, nan, 4.0003, 4.0004, 4.0005, nan],
                          equal_nan=True)
    assert np.array_equal(ch["altitude"], [1.0, 1.1, nan, 1.2, nan, 1.3, 1.4, 1.5, nan], equal_nan=True)
    assert np.array_equal(ch["speed"], [3.0, 3.1, nan, 3.2, nan, 3.3, 3.4, 3.5, nan], equal_nan=True)
    assert run.extras["masked_samples"] == {"heart_rate": 1}
    assert run.pauses == [7]  # resumed at 18 s: the next sample is the one at 20 s
    # paused from 12 to 18 s: the sample at 16 s is one the watch took while paused
    assert ch["timer"].tolist() == [0, 4, 5, 8, 10, 12, 12, 14, 19]
    assert run.summary.timer_time == 19 and run.summary.elapsed_time == 25
    # laps end with the segments, at 12 s (the sample at 12 s, index 5) and 24 s (at 20 s, index
    # 7), and the last with the run (25 s, index 8)
    assert [(lap.end_time, lap.end_index, lap.trigger) for lap in run.laps] == [
        (12, 5, "manual"), (24, 7, "manual"), (25, 8, "session_end")]
    assert [lap.lap_type for lap in run.laps] == ["general"] * 3
    assert run.summary.distance == pytest.approx(61.0)
    assert (run.summary.heart_rate_min, run.summary.heart_rate_max) == (120, 140)
    assert (run.device_name, run.app_version, run.calories) == (WATCH, "10.4", 5)
    ds = run.device_summary
    assert (ds["duration"], ds["totalDistance"], ds["HeartRate"]["average"]) == ("0.4", "0.061", "130")
    assert ds["elevation_gain_m"] == pytest.approx(0.5)
    # the original: the workout's element, byte for byte as export.xml holds it
    assert original[0] == RUN.encode() and original[1] == "xml"

    # the treadmill run: heart rate and distance, no position; the dates' own offset (+02:00)
    assert (treadmill.sport, treadmill.utc_offset, treadmill.has_gps) == ("running.treadmill", 7200, False)
    assert treadmill.start == datetime(2024, 4, 4, 17, 0, tzinfo=UTC)
    assert treadmill.channels["time"].tolist() == [0, 2, 12, 20]
    assert np.array_equal(treadmill.channels["heart_rate"], [nan, 100, 110, nan], equal_nan=True)
    assert np.array_equal(treadmill.channels["distance"], [0, nan, nan, 50], equal_nan=True)

    # yoga: no samples at all; the workout's own totals
    assert (yoga.sport, yoga.has_streams) == ("generic", False)
    assert (yoga.summary.timer_time, yoga.summary.elapsed_time) == (1800, 1800)
    assert yoga.start == datetime(2024, 4, 5, 5, 0, tzinfo=UTC)
    # a pool swim, its distance as Apple summed it
    assert (pool.sport, pool.summary.distance, pool.summary.timer_time) == ("swimming.pool", 1500, 38 * 60)


def test_a_time_zone_that_names_no_zone_leaves_the_dates_offset(db, tmp_path):
    """HKTimeZone "Europe" (a folder of the zone database: zoneinfo raised IsADirectoryError, not
    ZoneInfoNotFoundError, and the whole export failed; found by a mutation fuzz), or 300
    characters (OSError): the workout imports with the offset its dates carry, as when the export
    names no zone."""
    for bad in ("Europe", "x" * 300):
        r, a = import_one(db, tmp_path / bad[:10], RUN.replace("Europe/Amsterdam", bad), RECORDS, "apple-zone")
        assert r.status == "created" and a.timezone != bad and a.utc_offset == 7200, (bad, r.error)


def test_an_energy_total_no_body_burns_is_dropped_not_the_workout(db, tmp_path):
    """totalEnergyBurned="5000000" kcal (a unit mix-up in an app that wrote it): the run imports,
    calories unknown, and the stored activity says why."""
    bad = RUN.replace('totalEnergyBurned="5"', 'totalEnergyBurned="5000000"')
    r, a = import_one(db, tmp_path, bad, RECORDS, "apple-kcal")
    assert r.status == "created" and a.calories is None, r.error
    assert "5000000" in a.extras["calories_dropped"]


def test_an_apps_workout_takes_the_watchs_heart_rate_and_one_sources_distance(db, tmp_path):
    """A workout an app on the phone wrote (iOS 16 layout: its totals only in WorkoutStatistics):
    it has no records of its own, so the heart rate is the watch's, and the distance is the records
    of one source, the one with the most there (the phone's three, not the watch's one): mixed,
    they would add up to 200 m for a run of 100 m."""
    app_run = workout(
        "Running", "2024-04-07 08:00:00 +0200", "2024-04-07 08:00:30 +0200", "0.5",
        '  <WorkoutStatistics type="HKQuantityTypeIdentifierDistanceWalkingRunning" sum="0.1" unit="km"/>\n'
        '  <WorkoutStatistics type="HKQuantityTypeIdentifierActiveEnergyBurned" sum="12" unit="kcal"/>\n'
        # iOS 16's WorkoutActivity: a part's own metadata and statistics, not the workout's
        '  <WorkoutActivity uuid="A1" startDate="2024-04-07 08:00:00 +0200" endDate="2024-04-07 08:00:30 +0200">\n'
        '   <MetadataEntry key="HKIndoorWorkout" value="1"/>\n'
        '   <WorkoutStatistics type="HKQuantityTypeIdentifierDistanceWalkingRunning" sum="5" unit="km"/>\n'
        '  </WorkoutActivity>\n',
        source="Strava")
    records = [
        hr("2024-04-07 08:00:05 +0200", 150), hr("2024-04-07 08:00:15 +0200", 155),
        distance("2024-04-07 08:00:00 +0200", "2024-04-07 08:00:10 +0200", "0.03", PHONE),
        distance("2024-04-07 08:00:10 +0200", "2024-04-07 08:00:20 +0200", "0.03", PHONE),
        distance("2024-04-07 08:00:20 +0200", "2024-04-07 08:00:30 +0200", "0.04", PHONE),
        distance("2024-04-07 08:00:00 +0200", "2024-04-07 08:00:30 +0200", "0.1"),
    ]
    _, run = import_one(db, tmp_path, app_run, records, "apple-app")
    nan = math.nan
    assert run.channels["time"].tolist() == [0, 5, 10, 15, 20, 30]
    assert np.array_equal(run.channels["heart_rate"], [nan, 150, nan, 155, nan, nan], equal_nan=True)
    assert np.allclose(run.channels["distance"], [0, nan, 30, nan, 60, 100], equal_nan=True)
    assert (run.device_name, run.calories, run.summary.distance) == ("Strava", 12, pytest.approx(100))
    assert run.sport == "running" and run.device_summary["DistanceWalkingRunning"]["sum"] == "0.1"


def record(kind: str, start: str, value: str, unit: str, end: str | None = None, source: str = WATCH) -> str:
    return (f'<Record type="HKQuantityTypeIdentifier{kind}" sourceName="{source}" unit="{unit}" '
            f'creationDate="{end or start}" startDate="{start}" endDate="{end or start}" value="{value}"/>')


def test_a_runs_running_dynamics_and_its_cadence_from_the_step_counts(db, tmp_path):
    """The watch's running speed, stride length, vertical oscillation and ground contact time, in
    the units a locale writes them (km/hr, m/s, mi/hr; m, cm), under FIT's names and units (mm,
    ms), a value in a unit no locale writes left out; the cadence from the step counts, each
    record's steps over its interval as one leg's strides a minute (60 steps in 20 s: 90), the
    phone's count of the same minute not mixed in, an instant's count (no interval) left out. A
    run with a route keeps the GPS's speed. Before, a runner's Apple Watch run came without any of
    them."""
    day = "2024-04-08 07:00:"
    dyn = workout("Running", f"{day}00 +0200", "2024-04-08 07:01:00 +0200", "1")
    records = [
        *RECORDS,
        record("RunningSpeed", "2024-04-04 06:30:07 +0200", "9", "km/hr"),  # during the run with a route
        record("RunningSpeed", f"{day}10 +0200", "10.8", "km/hr"),
        record("RunningSpeed", f"{day}20 +0200", "3.1", "m/s"),
        record("RunningSpeed", f"{day}30 +0200", "7", "mi/hr"),
        record("RunningStrideLength", f"{day}10 +0200", "1.1", "m"),
        record("RunningStrideLength", f"{day}20 +0200", "112", "cm"),
        record("RunningVerticalOscillation", f"{day}10 +0200", "8.5", "cm"),
        record("RunningGroundContactTime", f"{day}10 +0200", "250", "ms"),
        record("RunningGroundContactTime", f"{day}25 +0200", "0.26", "furlong"),
        record("StepCount", f"{day}00 +0200", "60", "count", end=f"{day}20 +0200"),
        record("StepCount", f"{day}20 +0200", "87", "count", end=f"{day}50 +0200"),
        record("StepCount", f"{day}55 +0200", "3", "count"),
        record("StepCount", f"{day}00 +0200", "500", "count", end="2024-04-08 07:01:00 +0200", source=PHONE),
    ]
    root = export_folder(tmp_path, [RUN, dyn], records)
    uid, _ = make_user(db, "apple-dynamics")
    run_result, dyn_result = imported(db, uid, root)["export.xml"]
    with db.connect() as conn:
        run = repo.load_activity(conn, run_result.activity_id, uid)
        a = repo.load_activity(conn, dyn_result.activity_id, uid)
    assert run.channels["time"].tolist() == [0, 4, 5, 8, 10, 12, 16, 20, 25]  # no sample at 7 s
    assert np.array_equal(run.channels["speed"], [3.0, 3.1, math.nan, 3.2, math.nan, 3.3, 3.4, 3.5, math.nan],
                          equal_nan=True)

    nan = math.nan
    assert a.start == datetime(2024, 4, 8, 5, 0, 10, tzinfo=UTC)  # its first sample
    ch = a.channels
    assert ch["time"].tolist() == [0, 10, 20, 40]
    assert np.allclose(ch["speed"], [3.0, 3.1, 7 * 0.44704, nan], equal_nan=True)
    assert np.allclose(ch["step_length"], [1100, 1120, nan, nan], equal_nan=True)
    assert np.allclose(ch["vertical_oscillation"], [85, nan, nan, nan], equal_nan=True)
    assert np.allclose(ch["stance_time"], [250, nan, nan, nan], equal_nan=True)
    assert np.allclose(ch["cadence"], [nan, 90, nan, 87], equal_nan=True)
    # a FIT export writes them where a Garmin writes its own (the profile's 0.1 mm, 0.1 ms)
    from runhub import formats

    (back,) = formats.decode(formats.encode(a, "fit"))
    for name in ("step_length", "vertical_oscillation", "stance_time", "cadence"):
        assert np.allclose(back.channels[name], ch[name], atol=0.05, equal_nan=True), name


def test_a_trainer_ride_takes_the_rides_power_cadence_speed_and_distance(db, tmp_path):
    """An indoor ride (HKIndoorWorkout): a trainer ride, with the cycling records of the watch (or
    of the power meter and speed sensor paired with it): power, cadence, speed (as a locale writes
    it: km/hr) and distance (mi), each at its own time; a running power record in the same minute
    (another workout's type) is not the ride's."""
    day = "2024-04-09 18:00:"
    ride = workout("Cycling", f"{day}00 +0200", "2024-04-09 18:01:00 +0200", "1",
                   '  <MetadataEntry key="HKIndoorWorkout" value="1"/>\n')
    records = [
        record("CyclingPower", f"{day}10 +0200", "210", "W"),
        record("CyclingPower", f"{day}20 +0200", "230", "W"),
        record("CyclingCadence", f"{day}10 +0200", "88", "count/min"),
        record("CyclingSpeed", f"{day}20 +0200", "36", "km/hr"),
        record("DistanceCycling", f"{day}00 +0200", "0.1", "mi", end=f"{day}30 +0200"),
        record("RunningPower", f"{day}15 +0200", "999", "W"),
        hr(f"{day}30 +0200", 140),
    ]
    _, a = import_one(db, tmp_path, ride, records, "apple-ride")
    nan = math.nan
    assert a.sport == "cycling.trainer" and a.trainer  # as a FIT file of an indoor ride says
    ch = a.channels
    assert ch["time"].tolist() == [0, 10, 20, 30]
    assert np.array_equal(ch["power"], [nan, 210, 230, nan], equal_nan=True)
    assert np.array_equal(ch["cadence"], [nan, 88, nan, nan], equal_nan=True)
    assert np.allclose(ch["speed"], [nan, nan, 10.0, nan], equal_nan=True)
    assert np.allclose(ch["distance"], [0, nan, nan, 160.9344], equal_nan=True)
    assert np.array_equal(ch["heart_rate"], [nan, nan, nan, 140], equal_nan=True)


@pytest.mark.parametrize("workers", [1, 2])
def test_the_export_imported_again_changes_nothing(db, tmp_path, workers):
    """Again, and with worker processes (which decode the other files): the same results."""
    root = export_folder(tmp_path, [RUN, TREADMILL])
    uid, _ = make_user(db, "apple-again")
    first = imported(db, uid, root, workers)
    assert [r.status for r in first["export.xml"]] == ["created"] * 2
    assert first[Path(ROUTE).name][0].status == "skipped"
    again = imported(db, uid, root, workers)
    assert [r.status for r in again["export.xml"]] == ["duplicate"] * 2
    assert [r.activity_id for r in again["export.xml"]] == [r.activity_id for r in first["export.xml"]]
    assert stored_count(db, uid) == 2


def test_export_xml_alone_is_imported_with_the_routes_beside_it(db, tmp_path):
    """`runhub import apple_health_export/export.xml`: the route is read from the folder beside it."""
    root = export_folder(tmp_path, [RUN])
    uid, _ = make_user(db, "apple-alone")
    ((_, (r,)),) = list(ingest_paths(db, uid, [root / "export.xml"], client_id=CLI))
    with db.connect() as conn:
        assert repo.load_activity(conn, r.activity_id, uid).has_gps


@pytest.mark.parametrize("path", ["/../../outside.gpx", "/workout-routes/missing.gpx"])
def test_a_route_outside_the_export_or_missing_is_not_read(db, tmp_path, path):
    """A FileReference climbing out of the export's folder is never followed (the file there is a
    valid GPX that would give the run positions); a missing one leaves the workout its samples."""
    root = export_folder(tmp_path, [RUN.replace(ROUTE, path)])
    (tmp_path.parent / "outside.gpx").write_text(route_gpx(), encoding="utf-8")
    uid, _ = make_user(db, "apple-route")
    (r,) = imported(db, uid, root)["export.xml"]
    with db.connect() as conn:
        run = repo.load_activity(conn, r.activity_id, uid)
    assert r.status == "created" and not run.has_gps
    assert run.channels["heart_rate"][np.isfinite(run.channels["heart_rate"])].tolist() == [120, 130, 140]


@pytest.mark.parametrize("change, says", [
    (lambda x: x.replace("]>", '<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'), "entity declaration"),
    (lambda x: x.replace("]>", '<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'), "entity declaration"),
    (lambda x: x[: len(x) // 2], "not well-formed XML"),
    (lambda x: x.replace("<HealthData", "<HealthData><Bad"), "not well-formed XML"),
    # an encoding Python does not know made expat raise LookupError (found by a mutation fuzz)
    (lambda x: x.replace('encoding="UTF-8"', 'encoding="UTF-42"'), "unknown encoding"),
])
def test_a_hostile_or_broken_export_stores_nothing(db, tmp_path, change, says):
    root = export_folder(tmp_path, [RUN, TREADMILL])
    xml = root / "export.xml"
    xml.write_text(change(xml.read_text(encoding="utf-8")), encoding="utf-8")
    uid, _ = make_user(db, "apple-bad")
    (r,) = imported(db, uid, root)["export.xml"]
    assert r.status == "failed" and says in r.error and "export.xml" in r.error
    assert stored_count(db, uid) == 0


def test_an_upload_of_export_xml_is_refused_saying_what_it_is(db, tmp_path):
    root = export_folder(tmp_path, [RUN])
    uid, _ = make_user(db, "apple-upload")
    (r,) = ingest_bytes(db, uid, (root / "export.xml").read_bytes(), filename="export.xml")
    assert r.status == "failed" and "Apple Health's export.xml" in r.error and "runhub import" in r.error
    assert stored_count(db, uid) == 0


@given(st.datetimes(min_value=datetime(1980, 1, 1), max_value=datetime(2100, 1, 1)),
       st.integers(-14 * 4, 14 * 4).map(lambda q: q * 15 * 60))
def test_dates_read_as_strptime_reads_them(when, offset):
    """The hand parser (millions of records: strptime costs seconds more) against datetime's."""
    sign = "-" if offset < 0 else "+"
    text = f"{when:%Y-%m-%d %H:%M:%S} {sign}{abs(offset) // 3600:02d}{abs(offset) % 3600 // 60:02d}"
    want = datetime.strptime(text, "%Y-%m-%d %H:%M:%S %z")
    assert apple_health.parse_date(text) == (want.timestamp(), offset)


def zipped(root: Path, zip_path: Path, change: dict[str, bytes] | None = None) -> Path:
    """The folder as the Health app zips it (export.zip holding apple_health_export/...)."""
    import zipfile

    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(root.rglob("*")):
            if p.is_file():
                name = p.relative_to(root.parent).as_posix()
                zf.writestr(name, (change or {}).get(name, p.read_bytes()))
    return zip_path


def test_the_health_apps_export_zip_imports_as_its_folder(db, tmp_path):
    """export.zip from disk: export.xml is streamed out of the zip, each route read from it by the
    path its workout names; the same activities as the folder gives, and again all duplicates."""
    root = export_folder(tmp_path / "x", [RUN, TREADMILL])
    uid, _ = make_user(db, "apple-zip")
    zip_path = zipped(root, tmp_path / "export.zip")
    ((_, results),) = list(ingest_paths(db, uid, [zip_path], client_id=CLI))
    by_status = sorted(r.status for r in results)
    assert by_status == ["created", "created", "skipped"], results
    (route,) = [r for r in results if r.status == "skipped"]
    assert route.filename.endswith(ROUTE) and "imported with its workout" in route.error
    with db.connect() as conn:
        run, treadmill = (repo.load_activity(conn, r.activity_id, uid) for r in results if r.status == "created")
    assert run.channels["time"].tolist() == [0, 4, 5, 8, 10, 12, 16, 20, 25] and run.has_gps
    assert treadmill.sport == "running.treadmill"
    ((_, again),) = list(ingest_paths(db, uid, [zip_path], client_id=CLI))
    assert sorted(r.status for r in again) == ["duplicate", "duplicate", "skipped"]
    assert stored_count(db, uid) == 2


def test_an_upload_of_the_export_zip_gives_what_the_import_gives(db, tmp_path):
    """Over the API (an upload: the zip unpacked in memory, within the upload's limits): the same
    workouts, with their routes, and the route file not stored on its own; the same again: duplicates."""
    root = export_folder(tmp_path / "x", [RUN, TREADMILL])
    data = zipped(root, tmp_path / "export.zip").read_bytes()
    uid, _ = make_user(db, "apple-upload-zip")
    results = ingest_bytes(db, uid, data, filename="export.zip", client_id="an-app")
    assert [r.status for r in results] == ["created", "created", "skipped"], results
    with db.connect() as conn:
        run = repo.load_activity(conn, results[0].activity_id, uid)
    assert run.channels["time"].tolist() == [0, 4, 5, 8, 10, 12, 16, 20, 25] and run.has_gps
    again = ingest_bytes(db, uid, data, filename="export.zip", client_id="an-app")
    assert [r.status for r in again] == ["duplicate", "duplicate", "skipped"], again
    assert stored_count(db, uid) == 2


def test_a_route_climbing_out_of_the_zips_export_folder_is_not_read(db, tmp_path):
    """In a zip, a FileReference that leaves the export's folder names a member that is there (a
    valid GPX): it is not read, and the workout has no position."""
    root = export_folder(tmp_path / "x", [RUN.replace(ROUTE, "/../elsewhere/route.gpx")])
    (tmp_path / "x" / "elsewhere").mkdir()
    (tmp_path / "x" / "elsewhere" / "route.gpx").write_text(route_gpx(), encoding="utf-8")
    uid, _ = make_user(db, "apple-zip-out")
    ((_, results),) = list(ingest_paths(db, uid, [zipped(root.parent, tmp_path / "export.zip")], client_id=CLI))
    (run,) = [r for r in results if r.filename.endswith(".xml (workout 1, 2024-04-04 06:30:00 +0200)")]
    with db.connect() as conn:
        assert run.status == "created" and not repo.load_activity(conn, run.activity_id, uid).has_gps


def test_a_bomb_as_export_xml_in_a_zip_is_stopped_and_stores_nothing(db, tmp_path, monkeypatch):
    """export.xml is streamed out of the zip without the member size limit (it may be gigabytes),
    but counted: past the bound (16 GiB; 1 MB here) the read stops, and nothing is stored."""
    from runhub.formats import archive

    monkeypatch.setattr(archive, "MAX_NESTED_BYTES", 1 << 20)
    root = export_folder(tmp_path / "x", [RUN])
    xml = (root / "export.xml").read_text(encoding="utf-8")
    padded = xml.replace("<HealthData locale", "<!-- " + " " * (3 << 20) + " --><HealthData locale", 1)
    name = "apple_health_export/export.xml"
    zip_path = zipped(root, tmp_path / "export.zip", {name: padded.encode()})
    uid, _ = make_user(db, "apple-bomb")
    ((_, results),) = list(ingest_paths(db, uid, [zip_path], client_id=CLI))
    (bomb,) = [r for r in results if r.filename.endswith("export.xml")]
    assert bomb.status == "failed" and "decompresses past 1048576 bytes" in bomb.error
    assert stored_count(db, uid) == 0
