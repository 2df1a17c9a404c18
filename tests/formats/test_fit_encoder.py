"""runhub's FIT writer drives the Garmin SDK's Encoder with three shortcuts (fit_encode._encoder:
cached definitions, one struct.pack per message of scalar numbers, the compiled CRC). The outside
truth is the SDK's own Encoder, unchanged: fed the same messages it must write the same bytes."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

import numpy as np
import pytest

from runhub import formats
from runhub.activity import Activity
from runhub.formats import FormatError, fit_encode

from .conftest import CORPUS, corpus_files, random_activities
from .test_fit_roundtrip import _full_run


def both(a: Activity, monkeypatch: pytest.MonkeyPatch) -> tuple[bytes, bytes]:
    """(runhub's bytes, the plain SDK Encoder's bytes) for one activity."""
    from garmin_fit_sdk import Encoder

    fast = fit_encode.encode(a)
    with monkeypatch.context() as m:
        m.setattr(fit_encode, "_encoder", Encoder)
        plain = fit_encode.encode(a)
    return fast, plain


def edge_run() -> Activity:
    """Values at the edges of the Encoder's arithmetic: negative altitudes (an offset), negative
    and below-zero temperatures (sint8), positions west and south (sint32), halves to round (Python
    rounds them to even), gaps that change the set of fields from one record to the next, values a
    field cannot hold, developer fields."""
    a = _full_run(seed=11)
    n = a.n_samples
    rng = np.random.default_rng(5)
    a.channels["altitude"] = np.where(np.arange(n) % 3 == 0, -412.5, 8848.1 + rng.random(n))
    a.channels["temperature"] = np.where(np.arange(n) % 2 == 0, -12.0, 41.0)
    a.channels["latitude"] = -33.8 - rng.random(n) * 0.01
    a.channels["longitude"] = -70.6 - rng.random(n) * 0.01
    a.channels["speed"] = np.full(n, 2.0005)  # (v) * 1000 = 2000.5: half to even
    a.channels["power"][::7] = np.nan
    a.channels["distance"][5:9] = np.nan
    a.channels["heart_rate"][40:45] = 300.0  # cannot be held: written as missing
    return a


def test_a_run_at_the_edges_writes_the_sdks_bytes(monkeypatch):
    fast, plain = both(edge_run(), monkeypatch)
    assert fast == plain
    (back,) = formats.decode(fast)  # and it is a FIT file runhub reads
    assert back.n_samples == edge_run().n_samples


def test_a_run_started_and_stopped_writes_the_sdks_bytes(monkeypatch):
    from runhub.demo import make_run

    a = make_run(12, datetime(2023, 12, 31, 23, 59, 30, tzinfo=UTC), minutes=14.0)
    fast, plain = both(a, monkeypatch)
    assert fast == plain and a.pauses


def test_every_corpus_activity_writes_the_sdks_bytes(monkeypatch, corpus):
    checked = 0
    for path in corpus_files("fit"):
        data = path.read_bytes()
        if path.name.endswith(".gz"):
            data = gzip.decompress(data)
        try:
            acts = formats.decode(data, filename=path.name)
        except FormatError:
            continue  # a refused file: nothing to write
        for a in acts:
            fast, plain = both(a, monkeypatch)
            assert fast == plain, path.name
            checked += 1
    assert checked >= 40, f"only {checked} activities written ({CORPUS})"


def test_a_total_a_field_cannot_hold_is_left_out_not_wrapped(monkeypatch):
    """A session's total_calories is a uint16 (65,534 at most, 65,535 being FIT's invalid) and
    max_heart_rate a uint8 (254): runhub accepts 100,000 kcal and 260 bpm, and the Encoder masks
    an integer to its width, so 75,949 kcal read back as 10,413 (75,949 - 65,536) and 258 bpm as 2.
    Such a total is written as missing; one the field holds is written as it is. Read back with
    the Garmin SDK's own decoder."""
    from garmin_fit_sdk import Decoder, Stream

    def session(calories: float, hr_max: float, distance: float | None = None) -> dict:
        a = _full_run(seed=4)
        a.calories = calories
        a.summary.heart_rate_average, a.summary.heart_rate_max = 150.0, hr_max
        a.summary.distance = distance
        fast, plain = both(a, monkeypatch)
        assert fast == plain  # the same message, left out before either encoder sees it
        messages, errors = Decoder(Stream.from_byte_array(bytearray(fast))).read()
        assert not errors
        (s,) = messages["session_mesgs"]
        return s

    s = session(75_949.0, 258.0)
    assert "total_calories" not in s and "max_heart_rate" not in s
    s = session(65_534.0, 254.0)
    assert (s["total_calories"], s["max_heart_rate"]) == (65_534, 254)
    # a total past any float once scaled (1e307 m is 1e309 cm) is not held either, and no crash
    s = session(500.0, 180.0, distance=1e307)
    assert "total_distance" not in s and s["total_calories"] == 500


def test_activities_drawn_at_random_write_fit_files_the_sdk_reads_true():
    """300 activities drawn within runhub's bounds (readings at the bounds half the time, totals up
    to CALORIES_MAX, a fixed seed): each FIT file passes the Garmin SDK's integrity check and reads
    without errors, and every reading and total it holds is the one written (within the field's
    resolution, here 1 unit), never a wrapped one; a reading the field cannot hold is missing."""
    from garmin_fit_sdk import Decoder, Stream

    checked = 0
    for a in random_activities(20261130, 300):
        data = fit_encode.encode(a)
        assert Decoder(Stream.from_byte_array(bytearray(data))).check_integrity()
        messages, errors = Decoder(Stream.from_byte_array(bytearray(data))).read()
        assert not errors
        (s,) = messages["session_mesgs"]
        if "total_calories" in s:
            assert abs(s["total_calories"] - a.calories) <= 0.5
        (b,) = formats.decode(data)
        for name in ("heart_rate", "cadence", "power", "temperature", "altitude"):
            if name not in a.channels or name not in b.channels or b.n_samples != a.n_samples:
                continue  # sub-second samples come back at 1 Hz (fit_encode's docstring)
            x, y = a.channels[name], b.channels[name]
            both_known = np.isfinite(x) & np.isfinite(y)
            assert np.all(np.abs(x[both_known] - y[both_known]) <= 1.0), name
            checked += 1
    assert checked >= 100
