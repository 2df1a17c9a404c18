"""runhub's TCX and GPX exports are valid against the formats' published XML schemas, extensions
included: Garmin Connect and other importers validate what they are given, and a backup that a
schema refuses may not restore anywhere else.

The schemas are third-party files, not kept in this repository: put them in one directory and set
RUNHUB_XSD_DIR to it (without it these tests skip, saying so). Their published homes:
  TrainingCenterDatabasev2.xsd, ActivityExtensionv2.xsd, TrackPointExtensionv1.xsd,
  TrackPointExtensionv2.xsd, PowerExtensionv1.xsd: https://www8.garmin.com/xmlschemas/
  gpx.xsd (GPX 1.1): https://www.topografix.com/GPX/1/1/gpx.xsd
  gpxdata10.xsd (ClueTrust GPX+): https://www.cluetrust.com/Schemas/gpxdata10.xsd
Debian ships the first, gpx.xsd and gpxdata10.xsd (in its pytrainer package): .ci/fetch-xsd DIR puts
them there, and CI runs these tests so. Garmin's extension schemas ship in no Debian, PyPI or npm
package; a namespace whose schema is not in the directory is read laxly (xsd:any), and the first
test checks that it is exactly those.

Each format's schema is one wrapper importing every namespace runhub writes, so that the content
the main schema admits laxly (xsd:any in <Extensions>) is validated strictly; a first test shows
that a bad value in each extension namespace is caught.
"""

from __future__ import annotations

import copy
import os
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from lxml import etree

from runhub import demo, formats
from runhub.analysis.timebase import make_timer_explicit
from runhub.formats import FormatError

from .conftest import CORPUS, random_activities
from .test_corpus import decode_upload
from .test_export_readable import _good
from .test_roundtrip_bad_input import _beyond_the_schemas

XSD_DIR = Path(os.environ["RUNHUB_XSD_DIR"]) if os.environ.get("RUNHUB_XSD_DIR") else None
NS = {
    "tcx": "http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2",
    "ax2": "http://www.garmin.com/xmlschemas/ActivityExtension/v2",
    "gpx": "http://www.topografix.com/GPX/1/1",
    "tpx2": "http://www.garmin.com/xmlschemas/TrackPointExtension/v2",
    "tpx1": "http://www.garmin.com/xmlschemas/TrackPointExtension/v1",
    "pwr": "http://www.garmin.com/xmlschemas/PowerExtension/v1",
    "gpxdata": "http://www.cluetrust.com/XML/GPXDATA/1/0",
}
# the main namespace first: gpxdata10.xsd imports GPX 1.1 from the web, which libxml2 skips once
# the namespace is imported from the local file
SCHEMA_FILES = {
    "tcx": [("tcx", "TrainingCenterDatabasev2.xsd"), ("ax2", "ActivityExtensionv2.xsd")],
    "gpx": [("gpx", "gpx.xsd"), ("tpx2", "TrackPointExtensionv2.xsd"), ("tpx1", "TrackPointExtensionv1.xsd"),
            ("pwr", "PowerExtensionv1.xsd"), ("gpxdata", "gpxdata10.xsd")],
}


def _missing() -> set[str]:
    """The namespaces whose schema RUNHUB_XSD_DIR lacks: content in them is passed over as lax
    (Debian ships the main schemas and GPX+, not Garmin's extensions: .ci/fetch-xsd)."""
    return {ns for files in SCHEMA_FILES.values() for ns, name in files
            if XSD_DIR is None or not (XSD_DIR / name).is_file()}


@pytest.fixture(scope="module")
def schemas(tmp_path_factory: pytest.TempPathFactory) -> dict[str, etree.XMLSchema]:
    if XSD_DIR is None:
        pytest.skip("set RUNHUB_XSD_DIR to a directory holding the TCX and GPX schemas (this module's docstring)")
    if {"tcx", "gpx"} & _missing():
        pytest.skip(f"RUNHUB_XSD_DIR ({XSD_DIR}) lacks TrainingCenterDatabasev2.xsd or gpx.xsd")
    out = {}
    where = tmp_path_factory.mktemp("xsd")
    for fmt, files in SCHEMA_FILES.items():
        imports = "".join(f'<xsd:import namespace="{NS[ns]}" schemaLocation="{(XSD_DIR / name).resolve().as_uri()}"/>'
                          for ns, name in files if ns not in _missing())
        wrapper = where / f"{fmt}.xsd"
        wrapper.write_text(f'<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema">{imports}</xsd:schema>')
        out[fmt] = etree.XMLSchema(etree.parse(str(wrapper)))
    return out


_TCX = ('<TrainingCenterDatabase xmlns="{tcx}" xmlns:x="{ax2}"><Activities><Activity Sport="Running">'
        '<Id>2020-01-01T00:00:00Z</Id><Lap StartTime="2020-01-01T00:00:00Z"><TotalTimeSeconds>1</TotalTimeSeconds>'
        "<DistanceMeters>1</DistanceMeters><Calories>0</Calories><Intensity>{intensity}</Intensity>"
        "<TriggerMethod>Manual</TriggerMethod><Track><Trackpoint><Time>2020-01-01T00:00:00Z</Time>"
        "<Extensions><x:TPX><x:Watts>{watts}</x:Watts></x:TPX></Extensions></Trackpoint></Track></Lap>"
        "</Activity></Activities></TrainingCenterDatabase>")
