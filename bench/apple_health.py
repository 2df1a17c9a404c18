"""Reading Apple Health's export.xml (formats/apple_health.read): MB/s and records/s, against the
floor of any Python reader, expat with handlers that do nothing, and against ElementTree's
iterparse (what healthkit-to-sqlite and most export scripts use), on the same bytes in one run.

The corpus holds no Apple export (no public one with a license), so the file is generated in the
layout the Health app writes: for each minute of `days` days, a heart-rate Record of the watch
(with its MetadataEntry child) and a StepCount Record of the phone (a type runhub does not keep);
on each day, a one-hour run with heart rate every 5 s and a distance record every 10 s (30 m),
and its Workout. Prints the size, each reader's best of 3, and the ratios. `--write DIR` writes
the export as DIR/apple_health_export/export.xml instead, for timing `runhub import DIR`.

    .venv/bin/python bench/apple_health.py [days] [--write DIR]
"""

from __future__ import annotations

import io
import sys
import time
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from pathlib import Path
from xml.parsers import expat

from runhub.formats import apple_health

WATCH = "Ann’s Apple Watch"
DTD = ("<!DOCTYPE HealthData [\n<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout)*)>\n"
       "<!ATTLIST Record type CDATA #REQUIRED unit CDATA #IMPLIED value CDATA #IMPLIED>\n]>\n")


def _date(d: datetime) -> str:
    return d.strftime("%Y-%m-%d %H:%M:%S +0100")


def export_xml(days: int) -> tuple[bytes, int]:
    """(the file, its records)."""
    t0 = datetime(2023, 1, 1)
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n', DTD, '<HealthData locale="en_NL">\n']
    for k in range(days * 24 * 60):
        d = _date(t0 + timedelta(minutes=k))
        out.append(f' <Record type="HKQuantityTypeIdentifierHeartRate" sourceName="{WATCH}" sourceVersion="10.4" '
                   f'unit="count/min" creationDate="{d}" startDate="{d}" endDate="{d}" value="{60 + k % 30}">\n'
                   '  <MetadataEntry key="HKMetadataKeyHeartRateMotionContext" value="1"/>\n </Record>\n')
        out.append(f' <Record type="HKQuantityTypeIdentifierStepCount" sourceName="Ann’s iPhone" unit="count" '
                   f'creationDate="{d}" startDate="{d}" endDate="{d}" value="{k % 120}"/>\n')
    workouts = []
    for day in range(days):
        s = t0 + timedelta(days=day, hours=7, seconds=30)
        for j in range(720):
            d = _date(s + timedelta(seconds=5 * j))
            out.append(f' <Record type="HKQuantityTypeIdentifierHeartRate" sourceName="{WATCH}" unit="count/min" '
                       f'creationDate="{d}" startDate="{d}" endDate="{d}" value="{140 + j % 20}"/>\n')
        for j in range(360):
            a, b = _date(s + timedelta(seconds=10 * j)), _date(s + timedelta(seconds=10 * j + 10))
            out.append(f' <Record type="HKQuantityTypeIdentifierDistanceWalkingRunning" sourceName="{WATCH}" '
                       f'unit="km" creationDate="{b}" startDate="{a}" endDate="{b}" value="0.03"/>\n')
        workouts.append(f' <Workout workoutActivityType="HKWorkoutActivityTypeRunning" duration="60" '
                        f'durationUnit="min" sourceName="{WATCH}" startDate="{_date(s)}" '
                        f'endDate="{_date(s + timedelta(hours=1))}">\n'
                        '  <MetadataEntry key="HKTimeZone" value="Europe/Amsterdam"/>\n'
                        f'  <WorkoutEvent type="HKWorkoutEventTypePause" date="{_date(s + timedelta(minutes=30))}"/>\n'
                        f'  <WorkoutEvent type="HKWorkoutEventTypeResume" date="{_date(s + timedelta(minutes=31))}"/>\n'
                        '  <WorkoutStatistics type="HKQuantityTypeIdentifierHeartRate" average="150" '
                        'unit="count/min"/>\n'
                        ' </Workout>\n')
    out += workouts
    out.append("</HealthData>\n")
    return "".join(out).encode(), days * (2 * 24 * 60 + 720 + 360)


def best(fn, data: bytes) -> float:
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        fn(data)
        times.append(time.perf_counter() - t0)
    return min(times)


def floor(data: bytes) -> None:
    p = expat.ParserCreate()
    p.StartElementHandler = lambda name, attrs: None
    p.EndElementHandler = lambda name: None
    p.Parse(data, True)


def iterparse(data: bytes) -> None:
    for _, elem in ET.iterparse(io.BytesIO(data)):
        if elem.tag == "Record":
            elem.clear()


def main() -> None:
    args = sys.argv[1:]
    write = Path(args[args.index("--write") + 1]) if "--write" in args else None
    rest = [a for k, a in enumerate(args) if a != "--write" and (k == 0 or args[k - 1] != "--write")]
    days = int(rest[0]) if rest else 100
    data, records = export_xml(days)
    mb = len(data) / 1e6
    if write is not None:
        (write / "apple_health_export").mkdir(parents=True, exist_ok=True)
        (write / "apple_health_export" / "export.xml").write_bytes(data)
        print(f"wrote {write / 'apple_health_export' / 'export.xml'}: {mb:.0f} MB, {records} records, {days} workouts")
        return
    ours = best(lambda d: apple_health.read(io.BytesIO(d)), data)
    bare = best(floor, data)
    et = best(iterparse, data)
    print(f"export.xml (generated): {mb:.0f} MB, {records} records, {days} workouts")
    print(f"apple_health.read: {ours:.2f} s = {mb / ours:.1f} MB/s, {records / ours:,.0f} records/s")
    print(f"expat, handlers doing nothing (the floor of a Python reader): {bare:.2f} s -> ratio {ours / bare:.2f}")
    print(f"ElementTree.iterparse (export scripts' usual reader): {et:.2f} s -> ratio {ours / et:.2f}")


if __name__ == "__main__":
    main()
