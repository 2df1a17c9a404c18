"""GPX's two readers agree: the compiled byte scan (gpx._scan, xml_scan) and the lxml tree walk (gpx._walk).

The scan is hand-written for speed; the walk reads by the XML library. Every corpus GPX and the
hand-made variants below (prefixes, segments, OpenTracks pause markers, self-closing and blank
elements, nested extensions, repeated values, entities) must give identical points, and the
hand-made file's values are also checked against the numbers written in it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runhub.formats import gpx

from .conftest import corpus_files

HEAD = (b'<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" creator="Test &amp; Co" '
        b'xmlns="http://www.topografix.com/GPX/1/1" '
        b'xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1">\n')


def pt(lat: str, lon: str, body: bytes = b"") -> bytes:
    return f'<trkpt lat="{lat}" lon="{lon}">'.encode() + body + b"</trkpt>\n"


def tpx(inner: bytes) -> bytes:
    return b"<extensions><gpxtpx:TrackPointExtension>" + inner + b"</gpxtpx:TrackPointExtension></extensions>"


SAMPLE = (HEAD + b"<trk><name>Run &lt;1&gt;</name><type>running</type><trkseg>\n"
          + pt("50.1", "5.1", b"<ele>100.5</ele><time>2020-01-01T10:00:00Z</time>" + tpx(b"<gpxtpx:hr>120</gpxtpx:hr>"))
          + pt("50.2", "5.2", b"<ele/><time>2020-01-01T10:00:01.5Z</time>" + tpx(b"<gpxtpx:hr> </gpxtpx:hr>"))
          + b"</trkseg><trkseg>\n"
          + pt("50.3", "5.3", b"<ele>101</ele><ele>102</ele><time>2020-01-01T10:00:05Z</time>"
               + b"<extensions><power>250</power><x:HR xmlns:x='urn:x'>130</x:HR></extensions>")
          + pt("100", "5.3", b"<time>2020-01-01T10:00:06Z</time>")  # OpenTracks legacy pause marker
          + pt("200", "5.3", b"<time>2020-01-01T10:00:07Z</time>")  # ... and resume marker
          + pt("95", "5.4", b"<time>2020-01-01T10:00:09Z</time>")  # latitude out of range: no position
          + b"</trkseg></trk>\n"
          + b"<trk><trkseg>" + pt("50.5", "5.5", b"<time>2020-01-01T10:00:10+00:00</time>") + b"</trkseg></trk>"
          + b"</gpx>\n")


def _same(a: gpx._Raw, b: gpx._Raw) -> None:
    assert np.array_equal(a.times, b.times, equal_nan=True)
    assert a.breaks == b.breaks
    assert a.cols.keys() == b.cols.keys()
    for k in a.cols:
        assert np.array_equal(a.cols[k], b.cols[k], equal_nan=True), k
    for k in ("name", "desc", "trk_type", "creator", "n_trk", "has_rte", "legacy_pause"):
        assert getattr(a, k) == getattr(b, k), k
    assert str(a.switches) == str(b.switches)  # str: a marker without a time is NaN in both


def test_hand_made_file_both_paths_and_values() -> None:
    fast = gpx._scan(SAMPLE)
    assert fast is not None  # this file is inside the scanned subset
    _same(fast, gpx._walk(SAMPLE, None, None))
    nan = math.nan
    # 2020-01-01T10:00:00Z is Unix 1577872800
    assert fast.times.tolist() == [1577872800.0, 1577872801.5, 1577872805.0, 1577872809.0, 1577872810.0]
    assert np.array_equal(fast.cols["altitude"], [100.5, nan, 102, nan, nan], equal_nan=True)
    assert np.array_equal(fast.cols["heart_rate"], [120, nan, 130, nan, nan], equal_nan=True)
    assert np.array_equal(fast.cols["power"], [nan, nan, 250, nan, nan], equal_nan=True)
    assert np.array_equal(fast.cols["latitude"], [50.1, 50.2, 50.3, nan, 50.5], equal_nan=True)
    assert fast.breaks == [2, 3, 4]  # new trkseg, after the resume marker, new trk
    assert (fast.name, fast.trk_type, fast.creator, fast.n_trk) == ("Run <1>", "running", "Test & Co", 2)
    assert fast.legacy_pause
    assert fast.switches == [(1577872806.0, True), (1577872807.0, False)]  # the markers' times: pause, resume


# GPX 1.0 as GPSBabel and older loggers write it: speed (m/s) and course are children of trkpt
GPX10 = (b'<?xml version="1.0"?>\n<gpx version="1.0" creator="GPSBabel" xmlns="http://www.topografix.com/GPX/1/0" '
         b'xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v2">'
         b"<trk><type>Running</type><trkseg>\n"
         + pt("52.0", "4.0", b"<ele>1.5</ele><time>2024-06-01T06:30:00Z</time><course>12.5</course>"
              b"<speed>3.125</speed>")
         + pt("52.001", "4.0", b"<ele>2.5</ele><time>2024-06-01T06:30:10Z</time>")
         + pt("52.002", "4.0", b"<time>2024-06-01T06:30:20Z</time><speed>3.25</speed>"
              + tpx(b"<gpxtpx:speed>3.5</gpxtpx:speed>"))
         + b"</trkseg></trk></gpx>\n")


def test_gpx_1_0_speed_is_read_and_an_extension_wins() -> None:
    """A point's own <speed> (GPX 1.0) is its speed; where an extension gives one too (GPX 1.1 moved
    speed there), the extension's is kept; a point with neither has none. Both paths agree."""
    from runhub import formats

    fast = gpx._scan(GPX10)
    assert fast is not None
    _same(fast, gpx._walk(GPX10, None, None))
    assert np.array_equal(fast.cols["speed"], [3.125, math.nan, 3.5], equal_nan=True)
    (a,) = formats.decode(GPX10, filename="gpsbabel.gpx")
    assert np.array_equal(a.channels["speed"], [3.125, math.nan, 3.5], equal_nan=True)
    assert a.sport == "running"


