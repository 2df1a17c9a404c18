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

from .conftest import CORPUS, corpus_files
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
