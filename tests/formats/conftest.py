"""Corpus location: shared/corpus next to the repo, or RUNHUB_CORPUS. Files are read in place. And
activities drawn at random within runhub's bounds, for the writers' checks."""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from runhub.activity import CALORIES_MAX, CHANNEL_BOUNDS, LAP_TYPES, Activity, ActivityError, Lap

CORPUS = Path(os.environ.get("RUNHUB_CORPUS") or Path(__file__).resolve().parents[2].parent / "shared" / "corpus")


def fit_file(body: bytes) -> bytes:
    """A FIT file of `body` (messages), header and file CRC computed (the Garmin SDK's CRC is
    checked against fit_crc in test_fit_fast_path.py)."""
    from runhub.formats.fit import fit_crc

    head = struct.pack("<BBHI4s", 14, 0x20, 2195, len(body), b".FIT")
    head += struct.pack("<H", fit_crc(head))
    return head + body + struct.pack("<H", fit_crc(head + body))


def corpus_files(kind: str) -> list[Path]:
    d = CORPUS / kind
    return sorted(p for p in d.iterdir() if p.is_file()) if d.is_dir() else []


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"activity corpus not found at {CORPUS} (set RUNHUB_CORPUS)")
    return CORPUS


def random_activity(rng: np.random.Generator) -> Activity | None:
    """An activity runhub accepts, its readings drawn anywhere within CHANNEL_BOUNDS (half of them
    at a bound), with pauses, laps of every kind and trigger, totals up to CALORIES_MAX and text
    with XML's special characters; None where validation refuses the draw."""
    n = int(rng.integers(2, 60))
    t = np.cumsum(np.concatenate(([0.0], np.full(n - 1, rng.choice([0.25, 1.0, 3.7, 60.0])))))
    channels = {"time": t}
    for name in ("latitude", "longitude", "altitude", "distance", "heart_rate", "cadence", "power", "temperature",
                 "speed"):
        if rng.random() < 0.7:
            lo, hi = CHANNEL_BOUNDS[name]
            v = (np.cumsum(rng.uniform(0, 20, n)) if name == "distance" else rng.uniform(lo, hi, n)
                 if rng.random() < 0.5 else np.full(n, rng.choice([lo, hi])))
            v[rng.integers(0, n)] = np.nan
            channels[name] = v
    if ("latitude" in channels) != ("longitude" in channels):
        channels.pop("latitude", None)
        channels.pop("longitude", None)
    elif "latitude" in channels:  # a position is missing as a pair
        gone = np.isnan(channels["latitude"]) | np.isnan(channels["longitude"])
        channels["latitude"][gone] = channels["longitude"][gone] = np.nan
    text = ("Run & <b>", "ünïcødé 🏃", "line\nbreak\ttab", "]]>", "a \"q\" 'x'")
    a = Activity(start=datetime(2001, 1, 1, tzinfo=UTC) + timedelta(seconds=float(rng.uniform(0, 7e8))),
                 sport=str(rng.choice(["running", "cycling", "swimming", "walking", "generic", "running.trail"])),
                 utc_offset=int(rng.choice([0, 3600, -36000])), channels=channels, name=str(rng.choice(text)),
                 notes=str(rng.choice(text)), calories=float(rng.uniform(0, CALORIES_MAX)))
    if n > 3:
        a.pauses = sorted({int(x) for x in rng.integers(1, n, 2)})
    for end in sorted({int(x) for x in rng.integers(0, n, 4)}):
        a.laps.append(Lap(end_time=float(t[end]), end_index=end, lap_type=str(rng.choice(LAP_TYPES)),
                          trigger=str(rng.choice(["manual", "distance", "position", "time", "heart_rate"])),
                          totals={"calories": float(rng.uniform(0, CALORIES_MAX))} if rng.random() < 0.5 else {}))
    try:
        return a.validate()
    except ActivityError:
        return None


def random_activities(seed: int, draws: int) -> Iterator[Activity]:
    """The activities of `draws` draws of `random_activity` (a fixed seed) that validation accepts."""
    rng = np.random.default_rng(seed)
    for _ in range(draws):
        a = random_activity(rng)
        if a is not None:
            yield a
