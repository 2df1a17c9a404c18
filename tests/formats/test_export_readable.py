"""Every export reads back: each activity of the corpus, written in each format runhub writes,
either decodes again (with its laps, pauses, odometer and the timer runhub shows, where the
format can say them) or is refused up front, naming the format's limit. A file runhub wrote and
then cannot read (a Smashrun JSON with no distance, a GPX with no track point, a CSV header
alone) would be a backup that cannot be restored. FIT, TCX and GPX also say that runhub wrote them
(tests/core/test_import_sources.py: what a restore does with that).

Which activities a format cannot carry is stated here from the formats' own rules, not from
runhub's output: Smashrun needs a distance (as a recording, positions, or a total for a summary;
smashrun-api.txt, "The only required series are Duration and (one or both of Distance and
Latitude/Longitude)"); a GPX activity is timed track points with a position (two at least to have
a duration); CSV is one line per sample. FIT and TCX carry any activity.
"""

from __future__ import annotations

import copy
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from runhub import formats
from runhub.activity import Activity
from runhub.analysis.timebase import make_timer_explicit, time_base
from runhub.formats import FormatError

from .conftest import CORPUS
from .test_corpus import CSV_READ, REFUSED, _all, decode_upload

FORMATS = ("json", "csv", "gpx", "tcx", "fit")


def _positions(a: Activity) -> int:
    if "latitude" not in a.channels or "longitude" not in a.channels:
        return 0
    return int(np.count_nonzero(np.isfinite(a.channels["latitude"]) & np.isfinite(a.channels["longitude"])))


def cannot_carry(a: Activity, fmt: str) -> str | None:
    """Words the refusal must hold when `fmt` cannot carry `a`, else None."""
    if fmt == "json":
        if a.n_samples and "distance" not in a.channels and _positions(a) == 0:
            return "distance or latitude/longitude"
        if not a.n_samples and a.summary.distance is None:
            return "needs a distance"
    if fmt == "gpx" and _positions(a) < 2:
        return "track points with a position"
    if fmt == "csv" and not a.n_samples:
        return "one line per sample"
    return None


# metres: Smashrun JSON and CSV write distance exactly; TCX DistanceMeters to the mm; FIT's record
# distance is uint32 in cm (each half of a rounding, plus float noise)
DISTANCE_RESOLUTION = {"json": 1e-9, "csv": 1e-9, "tcx": 0.0005 + 1e-9, "fit": 0.005 + 1e-6}


def expected_laps(a: Activity, fmt: str) -> int:
    """Laps read back. CSV has none; Smashrun JSON carries them as they are; TCX and FIT
    require one at least. TCX measures a lap by its TotalTimeSeconds (timer) and the clock of its
    points: a lap of no timer time after another still reads as a lap where it ends later on the
    clock (the BingiWatch pool swim has one: 0 s, 24 s after the lap before); one that advances
    neither would be read as part of the lap before (none in the corpus)."""
    if fmt == "csv":
        return 0
    if fmt == "json":
        return len(a.laps)
    return max(len(a.laps), 1)


def _odometer(a: Activity) -> float:
    d = a.channels["distance"]
    return float(d[np.isfinite(d)][-1])


def _good() -> list[str]:
    return [r for r in _all() if r not in REFUSED and (not r.startswith("csv/") or r in CSV_READ)]


# how far the timer read back from each format may be from the timer runhub shows (the export
# writes it explicitly first: analysis.timebase.make_timer_explicit), by the formats' own rules
def timer_tolerance(a: Activity, fmt: str) -> float | None:
    if fmt == "json":  # Smashrun's duration series and pauseIndexes: exact
        return 1e-9
    if fmt == "csv":  # timestamps to the microsecond, and a CSV starts at its first sample: without
        # a timer column, a timer counted from the start loses the lead before that sample
        return 1e-6 + (float(a.channels["time"][0]) if "timer" not in a.channels else 0.0)
    if fmt == "fit":  # whole seconds: the start and the last record, and each timer stop (fit_encode)
        return 1.0 + 0.5 * len(a.pauses)
    return None  # TCX and GPX say nothing of a timer running through a dropout: not compared


