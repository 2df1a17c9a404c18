"""FIT byte-level kernels: the file CRC and the message-header walk, compiled (runhub.jit).

Why hand-written and compiled: no installed library computes CRC-16/ARC (the FIT CRC) at C speed
(the standard library has none, fitdecode's is pure Python byte by byte, fitfast does not expose
its own), and no library walks FIT message headers without decoding every field. Measured on the
52 corpus files (5.5 MB), one pass: the walk (with the split-off file it builds) 21 ms as a Python
loop, 2.6 ms compiled; the CRC of every byte 71 ms as numpy blocks, 3.5 ms compiled (slicing by 8).

Both take the file as a uint8 array (`np.frombuffer(data, np.uint8)`, no copy).
"""

from __future__ import annotations

import numpy as np

from runhub.jit import kernel

# CRC-16/ARC (reflected polynomial 0xA001, initial 0): CRC_TABLES[0] is the table the FIT SDK uses;
# CRC_TABLES[k][b] is the CRC of byte b followed by k zero bytes, for 8 bytes a step ("slicing by 8":
# the 8 look-ups of a step are independent, ~4x the byte-at-a-time loop)
CRC_TABLES = np.zeros((8, 256), dtype=np.int64)
for _b in range(256):
    _c = _b
    for _ in range(8):
        _c = (_c >> 1) ^ 0xA001 if _c & 1 else _c >> 1
    CRC_TABLES[0, _b] = _c
for _k in range(1, 8):
    for _b in range(256):
        _c = CRC_TABLES[_k - 1, _b]
        CRC_TABLES[_k, _b] = (_c >> 8) ^ CRC_TABLES[0, _c & 0xFF]

# `walk` outcomes
WHOLE = 0  # every message up to the end of the data is whole
BROKEN = 1  # the message at `at` runs past the end given
UNDEFINED = 2  # the data message at `at` uses a local type no definition has set
NOT_FIT = 3  # the message at `at` is garbage, not FIT: a definition with an architecture byte other than 0
# or 1, or a field of a base type the protocol has not (its number, the low five bits, past that of
# uint64z); a normal data header with its reserved bit (0x10) set; a field description whose
# fit_base_type_id is no base type of the protocol, or which has none, or names it twice
MAX_BASE_TYPE = 16  # uint64z (0x90), the last base type

RECORD = 20  # global message number of `record`
HRV = 78  # global message number of `hrv`: its field 0, `time`, is uint16[] in ms (0xFFFF: invalid)
UINT16 = 4  # the base type number of uint16 (0x84), its low five bits
FIELD_DESCRIPTION = 206  # global message number of `field_description`: its field 2 is fit_base_type_id
NO_BASE_TYPE = -2  # a field_description definition without that field


@kernel
def crc16(buf: np.ndarray, start: int, stop: int, crc: int) -> int:
    """FIT CRC of buf[start:stop], continuing from `crc` (0 to start)."""
    t = CRC_TABLES
    i = start
    while i + 8 <= stop:
        x0 = (crc ^ np.int64(buf[i])) & 0xFF
        x1 = ((crc >> 8) ^ np.int64(buf[i + 1])) & 0xFF
        crc = (t[7, x0] ^ t[6, x1] ^ t[5, buf[i + 2]] ^ t[4, buf[i + 3]]
               ^ t[3, buf[i + 4]] ^ t[2, buf[i + 5]] ^ t[1, buf[i + 6]] ^ t[0, buf[i + 7]])
        i += 8
    for j in range(i, stop):
        crc = (crc >> 8) ^ t[0, (crc ^ np.int64(buf[j])) & 0xFF]
    return crc


