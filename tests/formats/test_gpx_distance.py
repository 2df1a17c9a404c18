"""A GPX point's own distance: ClueTrust's GPX+ <gpxdata:distance> (gpxdata10.xsd: "distance in
meters as measured by GPS or wheel sensor"), which Suunto's Movescount and COROS write, cumulative.
Where a GPX has it, it is the run's distance, as a TCX's DistanceMeters is; the positions give one
only where it has none. runhub's GPX export writes it, so a run keeps its odometer through GPX."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import numpy as np

from runhub.activity import Activity
from runhub.analysis import analyse
from runhub.formats import gpx

from .conftest import CORPUS
from .test_gpx_scan import _same

NS_DATA = "http://www.cluetrust.com/XML/GPXDATA/1/0"


def _doc(points: list[str], prefix: str = "gpxdata", namespace: str = NS_DATA) -> bytes:
    return (f'<?xml version="1.0"?><gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1" '
            f'xmlns:{prefix}="{namespace}"><trk><trkseg>{"".join(points)}</trkseg></trk></gpx>').encode()


def _point(second: int, lat: float, distance: str | None, prefix: str = "gpxdata") -> str:
    ext = f"<extensions><{prefix}:distance>{distance}</{prefix}:distance></extensions>" if distance else ""
    return f'<trkpt lat="{lat}" lon="4"><time>2024-05-01T07:00:{second:02d}Z</time>{ext}</trkpt>'


def test_movescount_gpx_keeps_the_watchs_distance(corpus) -> None:
    """Movescount's export (corpus gc_Move_2014_01_17_09_33_11.gpx): every point's gpxdata:distance,
    as the file writes it (read here with a plain pattern), is the distance channel; the run's
    distance is its last less its first: 15552 - 12 = 15540 m."""
    data = (corpus / "gpx" / "gc_Move_2014_01_17_09_33_11.gpx").read_bytes()
    written = [float(v) for v in re.findall(rb"<gpxdata:distance>([^<]*)</gpxdata:distance>", data)]
    (a,) = gpx.decode(data)
    assert a.extras["distance_source"] == "recorded: the points' gpxdata:distance"
    assert a.channels["distance"].tolist() == written and len(written) == 1405
    assert analyse(a).summary.distance == 15552.0 - 12.0


def test_a_distance_in_another_namespace_is_not_read(corpus) -> None:
    """OpenTracks before v4.18 wrote opentracks:distance and a cluetrust:distance in the namespace
    http://www.cluetrust.com/Schemas/, not GPX+'s: the positions give its distance."""
    path = CORPUS / "gpx" / "opentracks_legacy_gpx_trackpointextensions_incorrect.gpx"
    (a,) = gpx.decode(path.read_bytes())
    assert a.extras["distance_source"].startswith("computed")
    points = [_point(s, 52.0 + s * 1e-4, str(s * 10.0), prefix="other") for s in range(3)]
    (b,) = gpx.decode(_doc(points, prefix="other", namespace="http://www.cluetrust.com/Schemas/"))
    assert b.extras["distance_source"].startswith("computed")
    # GPX+'s namespace under any prefix is read
    (c,) = gpx.decode(_doc(points, prefix="other"))
    assert c.channels["distance"].tolist() == [0.0, 10.0, 20.0]


def test_a_distance_below_zero_is_kept_aside_and_the_positions_give_it() -> None:
    """Movescount has written points with a distance of -459 m: no distance, so it is kept as
    distance_recorded, and the track gives the run's distance: two steps of 1e-4 degree of
    latitude, by hand 11.13 m each (111.3 km a degree at 52 N), 22.26 m, within a metre."""
    points = [_point(s, 52.0 + s * 1e-4, d) for s, d in zip(range(3), ("-459.4", "3.0", "6.0"), strict=True)]
    (a,) = gpx.decode(_doc(points))
    assert a.channels["distance_recorded"].tolist() == [-459.4, 3.0, 6.0]
    assert a.extras["distance_source"].startswith("computed")
    assert abs(float(a.channels["distance"][-1]) - 22.26) < 1.0


def test_a_runs_odometer_survives_its_gpx_export() -> None:
    """Found by fuzzing: a run whose recorded distance is 897 m and whose positions jump across the
    globe every second was kept (on its distance); its GPX export had no distance, and read back
    the positions gave 35,405 km, refused. The export carries the distance now, to the millimetre."""
    t = np.arange(300, dtype=float)
    lat = np.where(np.arange(300) % 2 == 0, 52.0, -52.0)
    lon = np.where(np.arange(300) % 2 == 0, 4.0, 150.0)
    a = Activity(start=datetime(2024, 5, 1, 6, tzinfo=UTC), sport="running",
                 channels={"time": t, "distance": t * 2.9917, "latitude": lat, "longitude": lon}).validate()
    (back,) = gpx.decode(gpx.encode(a))
    back.validate()
    assert np.abs(back.channels["distance"] - a.channels["distance"]).max() <= 0.0005
    assert analyse(back).summary.distance == round(299 * 2.9917, 3)


def test_both_readers_agree_and_the_scan_reads_what_is_sure() -> None:
    """The compiled scan reads local names only: it takes the distances where the prefix gpxdata
    is GPX+'s, declared once, on every distance element (runhub's exports: no slower to read back
    than another GPX); any other file goes to lxml's tree, which reads by namespace."""
    points = [_point(s, 52.0 + s * 1e-4, str(s * 10.0)) for s in range(3)]
    sure = _doc(points)
    fast = gpx._scan(sure)
    assert fast is not None and fast.cols["distance"].tolist() == [0.0, 10.0, 20.0]
    _same(fast, gpx._walk(sure, None, None))
    other_prefix = _doc([_point(s, 52.0 + s * 1e-4, str(s * 10.0), prefix="d") for s in range(3)], prefix="d")
    elsewhere = _doc(points, namespace="http://www.cluetrust.com/Schemas/")
    for doc, read in ((other_prefix, [0.0, 10.0, 20.0]), (elsewhere, None)):
        assert gpx._scan(doc) is None
        walked = gpx._walk(doc, None, None).cols["distance"]
        assert (walked.tolist() == read) if read else np.isnan(walked).all()
    t = np.arange(3, dtype=float)
    a = Activity(start=datetime(2024, 5, 1, 6, tzinfo=UTC), sport="running",
                 channels={"time": t, "distance": t * 3.0, "latitude": 52.0 + t * 1e-4, "longitude": 4.0 + t * 0})
    assert gpx._scan(gpx.encode(a)) is not None