@pytest.mark.parametrize("variant", [
    SAMPLE.replace(b"<trkpt ", b"<g:trkpt ").replace(b"</trkpt>", b"</g:trkpt>")
    .replace(b'xmlns="http', b'xmlns:g="http'),  # prefixed GPX elements (and unprefixed others)
    SAMPLE.replace(b"<name>", b"<!-- c --><name>"),  # a comment: the tree path
    SAMPLE.replace(b'lat="50.2" lon="5.2"', b"lon='5.2' lat='50.2'"),  # other attribute spelling
    SAMPLE.replace(b"<ele>101</ele>", b"<ele>1&#48;1</ele>"),  # a character reference in a value
    SAMPLE.replace(b"<ele>101</ele>", b'<ele src="a>b">101</ele>'),  # '>' inside an attribute value
    SAMPLE.replace(b'lon="5.1">', b'lon="5.1" note="x>y">'),
    SAMPLE.replace(b'creator="Test', b'note="1>0" creator="Test'),
    SAMPLE.replace(b"<name>", b"<name note='>'>"),
    SAMPLE.replace(b'encoding="UTF-8"', b'encoding="ISO-8859-1"').replace(b"Run &lt;1&gt;", b"L\xe4uft"),
    # ' lat="' inside another attribute's value, the real one in single quotes: the tree says 50.2
    SAMPLE.replace(b'lat="50.2" lon="5.2"', b'x=\' lat="7"\' lat=\'50.2\' lon="5.2"'),
    SAMPLE.replace(b'lat="50.2" lon="5.2"', b'x="a" lon="5.2" y=" lat=" lat="50.2"'),  # even quotes before
    SAMPLE.replace(b"Run &lt;1&gt;", b"Run 1 > 0"),  # a '>' in text: tag ends are searched, not assumed
    SAMPLE.replace(b'lat="50.2" lon="5.2"', b'lon="5.2" lat="50.2"'),  # lon first
    SAMPLE.replace(b'lat="50.2" lon="5.2"', b'lat="50.2" lon="5.2" x=\' lat="7"\''),  # a look-alike after
    SAMPLE.replace(b'lat="50.2" lon="5.2"', b'lat="50.2"  lon="5.2"'),  # two spaces: not adjacent
])
def test_variants_agree(variant: bytes) -> None:
    fast = gpx._scan(variant)
    slow = gpx._walk(variant, None, None)
    if fast is not None:
        _same(fast, slow)


@pytest.mark.parametrize("path", corpus_files("gpx") or [None], ids=lambda p: p.name if p else "no-corpus")
def test_corpus_both_paths(path) -> None:
    if path is None:
        pytest.skip("activity corpus not found (set RUNHUB_CORPUS)")
    data = path.read_bytes()
    fast = gpx._scan(data)
    if fast is None:
        return  # outside the scanned subset (CDATA, comments, no track points): the walk alone reads it
    _same(fast, gpx._walk(data, path.name, None))


# ---------------------------------------------------------------- generated files, both paths

_VALUE = st.sampled_from(["", " ", "12", " 7.5 ", "-3e2", "x", "1_0", "nan", "inf", "0", "-0", "3.2799999713897705",
                          "-122.07117696292698", "40.18894976936280727386474609375", "\n  12\n  ", "\u00a0", "1e-5",
                          ".5", "5."])
_TIME = st.sampled_from(["2020-01-01T10:00:00Z", "2020-01-01T10:00:01.25Z", "2020-01-01T11:00:00+01:00",
                         "", "bad", "2020-01-01T10:00:02.123456Z", "2020-01-01 10:00:03Z", "2020-01-01T10:00:04",
                         "2020-01-01T10:00:05.1234567Z", "2020-02-30T10:00:00Z", " 2020-01-01T10:00:06Z\n",
                         "2020-01-01T05:00:07.5-05:00", "2020-01-01T10:00:08+0000"])