@kernel
def walk(buf: np.ndarray, hs: int, end: int, split: bool, keep: np.ndarray) -> tuple:
    """Walk the message headers of one FIT file from byte `hs` (just past its header) to `end`;
    definitions give the sizes.

    Returns (outcome, at, last, records, known, others, rr_ms):
    * outcome WHOLE, BROKEN, UNDEFINED or NOT_FIT, and `at` the offset of the message at fault (-1
      if none);
    * known: the broken message is a data message that runs past the end of `buf`, of a local type
      a whole data message used since its definition (the file is cut in data of a kind read once);
    * last: the offset just past the last whole message; records: whole `record` messages;
    * others (when `split`): a FIT file holding only the messages whose global number `keep`
      marks (definitions and data, in file order, header and CRCs rewritten), so that a decoder
      reads those alone; empty when not split. A kept message with a compressed-timestamp header
      needs the records' timestamps, so it turns the split off.
    * rr_ms: the `time` values (ms) of every whole hrv message, in order, invalid ones left out.
      Read here, not by a decoder: fitfast.records skips array fields, and fitfast.parse makes a
      dict of every message (3 ms for the 2,197 of a 1-hour ride, as long as the records' decode).
      An hrv definition whose `time` is not uint16[] turns the split off, so that the decoder
      reads every hrv message instead.
    """
    sizes = np.full(16, -1, dtype=np.int64)
    used = np.zeros(16, dtype=np.bool_)
    glob_of = np.zeros(16, dtype=np.int64)
    spans = np.empty(64, dtype=np.int64)  # (start, stop) pairs of kept bytes, adjacent ones merged
    n_spans = 0
    rr_at = np.full(16, -1, dtype=np.int64)  # per local type of hrv: where `time` starts in a message
    rr_n = np.zeros(16, dtype=np.int64)  # ... and how many values it holds
    rr_big = np.zeros(16, dtype=np.bool_)
    rr = np.empty(256, dtype=np.int64)
    n_rr = 0
    bt_at = np.full(16, -1, dtype=np.int64)  # per local type of field_description: where fit_base_type_id is
    pos = hs
    last = hs
    records = 0
    outcome = WHOLE
    at = -1
    known = False
    while pos < end:
        h = np.int64(buf[pos])
        kept = False
        if h & 0x40 and not h & 0x80:  # definition
            if pos + 6 > end:
                outcome = BROKEN
                at = pos
                break
            nf = np.int64(buf[pos + 5])
            nxt = pos + 6 + 3 * nf
            if nxt > end:
                outcome = BROKEN
                at = pos
                break
            if buf[pos + 2] > 1:
                outcome = NOT_FIT
                at = pos
                break
            if buf[pos + 2] == 1:  # big-endian
                glob = np.int64(buf[pos + 3]) << 8 | np.int64(buf[pos + 4])
            else:
                glob = np.int64(buf[pos + 4]) << 8 | np.int64(buf[pos + 3])
            sz = 0
            odd = False
            for i in range(pos + 7, nxt, 3):  # the size and base type bytes of each field definition
                sz += np.int64(buf[i])
                odd |= (buf[i + 1] & 0x1F) > MAX_BASE_TYPE
            if odd:
                outcome = NOT_FIT
                at = pos
                break
            if h & 0x20:  # developer fields follow
                if nxt + 1 > end:
                    outcome = BROKEN
                    at = pos
                    break
                dev_end = nxt + 1 + 3 * np.int64(buf[nxt])
                if dev_end > end:
                    outcome = BROKEN
                    at = pos
                    break
                for i in range(nxt + 2, dev_end, 3):
                    sz += np.int64(buf[i])
                nxt = dev_end
            loc = h & 0x0F
            sizes[loc] = sz
            glob_of[loc] = glob
            used[loc] = False
            rr_at[loc] = -1
            bt_at[loc] = -1
            if glob == FIELD_DESCRIPTION:  # without a one-byte field 2 it gives no base type either
                bt_at[loc] = NO_BASE_TYPE
                off = 0
                named = 0
                for i in range(pos + 6, pos + 6 + 3 * nf, 3):
                    if buf[i] == 2:
                        named += 1
                        if buf[i + 1] == 1:
                            bt_at[loc] = off
                    off += np.int64(buf[i + 1])
                if named > 1:  # field 2 twice: which base type a decoder takes is not said (rustyfit: the last)
                    bt_at[loc] = NO_BASE_TYPE
            if glob == HRV:
                off = 0
                for i in range(pos + 6, pos + 6 + 3 * nf, 3):  # (number, size, base type) of each field
                    if buf[i] == 0:
                        if buf[i + 2] & 0x1F == UINT16 and buf[i + 1] % 2 == 0:
                            rr_at[loc] = off
                            rr_n[loc] = buf[i + 1] // 2
                            rr_big[loc] = buf[pos + 2] == 1
                        else:
                            split = False  # not as the profile has it: the decoder reads the hrv messages
                    off += np.int64(buf[i + 1])
            kept = keep[glob]  # a data message always follows its own definition
        else:  # data: a normal header, or a compressed-timestamp one (local type in bits 5-6)
            compressed = h & 0x80
            loc = (h >> 5) & 0x3 if compressed else h & 0x0F
            sz = sizes[loc]
            if not compressed and h & 0x10:
                outcome = NOT_FIT
                at = pos
                break
            if sz < 0:
                outcome = UNDEFINED
                at = pos
                break
            nxt = pos + 1 + sz
            if nxt > end:
                outcome = BROKEN
                at = pos
                known = used[loc] and nxt > len(buf)
                break
            used[loc] = True
            # rustyfit 0.10 takes such a base type as one of size 0 and panics on the first developer
            # field that uses it ("attempt to calculate the remainder with a divisor of zero")
            if bt_at[loc] == NO_BASE_TYPE or bt_at[loc] >= 0 and (buf[pos + 1 + bt_at[loc]] & 0x1F) > MAX_BASE_TYPE:
                outcome = NOT_FIT
                at = pos
                break
            if glob_of[loc] == RECORD:
                records += 1
            elif rr_at[loc] >= 0:
                for j in range(rr_n[loc]):
                    i = pos + 1 + rr_at[loc] + 2 * j
                    v = (np.int64(buf[i]) << 8 | np.int64(buf[i + 1])) if rr_big[loc] else \
                        (np.int64(buf[i + 1]) << 8 | np.int64(buf[i]))
                    if v != 0xFFFF:
                        if n_rr == len(rr):
                            rr = _doubled(rr)
                        rr[n_rr] = v
                        n_rr += 1
            elif keep[glob_of[loc]]:
                if compressed:
                    split = False  # a kept message needs the records' timestamps: no split
                else:
                    kept = True
        if kept and split:
            if n_spans > 0 and spans[2 * n_spans - 1] == pos:
                spans[2 * n_spans - 1] = nxt
            else:
                if 2 * n_spans == len(spans):
                    spans = _doubled(spans)
                spans[2 * n_spans] = pos
                spans[2 * n_spans + 1] = nxt
                n_spans += 1
        pos = nxt
        last = nxt
    if not split or outcome == UNDEFINED or outcome == NOT_FIT:
        return outcome, at, last, records, known, np.empty(0, dtype=np.uint8), rr[:n_rr]
    return outcome, at, last, records, known, _others(buf, hs, spans, n_spans), rr[:n_rr]


@kernel
def _doubled(a: np.ndarray) -> np.ndarray:
    """`a` in an array of twice its room (the walk's growing arrays)."""
    out = np.empty(2 * len(a), dtype=a.dtype)
    out[:len(a)] = a
    return out


@kernel
def _others(buf: np.ndarray, hs: int, spans: np.ndarray, n_spans: int) -> np.ndarray:
    """The FIT file of the kept spans: the original header with the new data size (and header CRC),
    the spans, and the file CRC."""
    body = 0
    for k in range(n_spans):
        body += spans[2 * k + 1] - spans[2 * k]
    out = np.empty(hs + body + 2, dtype=np.uint8)
    out[:hs] = buf[:hs]
    for i in range(4):
        out[4 + i] = (body >> (8 * i)) & 0xFF
    if hs == 14:
        c = crc16(out, 0, 12, 0)
        out[12] = c & 0xFF
        out[13] = c >> 8
    o = hs
    for k in range(n_spans):
        a = spans[2 * k]
        b = spans[2 * k + 1]
        out[o:o + b - a] = buf[a:b]
        o += b - a
    c = crc16(out, 0, o, 0)
    out[o] = c & 0xFF
    out[o + 1] = c >> 8
    return out
