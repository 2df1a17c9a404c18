"""Why a FIT file that fitfast refused is refused, from its structure alone, when that decides it.

fitfast's errors name no byte offset, so a refused file used to be decoded again by fitdecode,
strictly, for the verdict: its pure-Python walk costs ~26 ms on a 78 KB file and ~69 ms on a
48 KB one, to say "local message 11 not defined" or "wrong CRC". Most refusals are decided by the
message headers, the definitions and the CRCs alone, so this walk retraces the checks fitdecode
makes (in its order: each FIT file's header, its messages, its CRC, then the next file), without
decoding any field but the two that say which developer fields exist. It returns the first fault,
or None when the structure decides nothing: then the caller asks fitdecode, as before.

It only speaks where fitdecode would refuse for sure: a fault it finds is one fitdecode raises
when its walk reaches that byte (it may have raised an error of its own about a field value
before; the file is refused either way), and a truncated file it could keep (whole records or a
session before the break) is left to the decoders. tests/formats/test_fit_verdict.py holds it to
fitdecode on mutated corpus files.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from runhub.formats import fit_walk

SESSION, RECORD = 18, 20
FIELD_DESCRIPTION, DEVELOPER_DATA_ID = 206, 207
# fitdecode's base types (types.BASE_TYPES): code -> size; any other code is read as bytes (size 1)
BASE_SIZE = {0x83: 2, 0x84: 2, 0x8B: 2, 0x85: 4, 0x86: 4, 0x88: 4, 0x8C: 4, 0x89: 8, 0x8E: 8, 0x8F: 8, 0x90: 8}
KNOWN_BASE = {0x00, 0x01, 0x02, 0x07, 0x0A, 0x0D, *BASE_SIZE}
# integer base types: code -> (struct format, invalid value); a single value of one of these is read
INTEGERS = {0x00: ("B", 0xFF), 0x02: ("B", 0xFF), 0x0A: ("B", 0), 0x84: ("H", 0xFFFF), 0x8B: ("H", 0),
            0x86: ("I", 0xFFFFFFFF), 0x8C: ("I", 0)}
INVALID = -1  # `_value` of a field holding its type's invalid value, which fitdecode reads as None
NUMERIC = {0x01, *INTEGERS, *BASE_SIZE}  # fitdecode reads these as numbers; 0x07 as a string, the rest as bytes


class _Undecided(Exception):
    """The structure alone does not decide (a truncated file that may be kept, odd values): ask fitdecode."""


class _Fault(Exception):
    def __init__(self, message: str, at: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.at = at


@dataclass
class _Def:
    size: int  # payload bytes of a data message
    glob: int
    endian: str
    fields: list[tuple[int, int, int]]  # (number, size, base type) of the plain fields
    odd: bool  # fitdecode reads its data messages otherwise than by the sizes (or fails on a size 0)
    dev: bool  # has developer fields
    empty: tuple[int, int] | None = None  # (field, offset in a data message) of the first field of 0 bytes


def verdict(data: bytes) -> tuple[str, str | None] | None:
    """(what is wrong, where) when the structure decides that fitdecode refuses `data`, else None."""
    try:
        _walk_files(data)
    except _Fault as fault:
        return fault.message, (f"byte {fault.at}" if fault.at is not None else None)
    except _Undecided:
        return None
    return None


def _walk_files(data: bytes) -> None:
    """Each FIT file of the stream in turn, as fitdecode reads them; raises at the first fault."""
    n = len(data)
    buf = np.frombuffer(data, dtype=np.uint8)
    seen = [0]  # records and sessions read whole so far: a file cut after any is kept, not refused
    pos = 0
    while pos < n:
        if n - pos < 12:
            raise _Fault(f"bad FIT header (only {n - pos} bytes follow the FIT file that ends at byte {pos})", pos)
        hs = data[pos]
        if hs < 12 or data[pos + 8:pos + 12] != b".FIT":
            raise _Fault("bad FIT header (no '.FIT' signature where the next chained FIT file should begin)", pos)
        if hs not in (12, 14):
            raise _Undecided
        if n - pos < hs:
            _cut(pos, seen)
        if hs == 14:
            stored = struct.unpack_from("<H", data, pos + 12)[0]
            if stored and fit_walk.crc16(buf, pos, pos + 12, 0) != stored:
                raise _Fault("the FIT header's CRC does not match the header, so the file is refused", pos)
        body_end = pos + hs + struct.unpack_from("<I", data, pos + 4)[0]
        _walk_messages(data, pos + hs, body_end, seen)
        if body_end + 2 > n:  # cut in the CRC
            _cut(body_end, seen)
        stored = struct.unpack_from("<H", data, body_end)[0]
        computed = fit_walk.crc16(buf, pos, body_end, 0)
        if computed != stored:
            raise _Fault(f"the file's CRC does not match its content, so it is refused (stored {stored}, computed "
                         f"{computed})", body_end)
        pos = body_end + 2


def _cut(at: int, seen: list[int]) -> None:
    """The data ends inside the message (or CRC) at `at`: kept by the decoders when a record or a
    session came before, else refused."""
    if seen[0]:
        raise _Undecided
    raise _Fault(f"the file ends before its first whole record (the message at byte {at} runs past the end)", at)


def _walk_messages(data: bytes, pos: int, body_end: int, seen: list[int]) -> None:
    """The messages of one FIT file, read the way fitdecode reads them (definitions field by field)."""
    n = len(data)
    defs: list[_Def | None] = [None] * 16
    dev_types: dict[int, dict[int, int]] = {}  # developer data index -> field number -> base type size
    while pos < body_end:
        if pos >= n:
            _cut(pos, seen)
        h = data[pos]
        if h & 0x80:  # compressed timestamp header
            loc, definition = (h >> 5) & 0x3, False
        else:
            loc, definition = h & 0x0F, bool(h & 0x40)
        if definition:
            nxt = _definition(data, pos, defs, dev_types, seen)
        else:
            d = defs[loc]
            if d is None:
                raise _Fault(f"invalid FIT content (local message {loc} is used before any definition of it)", pos)
            if d.empty is not None and pos + 1 + d.empty[1] <= n:
                # fitdecode reads a field of 0 bytes as an error of its own ("ValueError: size")
                raise _Fault(f"invalid FIT content (field {d.empty[0]} of the definition of local message {loc} "
                             "is 0 bytes long, so its data messages cannot be read)", pos)
            if d.odd:
                raise _Undecided
            nxt = pos + 1 + d.size
            if nxt > n:
                _cut(pos, seen)
            if d.glob == DEVELOPER_DATA_ID or d.glob == FIELD_DESCRIPTION:
                _developer_message(data, pos, d, dev_types)
            elif d.glob == RECORD or d.glob == SESSION:
                seen[0] += 1
        if nxt > body_end:
            raise _Fault("a message runs past the data size the FIT header declares (corrupt header or data)", pos)
        pos = nxt


def _definition(data: bytes, pos: int, defs: list[_Def | None], dev_types: dict[int, dict[int, int]],
                seen: list[int]) -> int:
    """Read the definition at `pos` (fitdecode's checks, in its order); the offset just past it."""
    n = len(data)
    if pos + 6 > n:
        _cut(pos, seen)
    endian = ">" if data[pos + 2] else "<"
    glob = struct.unpack_from(endian + "H", data, pos + 3)[0]
    nf = data[pos + 5]
    p = pos + 6
    size = 0
    odd = False
    empty = None
    fields = []
    for i in range(nf):
        if p + 3 > n:
            _cut(pos, seen)
        num, fsize, base = data[p], data[p + 1], data[p + 2]
        bsize = BASE_SIZE.get(base, 1)
        if fsize % bsize:
            raise _Fault(f"invalid FIT content (field {i} of the definition is {fsize} bytes long, not a multiple of "
                         f"its type's {bsize})", pos)
        odd |= fsize == 0
        if fsize == 0 and empty is None:
            empty = (i, size)
        size += fsize
        fields.append((num, fsize, base))
        p += 3
    dev = bool(data[pos] & 0x20)
    if dev:
        if p + 1 > n:
            _cut(pos, seen)
        nd = data[p]
        p += 1
        for k in range(nd):
            if p + 3 > n:
                _cut(pos, seen)
            num, fsize, index = data[p], data[p + 1], data[p + 2]
            if index not in dev_types:
                raise _Fault(f"invalid FIT content (a definition names developer data index {index}, which no "
                             "developer_data_id message declared)", pos)
            bsize = dev_types[index].get(num)
            if bsize is None:
                raise _Fault(f"invalid FIT content (a definition names developer field {num} of developer data "
                             f"index {index}, which no field_description message declared)", pos)
            odd |= fsize == 0 or fsize % bsize != 0
            if fsize == 0 and empty is None:
                empty = (nf + k, size)
            size += fsize
            p += 3
    defs[data[pos] & 0x0F] = _Def(size, glob, endian, fields, odd, dev, empty)
    return p


def _developer_message(data: bytes, pos: int, d: _Def, dev_types: dict[int, dict[int, int]]) -> None:
    """developer_data_id declares a developer data index (dropping its fields), field_description
    declares a field of one, as fitdecode registers them; anything unusual is left to fitdecode."""
    if d.dev:
        raise _Undecided
    if d.glob == DEVELOPER_DATA_ID:
        index = _index(data, pos, d, 3, "developer_data_id")
        if index is None:
            raise _Fault("invalid FIT content (a developer_data_id message without its developer_data_index)", pos)
        if index == INVALID:  # fitdecode reads it as None, which its int() fails ("TypeError: int() argument...")
            raise _Fault("invalid FIT content (the developer_data_index of a developer_data_id message is the "
                         "type's invalid value)", pos)
        dev_types[index] = {}
        return
    index = _index(data, pos, d, 0, "field_description")
    num = _value(data, pos, d, 1)
    if num == INVALID:  # fitdecode keeps a field None; what it then does is left to it
        raise _Undecided
    if index is None or num is None:
        raise _Fault("invalid FIT content (a field_description message without its developer_data_index or "
                     "field_definition_number)", pos)
    if index not in dev_types:  # INVALID too: fitdecode reads None, which no developer_data_id declares
        raise _Fault(f"invalid FIT content (a field_description message names developer data index "
                     f"{'none' if index == INVALID else index}, which no developer_data_id message declared)", pos)
    base = _value(data, pos, d, 2, missing=0x0D)
    if base == INVALID:  # read as None: bytes
        base = 0x0D
    if base not in KNOWN_BASE:  # fitdecode looks it up in its table of base types ("KeyError: 101")
        raise _Fault(f"invalid FIT content (the field description at byte {pos} gives its developer field no base "
                     f"type FIT defines (fit_base_type_id {base}))", pos)
    dev_types[index][num] = BASE_SIZE.get(base, 1)


def _index(data: bytes, pos: int, d: _Def, number: int, name: str) -> int | None:
    """The developer_data_index (field `number`) of the developer message at `pos`, as fitdecode reads
    it: a numeric array, or bytes (any type but a number or a string) not all 0xFF, comes out as a
    tuple, which its int() fails ("TypeError: int() argument..."): refused here in runhub's words."""
    off = pos + 1
    for num, fsize, base in d.fields:
        if num != number:
            off += fsize
            continue
        count = fsize // BASE_SIZE.get(base, 1)
        if base in NUMERIC and count > 1:
            raise _Fault(f"invalid FIT content (the developer_data_index of a {name} message is {count} values, "
                         "not one)", pos)
        if base not in NUMERIC and base != 0x07 and any(b != 0xFF for b in data[off:off + fsize]):
            raise _Fault(f"invalid FIT content (the developer_data_index of a {name} message is bytes, not a "
                         "number)", pos)
        break
    return _value(data, pos, d, number)


def _value(data: bytes, pos: int, d: _Def, number: int, missing: int | None = None) -> int | None:
    """The raw value of the first field `number` of the data message at `pos`; `missing` when the
    message has no such field; INVALID for its type's invalid value. _Undecided unless it is one
    integer."""
    off = pos + 1
    for num, fsize, base in d.fields:
        if num == number:
            fmt = INTEGERS.get(base)
            if fmt is None or struct.calcsize(fmt[0]) != fsize:
                raise _Undecided
            value = struct.unpack_from(d.endian + fmt[0], data, off)[0]
            return INVALID if value == fmt[1] else value
        off += fsize
    return missing
