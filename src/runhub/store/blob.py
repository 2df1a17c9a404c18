"""The channel blob: versioned, columnar, compressed, bit-exact for float64 (NaN included).

Layout v1: b"RHC1", uint32 header length, JSON header {"n": samples, "channels": [names]},
then one zstd frame of every channel in header order. Each channel is stored as its IEEE bit
patterns XOR-ed with the previous sample's (smooth series share their high bytes, so those
become zero) and byte-shuffled (all first bytes, then all second bytes ...), which is what
makes a general-purpose compressor effective on floats. Both steps are exact inverses.
"""

from __future__ import annotations

import json
import struct

import numpy as np
import zstandard

MAGIC = b"RHC1"
_LEVEL = 3


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


def encode(channels: dict[str, np.ndarray]) -> bytes:
    names = list(channels)
    n = len(channels[names[0]]) if names else 0
    header = json.dumps({"n": n, "channels": names}).encode()
    body = b"".join(_pack_channel(channels[name]) for name in names)
    return MAGIC + struct.pack("<I", len(header)) + header + zstandard.ZstdCompressor(level=_LEVEL).compress(body)


def decode(blob: bytes) -> dict[str, np.ndarray]:
    if blob[:4] != MAGIC:
        raise BlobError("not a runhub channel blob (unknown version)")
    (hlen,) = struct.unpack_from("<I", blob, 4)
    header = json.loads(blob[8 : 8 + hlen])
    n, names = header["n"], header["channels"]
    body = zstandard.ZstdDecompressor().decompress(blob[8 + hlen :], max_output_size=8 * n * len(names) or 1)
    if len(body) != 8 * n * len(names):
        raise BlobError("channel blob is truncated")
    size = 8 * n
    return {name: _unpack_channel(body[k * size : (k + 1) * size], n) for k, name in enumerate(names)}


def compress(data: bytes) -> bytes:
    return zstandard.ZstdCompressor(level=_LEVEL).compress(data)


def decompress(data: bytes) -> bytes:
    return zstandard.ZstdDecompressor().decompress(data)
