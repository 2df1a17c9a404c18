"""Reading Apple Health's export.xml (formats/apple_health.read): MB/s and records/s, against the
floor of any Python reader, expat with handlers that do nothing, and against ElementTree's
iterparse (what healthkit-to-sqlite and most export scripts use), on the same bytes in one run.

The corpus holds no Apple export (no public one with a license), so the file is generated in the
layout the Health app writes: per minute of a year, a heart-rate Record (with its MetadataEntry
child) and a StepCount Record (a type runhub does not keep), then 300 running Workouts with their
events, statistics and routes. Prints the size, each reader's best of 3, and the ratios.

    .venv/bin/python bench/apple_health.py [minutes]
"""

from __future__ import annotations

import io
import sys
import time
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from xml.parsers import expat

from runhub.formats import apple_health

DTD = ("<!DOCTYPE HealthData [\n<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout)*)>\n"
       "<!ATTLIST Record type CDATA #REQUIRED unit CDATA #IMPLIED value CDATA #IMPLIED>\n]>\n")


def export_xml(minutes: int) -> bytes:
    t0 = datetime(2023, 1, 1)
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n', DTD, '<HealthData locale="en_NL">\n']
    for k in range(minutes):
        d = (t0 + timedelta(minutes=k)).strftime("%Y-%m-%d %H:%M:%S +0100")
        out.append(f' <Record type="HKQuantityTypeIdentifierHeartRate" sourceName="Ann’s Apple Watch" '
                   f'sourceVersion="10.4" unit="count/min" creationDate="{d}" startDate="{d}" endDate="{d}" '
                   f'value="{60 + k % 90}">\n  <MetadataEntry key="HKMetadataKeyHeartRateMotionContext" '
                   f'value="1"/>\n </Record>\n')
        out.append(f' <Record type="HKQuantityTypeIdentifierStepCount" sourceName="Ann’s iPhone" unit="count" '
                   f'creationDate="{d}" startDate="{d}" endDate="{d}" value="{k % 120}"/>\n')
    for k in range(300):
        s = (t0 + timedelta(days=k, hours=7)).strftime("%Y-%m-%d %H:%M:%S +0100")
        e = (t0 + timedelta(days=k, hours=8)).strftime("%Y-%m-%d %H:%M:%S +0100")
        out.append(f' <Workout workoutActivityType="HKWorkoutActivityTypeRunning" duration="60" durationUnit="min" '
                   f'sourceName="Ann’s Apple Watch" startDate="{s}" endDate="{e}">\n'
                   f'  <MetadataEntry key="HKIndoorWorkout" value="0"/>\n'
                   f'  <WorkoutEvent type="HKWorkoutEventTypePause" date="{s}"/>\n'
                   f'  <WorkoutStatistics type="HKQuantityTypeIdentifierHeartRate" average="150" unit="count/min"/>\n'
                   f'  <WorkoutRoute><FileReference path="/workout-routes/route_{k}.gpx"/></WorkoutRoute>\n'
                   f' </Workout>\n')
    out.append("</HealthData>\n")
    return "".join(out).encode()


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
    minutes = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    data = export_xml(minutes)
    mb = len(data) / 1e6
    ours = best(lambda d: apple_health.read(io.BytesIO(d)), data)
    bare = best(floor, data)
    et = best(iterparse, data)
    records = 2 * minutes
    print(f"export.xml (generated): {mb:.0f} MB, {records} records, 300 workouts")
    print(f"apple_health.read: {ours:.2f} s = {mb / ours:.1f} MB/s, {records / ours:,.0f} records/s")
    print(f"expat, handlers doing nothing (the floor of a Python reader): {bare:.2f} s -> ratio {ours / bare:.2f}")
    print(f"ElementTree.iterparse (export scripts' usual reader): {et:.2f} s -> ratio {ours / et:.2f}")


if __name__ == "__main__":
    main()
