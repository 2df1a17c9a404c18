"""Every corpus file: good ones import and validate, broken ones fail naming the file and the fault.

Expected refusals come from shared/corpus/SOURCES.md (its Broken column and its notes on files
that are not activities), not from runhub's output.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from runhub import formats
from runhub.formats import FormatError, NotAnActivity
from runhub.formats.archive import unpack

from .conftest import CORPUS, corpus_files

# file -> words the refusal must contain (SOURCES.md says why each is refused)
REFUSED = {
    "fit/elevate_empty.fit": "empty",  # 0 bytes
    "fit/elevate_appledouble_._empty.fit": "not a FIT",  # AppleDouble header
    "fit/fitparse_DeveloperData.fit": "no session",  # 3 records without timestamps, no session
    "fit/fitparse_MonitoringFile.fit": "monitoring",  # not an activity
    "fit/fittrackee_example.fit": "course",  # not an activity
    "fit/fitparse_activity-filecrc.fit": "CRC",  # corrupted file CRC
    "fit/fitparse_activity-activity-filecrc.fit": "CRC",  # second chained file's CRC wrong
    "fit/fitparse_activity-settings-corruptheader.fit": "byte 771",  # corrupt second header
    "fit/fitparse_strava-android-app-201.10-b1218918.fit": "byte 7471",  # undefined local message
    "fit/gpsbabel_lezyne_super_gps-garmin_fit-sample-bad-endian.fit": "byte 22225",  # garbage definitions
    "tcx/gpsbabel_course.tcx": "course",
    "gpx/gc_MetadataOnly.gpx": "no track points",
    "gpx/gpsbabel_empty.gpx": "no track points",
    "gpx/gpxpy_route.gpx": "route",
    "gpx/gc_A_ride_mapped_on_11_22_2011.gpx": "route",  # no timestamps
    "gpx/gpxpy_Mojstrovka.gpx": "one distinct point in time",  # every point at one bogus 1901 instant
    # vendor layouts in Latin-1 (SOURCES.md: ergomo's German headers, the Joule's "°C"), named all the same
    "csv/gc_2009_08_04_06_22_50.CSV": "an ergomo export",
    "csv/gc_joule-ride.csv": "a CycleOps Joule export",
    # the app's start is the phone's clock without a zone, and an indoor workout has no position to place it
    "csv/wahoo_2015-02-05-1619_Workout_WF.csv": "no GPS position",
}
# Refused files that are plainly something else (SOURCES.md: a monitoring file, a course, a route):
# formats.NotAnActivity, which a folder import skips; every other refusal is a broken or empty file.
NOT_ACTIVITIES = {
    "fit/fitparse_MonitoringFile.fit",
    "fit/fittrackee_example.fit",
    "tcx/gpsbabel_course.tcx",
    "gpx/gpxpy_route.gpx",
    "gpx/gc_A_ride_mapped_on_11_22_2011.gpx",
}
# Truncated FIT files whose whole records before the break are kept, with a warning (issue 3).
TRUNCATED_KEPT = {
    "fit/fitparse_activity-unexpected-eof.fit",
    "fit/fitparse_activity-settings-nodata.fit",
    "fit/fitparse_nick.fit",
}
# Vendor CSVs read (tests/formats/test_vendor_csv.py checks their values against outside truths);
# every other corpus CSV has no absolute start, a local time with no zone, or columns whose units
# the file does not say (SOURCES.md), and is refused with a message naming the layouts runhub reads.
CSV_READ = {
    "csv/fitparse_garmin-edge-500-activity-records.csv",
    "csv/fitparse_garmin-fenix-5-run-records.csv",
    "csv/opentracks_csv_export.csv",
    "csv/wahoo_2014-06-01-1932_Walking_WF.csv",
}
CSV_LAYOUT_WORDS = "runhub reads CSV in these layouts"


def _all() -> list[str]:
    return [f"{k}/{p.name}" for k in ("fit", "tcx", "gpx", "csv") for p in corpus_files(k)]


def decode_upload(data: bytes, name: str) -> list:
    fmt = formats.sniff(data)
    if fmt in ("gzip", "zip"):
        out = []
        for member, content in unpack(data, name):
            out += formats.decode(content, filename=member)
        return out
    return formats.decode(data, fmt, filename=name)


@pytest.mark.parametrize("rel", _all() or ["(no corpus)"])
def test_corpus_file(rel: str, corpus: Path) -> None:
    data = (CORPUS / rel).read_bytes()
    name = Path(rel).name
    if rel in REFUSED or (rel.startswith("csv/") and rel not in CSV_READ):
        with pytest.raises(FormatError) as exc:
            decode_upload(data, name)
        text = str(exc.value)
        if data:  # an empty upload has no name to give before sniffing; ingest adds it
            assert name in text or exc.value.file in (None, name)
        expected = REFUSED.get(rel, CSV_LAYOUT_WORDS)
        assert expected.lower() in text.lower(), text
        assert isinstance(exc.value, NotAnActivity) == (rel in NOT_ACTIVITIES), (rel, type(exc.value))
        return
    acts = decode_upload(data, name)
    assert acts
    for a in acts:
        a.validate()
        assert a.has_streams or a.summary.timer_time or a.summary.distance is not None
    if rel in TRUNCATED_KEPT:
        assert all("truncated" in a.extras.get("import_warning", "") for a in acts)
    else:
        assert not any("import_warning" in a.extras for a in acts)
