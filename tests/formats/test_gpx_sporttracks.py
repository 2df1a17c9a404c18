"""SportTracks' GPX layout: heart rate, cadence and power kept apart from the points.

SportTracks, SpoQ, ergometer apps and converters write them in the gpx element's extensions,
each entry at its own instant: st:activity/st:heartRateTrack/st:heartRate time= bpm= (and
cadenceTrack rpm=, powerTrack watts=). Runalyze reads them (its test of SpoQ.gpx); runhub read
the points and dropped the heart rate without a word. The expected values below are written by
hand from the files in this module.
"""

from __future__ import annotations

import numpy as np
import pytest

from runhub import formats
from runhub.ingest import prepare

ST = "urn:uuid:D0EB2ED5-49B6-44e3-B13C-CF15BE7DD7DD"

# the SpoQ file's heart rate, as Runalyze's test (tests/inc/import/parser/ParserGPXSingleTest,
# testFileFromSpoQ) reads it: the seconds after 09:36:22 and the bpm of each entry, at the points'
# own instants; Runalyze expects an average of 112 (within 0.5) and a maximum of 132
SPOQ_SECONDS = [0, 6, 8, 10, 12, 14, 17, 19, 21, 23]
SPOQ_BPM = [103, 105, 107, 109, 109, 111, 113, 119, 122, 132]


def _time(second: int) -> str:
    return f"2013-09-29T09:{36 + (22 + second) // 60:02d}:{(22 + second) % 60:02d}Z"


def _spoq(comment: bool = False) -> bytes:
    """SpoQ's layout: the activity's extensions before the track, speed as a child of trkpt."""
    hr = "".join(f'<st:heartRate time="{_time(s)}" bpm="{b}" />\n' for s, b in zip(SPOQ_SECONDS, SPOQ_BPM, strict=True))
    pts = "".join(f'<trkpt lat="{51.41 - k * 1e-5:.5f}" lon="7.39"><ele>207</ele><speed>1.0</speed>'
                  f"<time>{_time(s)}</time></trkpt>\n" for k, s in enumerate(SPOQ_SECONDS))
    note = "<!-- a comment sends the file to the tree walk -->" if comment else ""
    return (f'<?xml version="1.0"?>\n<gpx version="1.1" creator="a-rival SpoQ PC Software" xmlns:st="{ST}" '
            f'xmlns="http://www.topografix.com/GPX/1/1">{note}\n<extensions>\n'
            f'<st:activity id="1" startTime="{_time(0)}">\n<st:heartRateTrack>\n{hr}</st:heartRateTrack>\n'
            f"</st:activity>\n</extensions>\n<trk>\n<trkseg>\n{pts}</trkseg>\n</trk>\n</gpx>\n").encode()


@pytest.mark.parametrize("comment", [False, True], ids=["scan", "tree"])
def test_the_heart_rate_spoq_keeps_apart_is_the_points_heart_rate(comment):
    (a,) = formats.decode(_spoq(comment))
    assert a.channels["time"].tolist() == SPOQ_SECONDS
    assert a.channels["heart_rate"].tolist() == SPOQ_BPM
    assert not np.isnan(a.channels["latitude"]).any()  # no sample of its own: every entry is at a point
    assert a.extras["sporttracks_series"] == {"heart_rate": 10}
    a.validate()
    prepare(a)
    # each value weighted by the time since the sample before (the 9 steps: 6, 2, 2, 2, 2, 3, 2, 2, 2 s)
    by_hand = (105 * 6 + 107 * 2 + 109 * 2 + 109 * 2 + 111 * 2 + 113 * 3 + 119 * 2 + 122 * 2 + 132 * 2) / 23
    assert a.summary.heart_rate_average == pytest.approx(by_hand, abs=1e-9)
    assert abs(a.summary.heart_rate_average - 112) <= 0.5  # Runalyze's expectation for SpoQ.gpx
    assert a.summary.heart_rate_max == 132


