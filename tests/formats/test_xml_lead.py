"""Whitespace before the XML declaration: Strava's account exports start every TCX (and some GPX)
with ten spaces before `<?xml`, which XML forbids (GoldenCheetah #3149, GPSBabel #371, sweatpy #99).
runhub reads them as if the declaration came first, says the right line when such a file is broken,
and keeps the upload's bytes as they came."""

from __future__ import annotations

import numpy as np
import pytest

from runhub import formats
from runhub.formats import FormatError
from runhub.ingest import ingest_bytes
from runhub.store import activities as repo
from tests.conftest import make_user

from .conftest import CORPUS

GPX = b"""<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="StravaGPX" xmlns="http://www.topografix.com/GPX/1/1">
<trk><type>running</type><trkseg>
<trkpt lat="52.0" lon="4.0"><time>2024-01-01T10:00:00Z</time></trkpt>
<trkpt lat="52.001" lon="4.0"><time>2024-01-01T10:00:10Z</time></trkpt>
</trkseg></trk></gpx>
"""
TCX = b"""<?xml version="1.0" encoding="UTF-8"?>
<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2">
<Activities><Activity Sport="Running"><Id>2024-01-01T10:00:00Z</Id>
<Lap StartTime="2024-01-01T10:00:00Z"><TotalTimeSeconds>10</TotalTimeSeconds><Track>
<Trackpoint><Time>2024-01-01T10:00:00Z</Time><DistanceMeters>0</DistanceMeters></Trackpoint>
<Trackpoint><Time>2024-01-01T10:00:10Z</Time><DistanceMeters>30</DistanceMeters></Trackpoint>
</Track></Lap></Activity></Activities></TrainingCenterDatabase>
"""
STRAVA_LEAD = b" " * 10  # what Strava's exports carry
LEADS = [STRAVA_LEAD, b"\n\n", b"\xef\xbb\xbf" + STRAVA_LEAD, b"\r\n\t "]


def same(a, b) -> None:
    assert (a.start, a.sport, a.device_name, a.pauses, len(a.laps)) == (b.start, b.sport, b.device_name, b.pauses,
                                                                         len(b.laps))
    assert a.channels.keys() == b.channels.keys()
    for name, arr in a.channels.items():
        assert np.array_equal(arr, b.channels[name], equal_nan=True), name


@pytest.mark.parametrize("lead", LEADS)
@pytest.mark.parametrize("doc", [GPX, TCX], ids=["gpx", "tcx"])
def test_a_lead_before_the_declaration_reads_as_without(doc, lead):
    (plain,) = formats.decode(doc)
    (led,) = formats.decode(lead + doc)
    same(led, plain)
    assert plain.n_samples == 2


@pytest.mark.parametrize("doc,bad,line", [(GPX, (b"</trkpt>", b"</trkpx>"), 5),
                                          (TCX, (b"</Trackpoint>", b"</Trackpont>"), 6)], ids=["gpx", "tcx"])
def test_a_broken_file_with_a_lead_names_its_own_line(doc, bad, line):
    # the second point's closing tag is misspelled: line 5 of the GPX, 6 of the TCX as written above
    k = doc.index(bad[0], doc.index(bad[0]) + 1)
    broken = doc[:k] + bad[1] + doc[k + len(bad[0]):]
    for lead, extra in ((b"", 0), (STRAVA_LEAD, 0), (b"\n\n" + STRAVA_LEAD, 2)):
        with pytest.raises(FormatError) as exc:
            formats.decode(lead + broken)
        assert exc.value.location == f"line {line + extra}", (lead, exc.value)


def test_the_upload_is_kept_as_it_came(db):
    uid, _ = make_user(db, "lead")
    data = STRAVA_LEAD + GPX
    (res,) = ingest_bytes(db, uid, data, filename="strava.gpx")
    assert res.status == "created", res
    with db.connect() as conn:
        assert repo.load_original(conn, res.activity_id)[0] == data


@pytest.mark.parametrize("rel", ["tcx/sweatpy_3173437224.tcx", "gpx/sweatpy_4078723797_strava.gpx"])
def test_corpus_files_with_strava_lead(rel, corpus):
    data = (CORPUS / rel).read_bytes()
    (plain,) = formats.decode(data)
    (led,) = formats.decode(STRAVA_LEAD + data)
    same(led, plain)
