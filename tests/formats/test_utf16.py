"""UTF-16 text: Windows programs write GPX, TCX and CSV so, with a byte order mark (either order)
or, for XML, without one (the XML spec's appendix F detects it by "<?"). runhub reads such a file
as the same file in UTF-8 would read, keeps the upload's bytes as they came, and refuses text
that does not decode, or a DOCTYPE hidden in UTF-16, as it does in UTF-8."""

from __future__ import annotations

import numpy as np
import pytest

from runhub import formats
from runhub.formats import FormatError
from runhub.ingest import ingest_bytes
from runhub.store import activities as repo
from tests.conftest import make_user

from .conftest import CORPUS

# a name outside ASCII and Latin-1, so that a wrong decoding would show
GPX = """<?xml version="1.0" encoding="UTF-16"?>
<gpx version="1.1" creator="Windows app" xmlns="http://www.topografix.com/GPX/1/1">
<trk><name>Läufchen am Fluss ☀</name><type>running</type><trkseg>
<trkpt lat="52.0" lon="4.0"><ele>1.5</ele><time>2024-01-01T10:00:00Z</time></trkpt>
<trkpt lat="52.001" lon="4.0"><ele>2.0</ele><time>2024-01-01T10:00:10Z</time></trkpt>
<trkpt lat="52.002" lon="4.0"><ele>2.5</ele><time>2024-01-01T10:00:20Z</time></trkpt>
</trkseg></trk></gpx>
"""
CSV = ("timestamp,heart_rate,speed\n2024-05-01T07:30:00+02:00,120,3.1\n"
       "2024-05-01T07:30:01+02:00,121,3.2\n2024-05-01T07:30:02+02:00,122,3.25\n")
# with a byte order mark (little and big endian), and without one (XML only: "<?" tells the order)
CODECS = ["utf-16", "utf-16-be-bom", "utf-16-le", "utf-16-be"]


def encoded(text: str, codec: str) -> bytes:
    if codec == "utf-16-be-bom":
        return b"\xfe\xff" + text.encode("utf-16-be")
    return text.encode(codec)


def same(a, b) -> None:
    assert (a.start, a.sport, a.name, a.pauses, len(a.laps)) == (b.start, b.sport, b.name, b.pauses, len(b.laps))
    assert a.channels.keys() == b.channels.keys()
    for k in a.channels:
        assert np.array_equal(a.channels[k], b.channels[k], equal_nan=True), k


@pytest.mark.parametrize("codec", CODECS)
def test_a_utf16_gpx_reads_as_its_utf8_twin(codec):
    utf8 = GPX.replace('encoding="UTF-16"', 'encoding="UTF-8"').encode()
    data = encoded(GPX, codec)
    assert formats.sniff(data) == "gpx"
    (a,), (b,) = formats.decode(data), formats.decode(utf8)
    same(a, b)
    assert a.name == "Läufchen am Fluss ☀" and a.n_samples == 3


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be-bom"])
def test_a_utf16_csv_reads_as_its_utf8_twin(codec):
    data = encoded(CSV, codec)
    assert formats.sniff(data) == "csv"
    (a,), (b,) = formats.decode(data, sport="running"), formats.decode(CSV.encode(), sport="running")
    same(a, b)
    assert a.channels["heart_rate"].tolist() == [120, 121, 122] and a.utc_offset == 7200


@pytest.mark.parametrize("codec", CODECS)
def test_a_corpus_tcx_in_utf16_reads_as_the_file_itself(codec):
    path = CORPUS / "tcx" / "sweatpy_3173437224.tcx"
    if not path.exists():
        pytest.skip("activity corpus not found (set RUNHUB_CORPUS)")
    utf8 = path.read_bytes()
    text = utf8.decode("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"', 1)
    (a,), (b,) = formats.decode(encoded(text, codec)), formats.decode(utf8)
    same(a, b)
    assert a.summary == b.summary and a.n_samples == 3507  # SOURCES.md: 3507 trackpoints


def test_the_upload_is_kept_as_it_came(db):
    uid, _ = make_user(db, "utf16")
    data = encoded(GPX, "utf-16")
    (r,) = ingest_bytes(db, uid, data, filename="windows.gpx")
    assert r.status == "created" and r.format == "gpx"
    with db.connect() as conn:
        assert repo.load_original(conn, r.activity_id) == (data, "gpx", "windows.gpx")
    (again,) = ingest_bytes(db, uid, data, filename="windows.gpx")
    assert again.status == "duplicate"


def test_utf16_that_does_not_decode_is_refused_where_it_breaks():
    bad = '<?xml version="1.0"?><gpx>\ud800</gpx>'.encode("utf-16", "surrogatepass")  # a lone surrogate
    with pytest.raises(FormatError) as exc:
        formats.decode(bad)
    assert exc.value.message == "UTF-16 text that does not decode at byte 54 (illegal UTF-16 surrogate)"
    assert exc.value.location == "byte 54"  # 2 (the mark) + 26 characters before it, 2 bytes each
    with pytest.raises(FormatError, match="no text"):
        formats.decode(b"\xff\xfe \x00\n\x00")  # a blank and a line break