_GPX = ('<gpx version="1.1" creator="t" xmlns="{gpx}" xmlns:a="{tpx2}" xmlns:b="{tpx1}" xmlns:p="{pwr}" '
        'xmlns:d="{gpxdata}"><trk><trkseg><trkpt lat="{lat}" lon="1"><extensions>'
        "<a:TrackPointExtension><a:hr>{hr}</a:hr></a:TrackPointExtension>"
        "<b:TrackPointExtension><b:cad>{cad}</b:cad></b:TrackPointExtension>"
        "<p:PowerInWatts>{watts}</p:PowerInWatts></extensions></trkpt></trkseg></trk>"
        "<extensions><d:lap><d:intensity>{intensity}</d:intensity></d:lap></extensions></gpx>")


def test_the_schemas_check_the_extensions_too(schemas) -> None:
    """A wrong value inside each extension namespace whose schema is there is an error: the
    extensions are not passed over as lax content. (Watts and PowerInWatts are unsigned, hr at
    least 1, cad at most 254, a GPX+ intensity rest or active.) A lap's intensity outside TCX's
    Active and Resting, and a latitude past 90, are errors of the main schemas."""
    good_tcx = {"watts": 250, "intensity": "Active"}
    good_gpx = {"hr": 140, "cad": 85, "watts": 250, "intensity": "rest", "lat": 1}
    assert schemas["tcx"].validate(etree.fromstring(_TCX.format(**NS, **good_tcx)))
    assert schemas["gpx"].validate(etree.fromstring(_GPX.format(**NS, **good_gpx)))
    bad_tcx = [("intensity", "Hard", "tcx"), ("watts", -1, "ax2")]
    bad_gpx = [("lat", 91, "gpx"), ("hr", 0, "tpx2"), ("cad", 300, "tpx1"), ("watts", -5, "pwr"),
               ("intensity", "resting", "gpxdata")]
    missing = _missing()
    for fmt, template, good, bad in (("tcx", _TCX, good_tcx, bad_tcx), ("gpx", _GPX, good_gpx, bad_gpx)):
        for key, value, ns in bad:
            valid = schemas[fmt].validate(etree.fromstring(template.format(**NS, **(good | {key: value}))))
            assert valid == (ns in missing), (fmt, key, ns)  # lax where the schema is not there


def _exports(rel: str) -> list[tuple[str, bytes]]:
    """(format, bytes) of what `runhub export` writes of each activity of a corpus file, in TCX and
    in GPX where GPX can carry it (a run with positions)."""
    out = []
    for a in decode_upload((CORPUS / rel).read_bytes(), Path(rel).name):
        for fmt in ("tcx", "gpx"):
            b = copy.deepcopy(a)
            make_timer_explicit(b, fmt)
            try:
                out.append((fmt, formats.encode(b, fmt)))
            except FormatError:
                assert fmt == "gpx", rel  # TCX carries any activity (test_export_readable)
    return out


def _errors(schema: etree.XMLSchema, data: bytes) -> list[str]:
    schema.validate(etree.fromstring(data))
    return [f"line {e.line}: {e.message}" for e in schema.error_log][:5]


@pytest.mark.parametrize("rel", _good() or ["(no corpus)"])
def test_every_corpus_export_is_schema_valid(rel: str, corpus: Path, schemas) -> None:
    for fmt, data in _exports(rel):
        assert not _errors(schemas[fmt], data), (rel, fmt, _errors(schemas[fmt], data))


def test_the_demo_runs_export_schema_valid(schemas) -> None:
    """The demo's runs, with power, made intervals: every other lap a recovery, each lap ended by
    another trigger (every value runhub writes for a lap's kind and trigger)."""
    runs = [demo.make_run(k, datetime(2024, 5, k, 7, 0, tzinfo=UTC), minutes=30.0) for k in range(1, 4)]
    triggers = ("manual", "distance", "position", "time", "heart_rate")
    for a in runs:
        a.channels["power"] = np.round(230 + 40 * np.sin(a.channels["time"] / 60.0))
        for k, lap in enumerate(a.laps):
            lap.lap_type = "recovery" if k % 2 else "work"
            lap.trigger = triggers[k % len(triggers)]
        assert len(a.laps) >= len(triggers) and "power" in a.channels
    for a in runs:
        for fmt in ("tcx", "gpx"):
            data = formats.encode(a, fmt)
            assert not _errors(schemas[fmt], data), (a.name, fmt, _errors(schemas[fmt], data))


def test_readings_past_the_schemas_types_export_schema_valid(schemas) -> None:
    """Readings runhub accepts that the schemas' types cannot hold (258 bpm, cadence 280, a lap of
    70,000 kcal: test_roundtrip_bad_input) still make a valid file."""
    a = _beyond_the_schemas()
    for fmt in ("tcx", "gpx"):
        data = formats.encode(a, fmt)
        assert not _errors(schemas[fmt], data), (fmt, _errors(schemas[fmt], data))


def test_activities_drawn_at_random_export_schema_valid(schemas) -> None:
    """600 drawn activities (a fixed seed): every one TCX carries and every one GPX carries (two
    positions at least) comes out valid."""
    written = {"tcx": 0, "gpx": 0}
    for a in random_activities(20261130, 600):
        for fmt in ("tcx", "gpx"):
            try:
                data = formats.encode(copy.deepcopy(a), fmt)
            except FormatError:
                assert fmt == "gpx"
                continue
            written[fmt] += 1
            assert not _errors(schemas[fmt], data), (fmt, _errors(schemas[fmt], data))
    assert written["tcx"] >= 300 and written["gpx"] >= 100, written