_LATLON = st.sampled_from(['lat="{lat}" lon="{lon}"', "lon='{lon}' lat='{lat}'", 'lat = "{lat}"\n lon="{lon}"',
                           'x="a>b" lat="{lat}" lon="{lon}"', 'lat="{lat}" y=\' lon="7"\' lon="{lon}"',
                           'lat="{lat}"', 'g:lat="1" lat="{lat}" lon="{lon}"'])
_EXT = st.sampled_from(["hr", "HR", "heartrate", "cad", "cadence", "atemp", "temp", "power", "PowerInWatts",
                        "watts", "speed", "course", "extensions"])


@st.composite
def _point(draw) -> bytes:
    lat = draw(st.sampled_from(["50.1", "50.2", "-90", "95", "100", "200", "abc", "1e1", "50.12345678901234567",
                                " 50.3 "]))
    lon = draw(st.sampled_from(["5.1", "5.2", "-180", "181", "-105.15878458605"]))
    latlon = draw(_LATLON).format(lat=lat, lon=lon)
    tag = draw(st.sampled_from(["trkpt", "g:trkpt"]))
    body = []
    for _ in range(draw(st.integers(0, 5))):
        kind = draw(st.sampled_from(["ele", "time", "ext", "speed", "other", "selfclose", "ws"]))
        pre = "g:" if tag.startswith("g:") else ""
        if kind == "ele":
            body.append(f"<{pre}ele>{draw(_VALUE)}</{pre}ele>")
        elif kind == "time":
            body.append(f"<{pre}time>{draw(_TIME)}</{pre}time>")
        elif kind == "ext":
            inner = "".join(f"<x:{n}>{draw(_VALUE)}</x:{n}>" if draw(st.booleans()) else f"<{n}/>"
                            for n in draw(st.lists(_EXT, max_size=3)))
            nest = draw(st.booleans())
            body.append(f"<{pre}extensions>" + (f"<x:TPX>{inner}</x:TPX>" if nest else inner) + f"</{pre}extensions>")
        elif kind == "speed":  # GPX 1.0's own speed element
            name = draw(st.sampled_from(["speed", "Speed"]))
            body.append(f"<{pre}{name}>{draw(_VALUE)}</{pre}{name}>")
        elif kind == "other":
            body.append(f"<{pre}sat>{draw(_VALUE)}</{pre}sat>")
        elif kind == "selfclose":
            body.append(f"<{pre}{draw(st.sampled_from(['ele', 'time', 'name']))}/>")
        else:
            body.append("\n  ")
    if not body and draw(st.booleans()):
        return f"<{tag} {latlon}/>".encode()
    return f'<{tag} {latlon}>{"".join(body)}</{tag}>'.encode()


@st.composite
def _gpx(draw) -> bytes:
    trks = []
    for _ in range(draw(st.integers(1, 2))):
        segs = []
        for _ in range(draw(st.integers(0, 3))):
            segs.append(b"<trkseg>" + b"".join(draw(st.lists(_point(), max_size=5))) + b"</trkseg>")
        name = draw(st.sampled_from([b"", b"<name>A &amp; B</name>", b"<name> </name>", b"<name>a\r\nb &#150;</name>",
                                     b"<desc>x</desc><type>9</type>", b"<name/>"]))
        trks.append(b"<trk>" + name + b"".join(segs) + b"</trk>")
    creator = draw(st.sampled_from([b'creator="c"', b"creator='a &amp; b'", b'creator="a\nb"', b'note=" creator=\'x\'"',
                                    b'creator = "&#65;"']))
    return (b'<gpx xmlns="http://www.topografix.com/GPX/1/1" xmlns:g="http://www.topografix.com/GPX/1/1" '
            b'xmlns:x="urn:x" ' + creator + b">" + b"".join(trks) + b"</gpx>")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_gpx())
def test_generated_files_both_paths(data: bytes) -> None:
    fast = gpx._scan(data)
    if fast is not None:
        _same(fast, gpx._walk(data, None, None))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text("0123456789.-+e x", max_size=6), min_size=1, max_size=20))
def test_numbers_read_as_float_reads_them(texts: list[str]) -> None:
    """_common.floats, which reads the values the compiled pass leaves to Python: the same double
    as float(), sign of zero included, and NaN where float() refuses, as the tree path's xml_float."""
    from runhub.formats._common import floats

    got = floats(np.array([t.encode() for t in texts], dtype="S6"))
    for t, g in zip(texts, got, strict=True):
        try:
            want = float(t)
        except ValueError:
            want = math.nan
        if not math.isfinite(want):
            want = math.nan
        assert (math.isnan(g) and math.isnan(want)) or (g == want and math.copysign(1, g) == math.copysign(1, want)), t
