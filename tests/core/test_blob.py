"""The channel blob keeps every float64 bit pattern: NaN payloads, -0.0, subnormals, infinities."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from runhub.store import blob

floats = arrays(np.float64, st.integers(0, 300), elements=st.floats(allow_nan=True, allow_infinity=True))


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["time", "distance", "heart_rate", "power", "x-dev"]), floats, max_size=5))
def test_round_trip_is_bit_exact(chs):
    n = min((len(v) for v in chs.values()), default=0)
    chs = {k: v[:n] for k, v in chs.items()}
    back = blob.decode(blob.encode(chs))
    assert list(back) == list(chs)
    for k in chs:
        assert back[k].view(np.uint64).tolist() == chs[k].view(np.uint64).tolist()


def test_odd_bit_patterns_survive():
    patterns = np.array([0x7FF8000000000001, 0xFFF0000000000001, 0x8000000000000000, 1], dtype=np.uint64)
    values = patterns.view(np.float64)
    back = blob.decode(blob.encode({"time": values}))["time"]
    assert back.view(np.uint64).tolist() == patterns.tolist()


def test_a_smooth_hour_compresses_well():
    t = np.arange(3600.0)
    blob_bytes = blob.encode({"time": t, "distance": np.cumsum(np.full(3600, 3.1))})
    assert len(blob_bytes) < 0.1 * 2 * 8 * 3600  # raw float64 would be 57,600 bytes


def test_truncated_and_foreign_blobs_are_refused():
    data = blob.encode({"time": np.arange(100.0)})
    with pytest.raises(blob.BlobError):
        blob.decode(b"XXXX" + data[4:])
    with pytest.raises(Exception):  # noqa: B017 - zstd or length check, either refuses
        blob.decode(data[:-5])


@settings(max_examples=100, deadline=None)
@given(st.lists(floats, min_size=1, max_size=6))
def test_matrix_packing_is_the_per_channel_layout(arrs):
    """encode packs all channels at once; the bytes are still layout v1's, channel after channel."""
    n = min(len(a) for a in arrs)
    arrs = [a[:n] for a in arrs]
    assert blob._pack(arrs) == b"".join(blob._pack_channel(a) for a in arrs)


def test_blobs_written_before_still_decode():
    """A blob of the first writer (zstd level 3, per-channel packing), byte for byte: the level and
    the packing changed since, the format did not."""
    import zstandard

    chs = {"time": np.arange(50.0), "power": np.where(np.arange(50) % 5 == 0, np.nan, 200.0 + np.arange(50))}
    header = b'{"n": 50, "channels": ["time", "power"]}'
    body = b"".join(blob._pack_channel(a) for a in chs.values())
    old = blob.MAGIC + len(header).to_bytes(4, "little") + header + zstandard.ZstdCompressor(level=3).compress(body)
    back = blob.decode(old)
    for k, v in chs.items():
        assert back[k].view(np.uint64).tolist() == v.view(np.uint64).tolist()
    assert blob.decode(blob.encode(chs)).keys() == chs.keys()


@settings(max_examples=100, deadline=None)
@given(st.lists(floats, min_size=1, max_size=4), floats)
def test_a_series_at_its_own_rate_rides_along_bit_exact(arrs, rr):
    """The RR intervals: a series of another length than the channels, after them in the frame."""
    n = min(len(a) for a in arrs)
    chs = {f"c{k}": a[:n] for k, a in enumerate(arrs)}
    data = blob.encode(chs, {"rr_intervals": rr})
    back, series = blob.unpack(data)
    assert list(back) == list(chs) and list(series) == ["rr_intervals"]
    for k in chs:
        assert back[k].view(np.uint64).tolist() == chs[k].view(np.uint64).tolist()
    assert series["rr_intervals"].view(np.uint64).tolist() == rr.view(np.uint64).tolist()
    assert blob.channel_names(data) == list(chs)
    assert blob.unpack(blob.encode(chs))[1] == {}  # a run without one: the blob of before, no series


def test_a_series_cut_short_is_refused():
    data = blob.encode({"time": np.arange(10.0)}, {"rr_intervals": np.full(7, 0.8)})
    header = data[8:8 + int.from_bytes(data[4:8], "little")]
    assert json.loads(header) == {"n": 10, "channels": ["time"], "series": {"rr_intervals": 7}}
    bad = header.replace(b"7}", b"9}")
    with pytest.raises(blob.BlobError, match="truncated"):
        blob.unpack(data[:4] + len(bad).to_bytes(4, "little") + bad + data[8 + len(header):])
