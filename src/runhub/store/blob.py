"""The channel blob: versioned, columnar, compressed, bit-exact for float64 (NaN included).

Layout v1: b"RHC1", uint32 header length, JSON header {"n": samples, "channels": [names]},
then one zstd frame of every channel in header order. Each channel is stored as its IEEE bit
patterns XOR-ed with the previous sample's (smooth series share their high bytes, so those
become zero) and byte-shuffled (all first bytes, then all second bytes ...), which is what
makes a general-purpose compressor effective on floats. Both steps are exact inverses.

A run may also hold series at their own rate (the heart's RR intervals): the header then gives
their lengths ("series": {name: length}), and they follow the channels in the same frame, packed
the same way. A blob without them is byte for byte the layout from before.
"""

from __future__ import annotations

import json
import struct
import threading

import numpy as np
import zstandard

MAGIC = b"RHC1"
# zstd level 1, not 3, for the channel blob and the original file. On the corpus FIT files
# (bench/store.py): blobs 12.4 MB raw -> 2.17 MB at level 3 in 33 ms, 2.27 MB (+4%) at level 1
# in 20 ms; originals 5.4 MB -> 2.85 MB in 38 ms, 2.98 MB (+4%) in 19 ms. Negative levels save
# a few ms more but cost +15% and more in size, which the database then writes (and checkpoints).
# The level only changes what is written: any zstd frame decodes the same way.
_LEVEL = 1
_local = threading.local()


def _compressor() -> zstandard.ZstdCompressor:
    """This thread's compressor (a ZstdCompressor is not thread-safe; creating one per call cost
    ~10-20 us, a noticeable part of storing a small activity)."""
    try:
        return _local.cctx
    except AttributeError:
        _local.cctx = zstandard.ZstdCompressor(level=_LEVEL)
        return _local.cctx


def _decompressor() -> zstandard.ZstdDecompressor:
    try:
        return _local.dctx
    except AttributeError:
        _local.dctx = zstandard.ZstdDecompressor()
        return _local.dctx


class BlobError(ValueError):
    """A stored blob that cannot be read (wrong magic, truncated, inconsistent lengths)."""


def _pack_channel(arr: np.ndarray) -> bytes:
    bits = np.ascontiguousarray(arr, dtype="<f8").view("<u8")
    delta = bits.copy()
    delta[1:] ^= bits[:-1]
    return delta.view(np.uint8).reshape(-1, 8).T.tobytes()


def _unpack_channel(raw: bytes, n: int) -> np.ndarray:
    shuffled = np.frombuffer(raw, dtype=np.uint8).reshape(8, n)
    delta = np.ascontiguousarray(shuffled.T).view("<u8").reshape(n)
    bits = np.bitwise_xor.accumulate(delta)
    return bits.view("<f8").astype(np.float64)


def _pack(arrays: list[np.ndarray]) -> bytes:
    """Every channel at once as one (channels, samples) matrix: the same bytes as joining
    `_pack_channel` of each, with a few numpy calls in all instead of a few per channel (an
    activity has up to ~60 channels: ~60 -> ~15 us for a small one, and ~20% less on a long one)."""
    bits = np.array(arrays, dtype="<f8").view("<u8")
    delta = bits.copy()
    delta[:, 1:] ^= bits[:, :-1]
    return delta.view(np.uint8).reshape(len(arrays), -1, 8).transpose(0, 2, 1).tobytes()


def encode(channels: dict[str, np.ndarray], series: dict[str, np.ndarray] | None = None) -> bytes:
    names = list(channels)
    n = len(channels[names[0]]) if names else 0
    head: dict[str, object] = {"n": n, "channels": names}
    body = _pack([channels[name] for name in names]) if names else b""
    if series:
        head["series"] = {name: len(arr) for name, arr in series.items()}
        body += b"".join(_pack_channel(arr) for arr in series.values())
    header = json.dumps(head).encode()
    return MAGIC + struct.pack("<I", len(header)) + header + _compressor().compress(body)


def _header(blob: bytes) -> tuple[int, list[str], dict[str, int], int]:
    """(samples, channel names, series lengths, offset of the zstd frame)."""
    if blob[:4] != MAGIC:
        raise BlobError("not a runhub channel blob (unknown version)")
    (hlen,) = struct.unpack_from("<I", blob, 4)
    header = json.loads(blob[8 : 8 + hlen])
    return header["n"], header["channels"], header.get("series", {}), 8 + hlen


def channel_names(blob: bytes) -> list[str]:
    """The blob's channel names, from its header alone (nothing decompressed: its head will do)."""
    return _header(blob)[1]


def unpack(blob: bytes) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(channels, series) of a blob."""
    n, names, lengths, at = _header(blob)
    size = 8 * (n * len(names) + sum(lengths.values()))
    body = _decompressor().decompress(blob[at:], max_output_size=size or 1)
    if len(body) != size:
        raise BlobError("channel blob is truncated")
    step = 8 * n
    channels = {name: _unpack_channel(body[k * step : (k + 1) * step], n) for k, name in enumerate(names)}
    series, pos = {}, step * len(names)
    for name, m in lengths.items():
        series[name] = _unpack_channel(body[pos : pos + 8 * m], m)
        pos += 8 * m
    return channels, series


def decode(blob: bytes) -> dict[str, np.ndarray]:
    """The blob's channels."""
    return unpack(blob)[0]


def compress(data: bytes) -> bytes:
    return _compressor().compress(data)


def decompress(data: bytes) -> bytes:
    return _decompressor().decompress(data)