def _between(order: str) -> bytes:
    """Two segments 10:00:00-02 and 10:00:10-12; entries at the points' instants and between them
    (10:00:01 inside the first segment, 10:00:05 in the gap between the two); a point with its own
    heart rate; cadence and power tracks; the extensions before or after the track."""
    def t(s: int) -> str:
        return f"2013-09-29T10:00:{s:02d}Z"

    tpx = ('<extensions><gpxtpx:TrackPointExtension xmlns:gpxtpx="http://www.garmin.com/xmlschemas/'
           'TrackPointExtension/v1"><gpxtpx:hr>150</gpxtpx:hr></gpxtpx:TrackPointExtension></extensions>')
    track = ("<trk><trkseg>\n"
             f'<trkpt lat="51.0" lon="7.0"><time>{t(0)}</time></trkpt>\n'
             f'<trkpt lat="51.0001" lon="7.0"><time>{t(2)}</time></trkpt>\n'
             "</trkseg><trkseg>\n"
             f'<trkpt lat="51.0002" lon="7.0"><time>{t(10)}</time>{tpx}</trkpt>\n'
             f'<trkpt lat="51.0003" lon="7.0"><time>{t(12)}</time></trkpt>\n'
             "</trkseg></trk>\n")
    hr = "".join(f'<st:heartRate time="{t(s)}" bpm="{b}" />' for s, b in ((0, 100), (1, 110), (2, 120), (5, 125),
                                                                          (10, 140), (12, 145)))
    ext = (f"<extensions><st:activity>\n<st:heartRateTrack>{hr}</st:heartRateTrack>\n"
           f'<st:cadenceTrack><st:cadence time="{t(1)}" rpm="88" /><st:cadence time="{t(12)}" rpm="90" />'
           f'</st:cadenceTrack>\n<st:powerTrack><st:power time="{t(2)}" watts="200" /></st:powerTrack>\n'
           "</st:activity></extensions>\n")
    body = ext + track if order == "before" else track + ext
    return (f'<?xml version="1.0"?>\n<gpx version="1.1" creator="ErgoControl" xmlns:st="{ST}" '
            f'xmlns="http://www.topografix.com/GPX/1/1">\n{body}</gpx>\n').encode()


@pytest.mark.parametrize("order", ["before", "after"])
def test_an_entry_between_points_is_a_sample_of_its_own_and_a_gap_stays_paused(order):
    (a,) = formats.decode(_between(order))
    nan = np.nan
    np.testing.assert_array_equal(a.channels["time"], [0, 1, 2, 5, 10, 12])
    np.testing.assert_array_equal(a.channels["latitude"], [51.0, nan, 51.0001, nan, 51.0002, 51.0003])
    # the point's own heart rate (150) stands over the entry at its instant (140)
    np.testing.assert_array_equal(a.channels["heart_rate"], [100, 110, 120, 125, 150, 145])
    np.testing.assert_array_equal(a.channels["cadence"], [nan, 88, nan, nan, nan, 90])
    np.testing.assert_array_equal(a.channels["power"], [nan, nan, 200, nan, nan, nan])
    assert a.pauses == [3, 4]  # 10:00:02 -> 05 -> 10: the whole gap between the segments, as without entries
    assert a.extras["sporttracks_series"] == {"heart_rate": 6, "cadence": 2, "power": 1}
    assert a.extras["sporttracks_instants_without_a_point"] == 2
    a.validate()
    prepare(a)
    assert a.summary.elapsed_time == 12
    assert a.summary.timer_time == 4  # 0 -> 2 and 10 -> 12
    # the heart rate of the 4 running seconds, each value over the second before it: 110, 120, 145, 145
    assert a.summary.heart_rate_average == pytest.approx((110 + 120 + 145 * 2) / 4)


def test_a_series_survives_a_tcx_round_trip():
    """TCX carries a sample without a position (a Trackpoint of a Time alone): every entry comes back."""
    (a,) = formats.decode(_between("after"))
    a.validate()
    (back,) = formats.decode(formats.encode(a, "tcx"))
    np.testing.assert_array_equal(back.channels["time"], a.channels["time"])
    np.testing.assert_array_equal(back.channels["heart_rate"], a.channels["heart_rate"])
    assert back.pauses == a.pauses


def test_an_entry_before_the_first_point_or_after_the_last_is_left_out():
    """The recording is the track's: an entry a minute before it, or in the year 3000, is no sample
    (it would make a run of a thousand years); the file says how many were left out."""
    data = _between("after").replace(b"<st:heartRateTrack>", b'<st:heartRateTrack><st:heartRate '
                                     b'time="2013-09-29T09:59:00Z" bpm="90" /><st:heartRate '
                                     b'time="3000-01-01T00:00:00Z" bpm="91" />')
    (a,) = formats.decode(data)
    np.testing.assert_array_equal(a.channels["time"], [0, 1, 2, 5, 10, 12])
    assert a.extras["sporttracks_series"]["heart_rate"] == 8
    assert a.extras["sporttracks_entries_outside_the_track"] == 2


def test_a_gpx_without_the_layout_is_read_as_before():
    """A file whose only st: element is the activity's summary (no track of entries) gains nothing."""
    plain = _spoq().replace(b"<st:heartRateTrack>", b"<st:other>").replace(b"</st:heartRateTrack>", b"</st:other>")
    (a,) = formats.decode(plain)
    assert "heart_rate" not in a.channels and "sporttracks_series" not in a.extras
