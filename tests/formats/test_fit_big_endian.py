"""A FIT definition declares its messages little- or big-endian (architecture 0 or 1, FIT protocol
section 4.2.1.2): Wahoo, Hammerhead and the FIT SDK's own samples write big-endian, Garmin and
runhub little-endian. A file must read the same either way: every channel, lap, pause and the
summary. The flip below is written from the protocol: each definition's architecture byte and
global message number, and every multi-byte field of its data messages byte-swapped by its base
type's element size (a developer field by the base type its field_description gives)."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from runhub.formats import fit

from .conftest import CORPUS
from .test_fit_roundtrip import _full_run

# FIT base type number (low 5 bits of the base type byte) -> element size in bytes
ELEMENT = {0: 1, 1: 1, 2: 1, 3: 2, 4: 2, 5: 4, 6: 4, 7: 1, 8: 4, 9: 8, 10: 1, 11: 2, 12: 4, 13: 1, 14: 8, 15: 8, 16: 8}
FIELD_DESCRIPTION = 206


def _swap(raw: bytes, size: int) -> bytes:
    if size == 1 or len(raw) % size:
        return raw
    return b"".join(raw[k:k + size][::-1] for k in range(0, len(raw), size))


def flipped(data: bytes) -> bytes:
    """The same FIT file with every message in the other byte order; the CRCs written anew."""
    hs = data[0]
    size = struct.unpack_from("<I", data, 4)[0]
    body = bytearray()
    defs: dict[int, tuple[list[tuple[int, int]], list[tuple[int, int, int]], int]] = {}
    dev_types: dict[tuple[int, int], int] = {}  # (developer data index, field number) -> base type
    pos = hs
    while pos < hs + size:
        header = data[pos]
        if header & 0x80:  # compressed timestamp: a data message of local type bits 5-6
            local, definition, dev = (header >> 5) & 3, False, False
        else:
            local, definition, dev = header & 0x0F, bool(header & 0x40), bool(header & 0x20)
        body.append(header)
        pos += 1
        if definition:
            arch = data[pos + 1]
            (glob,) = struct.unpack_from(">H" if arch else "<H", data, pos + 2)
            n = data[pos + 4]
            fields = [(data[pos + 5 + 3 * k + 1], data[pos + 5 + 3 * k + 2]) for k in range(n)]
            end = pos + 5 + 3 * n
            dev_fields: list[tuple[int, int, int]] = []
            if dev:
                m = data[end]
                dev_fields = [(data[end + 1 + 3 * k], data[end + 1 + 3 * k + 1], data[end + 1 + 3 * k + 2])
                              for k in range(m)]
                end += 1 + 3 * m
            defs[local] = (fields, dev_fields, glob)
            body += bytes([data[pos], 1 - arch]) + struct.pack("<H" if arch else ">H", glob) + data[pos + 4:end]
            pos = end
            continue
        fields, dev_fields, glob = defs[local]
        start = pos
        for fsize, base in fields:
            body += _swap(data[pos:pos + fsize], ELEMENT[base & 0x1F])
            pos += fsize
        if glob == FIELD_DESCRIPTION:  # its fields 0, 1, 2: developer data index, field number, base type
            nums = [data[start + sum(s for s, _ in fields[:k])] for k in range(3)]
            dev_types[(nums[0], nums[1])] = nums[2]
        for num, fsize, index in dev_fields:
            body += _swap(data[pos:pos + fsize], ELEMENT[dev_types[(index, num)] & 0x1F])
            pos += fsize
    head = bytearray(data[:hs])
    if hs == 14:
        head[12:14] = struct.pack("<H", fit.fit_crc(bytes(head[:12])))
    whole = bytes(head) + bytes(body)
    return whole + struct.pack("<H", fit.fit_crc(whole))


def _same(a, b) -> None:
    assert a.start == b.start and a.sport == b.sport
    assert a.channels.keys() == b.channels.keys()
    for k in a.channels:
        assert np.array_equal(a.channels[k], b.channels[k], equal_nan=True), k
    assert a.pauses == b.pauses
    assert [(lap.end_time, lap.end_index, lap.lap_type, lap.trigger) for lap in a.laps] == [
        (lap.end_time, lap.end_index, lap.lap_type, lap.trigger) for lap in b.laps]
    assert a.device_summary == b.device_summary and a.calories == b.calories
    assert (a.rr_intervals is None) == (b.rr_intervals is None)
    if a.rr_intervals is not None:  # hrv: uint16[5], read by the message walk in either order
        assert a.rr_intervals.tolist() == b.rr_intervals.tolist()
    assert a.extras.get("fit_decoder") == b.extras.get("fit_decoder")  # the fast path takes both orders


def test_the_flip_writes_what_the_protocol_says():
    """Checked by hand on the first definition of a runhub file: file_id (global 0), now big-endian;
    flipped twice, the file is itself again."""
    little = fit.encode(_full_run())
    big = flipped(little)
    hs = big[0]
    assert big[hs] & 0x40 and big[hs + 2] == 1 and big[hs + 3:hs + 5] == b"\x00\x00"
    assert len(big) == len(little) and big != little and flipped(big) == little


def test_a_big_endian_file_reads_as_its_little_endian_twin():
    """runhub's own writer's file: records, laps, pauses, developer fields (Leg Spring Stiffness,
    Form Power, runhub's export id: a uint64)."""
    little = fit.encode(_full_run())
    (a,) = fit.decode(little)
    (b,) = fit.decode(flipped(little))
    _same(a, b)
    assert "Leg Spring Stiffness" in b.channels and b.channels["power"][0] == a.channels["power"][0]


@pytest.mark.parametrize("name", [
    "fitsdkpy_ActivityDevFields.fit",  # the FIT SDK's sample: big-endian, developer fields
    "gpsbabel_wahoo-element-bolt.fit",  # Wahoo: big-endian
    "fitparse_garmin-edge-500-activity.fit",  # Garmin: little-endian
    "fitparse_garmin-fenix-5-run.fit",  # Garmin: little-endian, with 113 RR intervals (hrv messages)
])
def test_a_device_file_flipped_reads_the_same(name):
    path = CORPUS / "fit" / name
    if not path.is_file():
        pytest.skip(f"corpus file {name} not found at {path.parent} (set RUNHUB_CORPUS)")
    data = path.read_bytes()
    acts, acts_flipped = fit.decode(data), fit.decode(flipped(data))
    assert len(acts) == len(acts_flipped) >= 1
    for a, b in zip(acts, acts_flipped, strict=True):
        _same(a, b)