@pytest.mark.parametrize("rel", _good() or ["(no corpus)"])
def test_every_export_reads_back_or_is_refused_up_front(rel: str, corpus: Path) -> None:
    acts = decode_upload((CORPUS / rel).read_bytes(), Path(rel).name)
    for original in acts:
        assert "written_by" not in original.extras  # SOURCES.md: every corpus file comes from elsewhere
        shown = time_base(original).timer if original.n_samples > 1 else None
        for fmt in FORMATS:
            a = copy.deepcopy(original)
            make_timer_explicit(a, fmt)  # what `runhub export` writes
            limit = cannot_carry(a, fmt)
            if limit is not None:
                with pytest.raises(FormatError) as exc:
                    formats.encode(a, fmt)
                assert limit in exc.value.message and exc.value.format == fmt, (fmt, exc.value.message)
                continue
            (back,) = formats.decode(formats.encode(a, fmt), filename=f"export.{fmt}", sport=a.sport)
            back.validate()
            # who wrote the file, where the format has a place for it (ingest takes it for an export)
            assert back.extras.get("written_by") == (None if fmt in ("csv", "json") else formats.WRITER), fmt
            if fmt == "gpx":  # the samples with a position only: tests/formats/test_roundtrip*.py
                continue
            n = a.n_samples
            if fmt == "csv":  # a CSV has no start of its own: its first line's time is the start
                start = a.start + timedelta(seconds=float(a.channels["time"][0])) if n else a.start
            elif fmt == "fit":  # whole seconds: the start truncated, one sample per rounded second (fit_encode)
                start = a.start.replace(microsecond=0)
                n = len(np.unique(np.round(a.channels["time"]))) if n else 0
            else:
                start = a.start
            assert back.start == start, (fmt, back.start, a.start)
            assert back.n_samples == n, (fmt, back.n_samples, a.n_samples)
            assert len(back.laps) == expected_laps(original, fmt), (fmt, len(back.laps), len(original.laps))
            # pauses as written (FIT: with the gap rule's, make_timer_explicit); CSV has none
            assert len(back.pauses) == (0 if fmt == "csv" else len(a.pauses)), (fmt, back.pauses, a.pauses)
            if "distance" in original.channels:  # the odometer, to the format's resolution
                assert abs(_odometer(back) - _odometer(original)) <= DISTANCE_RESOLUTION[fmt], fmt
            tol = timer_tolerance(a, fmt)
            if shown is not None and tol is not None:
                assert abs(time_base(back).timer - shown) <= tol, (fmt, time_base(back).timer, shown)


@pytest.mark.parametrize("rel", _good() or ["(no corpus)"])
def test_gpxpy_reads_every_gpx_export_as_written(rel: str, corpus: Path) -> None:
    """Another reader's view of runhub's GPX (gpxpy, which FitTrackee and many other tools read GPX
    with): one track point per sample with a position, at its position to 1e-7 deg and its time to
    the millisecond, a new segment after each pause, the run's name and the elevations."""
    import gpxpy

    for a in decode_upload((CORPUS / rel).read_bytes(), Path(rel).name):
        if cannot_carry(a, "gpx") is not None:
            continue
        g = gpxpy.parse(formats.encode(a, "gpx").decode())
        (track,) = g.tracks
        points = [p for seg in track.segments for p in seg.points]
        lat, lon = a.channels["latitude"], a.channels["longitude"]
        has = np.flatnonzero(np.isfinite(lat) & np.isfinite(lon))
        assert len(points) == len(has)
        np.testing.assert_allclose([p.latitude for p in points], lat[has], rtol=0, atol=5.1e-8)
        np.testing.assert_allclose([p.longitude for p in points], lon[has], rtol=0, atol=5.1e-8)
        when = np.array([(p.time - a.start).total_seconds() for p in points])
        np.testing.assert_allclose(when, a.channels["time"][has], rtol=0, atol=5e-4 + 1e-6)
        # a segment starts at each pause that falls among the written points
        breaks = {int(np.searchsorted(has, p)) for p in a.pauses} - {0, len(has)}
        assert len(track.segments) == 1 + len(breaks)
        assert track.name == (a.name or None)
        if "altitude" in a.channels:
            alt = a.channels["altitude"][has]
            got = np.array([np.nan if p.elevation is None else p.elevation for p in points])
            np.testing.assert_allclose(got, alt, rtol=0, atol=5e-4 + 1e-9)
