"""One compiled pass over a well-formed GPX or TCX document: every start tag, its name, depth,
parent, end tag, own text and the attributes asked for; then numbers and times read from those
byte spans, compiled too (runhub.jit).

Why hand-written: lxml builds a Python proxy per element touched, about 1 us each, and a 1-hour
GPX or TCX has 40,000+ elements. The numpy byte scan this replaces read the same facts in some
forty whole-buffer passes (every '<', '>', '"', '=', 8-byte words for names and attributes, byte
windows for texts), and numpy's string-to-float cast took ~0.5 us a long value. Measured on the
first hour of the Strava GPX (1.25 MB, 32,000 start tags): 14.2 ms for the numpy scan, 4.0 ms
now (1.9 ms of it this pass); the 3.7 MB gpsbabel TCX: 35.9 -> 12.1 ms. No library does this
either: the pass must give exactly what lxml's tree gives, by local name, and refuse the rest.
The kernels call no other kernel per tag or per byte: numba does not inline across cached
kernels, and the name look-up as its own kernel made the pass 2.9 ms instead of 2.0.

The document must pass _common.well_formed (libxml2, hardened) before anything read here is
used: the tokenizer relies on it (attribute values are quoted and hold no '<', every end tag
closes the open element) and checks only what it needs to stay in bounds. What it does not read
exactly, it refuses, and the caller walks lxml's tree instead: comments and CDATA, processing
instructions inside the root (their text would split or join an element's text), entity
references in a text or value read as a number or time (`Tags.numbers` and `Tags.times` return
None), a name with an empty part. Like the numpy scan before it, it takes a name's prefix as
given and does not look for its declaration: well_formed does not check namespaces, so a file
with an undeclared prefix is read here where lxml's tree would refuse it.
"""

from __future__ import annotations

import math
import re

import numpy as np

from runhub.formats._common import floats, parse_time, xml_float
from runhub.jit import kernel

# tokenize outcomes
OK = 0
UNSURE = 1  # outside the subset read here (comments, CDATA, late PIs) or not what well_formed passes
FULL = 2  # more start tags than the arrays given hold

# Tags.flags bits
OPENING = 1  # a start tag with content (not self-closing)
TEXT_AMP = 2  # its own text holds an entity or character reference

# decimals / iso_seconds per-value status
READ = 0  # the value is the float Python gives
BLANK = 1  # nothing but XML whitespace (or no text): NaN
PYTHON = 2  # another form: Python reads it (xml_float / parse_time)

# byte classes for the tokenizer, one look-up instead of several comparisons a byte
_SPACE = 1  # XML white space (the only bytes <= 32 a well-formed document holds outside markup)
_NAME_END = 2  # ends a tag name: white space, '/', '>'
_ATTR_NAME_END = 4  # ends an attribute name: white space, '='
_CLASS = np.zeros(256, dtype=np.uint8)
for _c in b" \t\n\r":
    _CLASS[_c] = _SPACE | _NAME_END | _ATTR_NAME_END
_CLASS[ord("/")] = _CLASS[ord(">")] = _NAME_END
_CLASS[ord("=")] = _ATTR_NAME_END

_MAX_EXACT = 2 ** 53  # digits forming an integer up to this are exact in float64
_MAX_DIGITS = 2 ** 62 // 10  # a mantissa from here on takes no more digits (stays below 2**62)
_POW5 = np.array([5 ** k for k in range(23)], dtype=np.int64)
_POW5_BITS = np.array([(5 ** k).bit_length() for k in range(23)], dtype=np.int64)
_POW10 = 10.0 ** np.arange(23)  # every one exact in float64
_US_PER_DIGIT = np.array([0, 100000, 10000, 1000, 100, 10, 1])  # microseconds of the last of n fraction digits
_MONTH_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
_ISO_FORM = np.array([0 if ch == "d" else ord(ch) for ch in "dddd-dd-ddTdd:dd:dd"])  # 0: a digit


@kernel
def tokenize(buf: np.ndarray, head: np.ndarray, chain: np.ndarray, names: np.ndarray, folded: np.ndarray,
             attr_names: np.ndarray, attr_lens: np.ndarray, pos: np.ndarray, end: np.ndarray, level: np.ndarray,
             code: np.ndarray, parent: np.ndarray, close: np.ndarray, text_stop: np.ndarray, flags: np.ndarray,
             attr_span: np.ndarray, attr_amp: np.ndarray, levels: np.ndarray, anc: np.ndarray,
             stack: np.ndarray) -> tuple[int, int]:
    """Every start tag of the well-formed document in buf, in document order, written to the
    arrays given (`stack` one longer). Returns (outcome, number of start tags).

    For start tag i, pos[i] is its '<' and end[i] its '>'; level[i] its depth (the root 0);
    code[i] 1 + the index of its local name (after any 'prefix:') among the looked-for names, 0
    for another; parent[i] its parent's number (-1 for the root); close[i] the '<' of its end
    tag (-1 when self-closing); its own text is buf[end[i] + 1:text_stop[i]] (up to the next tag,
    as lxml's .text; empty when self-closing); flags as OPENING and TEXT_AMP; attr_span[i, k] the
    (start, stop) of the value of the attribute named attr_names[k] (exactly, unprefixed; -1
    when absent), attr_amp[i, k] whether that value holds a reference; anc[k, i] the number of
    its ancestor at level levels[k] (itself at its own level; -1 when it is above that level).
    """
    n = len(buf)
    cap = len(pos)
    na = attr_names.shape[0]
    nl = len(levels)
    depth = 0
    nt = 0
    pending = -1  # the start tag whose own text runs up to the next '<'
    rooted = False
    done = False  # the root element has ended
    i = 0
    while True:
        amp = False
        while i < n and buf[i] != 60:  # '<'
            if buf[i] == 38:  # '&'
                amp = True
            i += 1
        if pending >= 0:
            text_stop[pending] = i
            if amp:
                flags[pending] |= TEXT_AMP
            pending = -1
        if i >= n:
            break
        if i + 1 >= n:
            return UNSURE, nt
        c = buf[i + 1]
        if c == 33:  # '!': comment, CDATA
            return UNSURE, nt
        if c == 63:  # '?': a processing instruction, allowed before the root only
            if rooted:
                return UNSURE, nt
            j = i + 2
            while j + 1 < n and not (buf[j] == 63 and buf[j + 1] == 62):
                j += 1
            if j + 1 >= n:
                return UNSURE, nt
            i = j + 2
            continue
        if c == 47:  # '/': an end tag
            j = i + 2
            while j < n and buf[j] != 62:
                j += 1
            if j >= n or depth == 0:
                return UNSURE, nt
            depth -= 1
            close[stack[depth]] = i
            if depth == 0:
                done = True
            i = j + 1
            continue
        # a start tag: the name, up to white space, '/' or '>'; its local part after one ':'
        if done:
            return UNSURE, nt
        if nt == cap:
            return FULL, nt
        j = i + 1
        colon = -1
        while j < n:
            b = buf[j]
            if _CLASS[b] & _NAME_END:
                break
            if b == 58 and colon < 0:
                colon = j
            j += 1
        local = colon + 1 if colon >= 0 else i + 1
        if j >= n or local >= j or colon == i + 1:
            return UNSURE, nt
        pos[nt] = i
        level[nt] = depth
        size = j - local  # the local name's code: candidates chained by (length, lower-case first byte)
        found = 0
        if size < head.shape[0]:
            c = np.int64(buf[local])
            k = head[size, c + 32 if 65 <= c <= 90 else c]
            while k >= 0:
                fold = folded[k]
                for m in range(size):
                    c = np.int64(buf[local + m])
                    if fold and 65 <= c <= 90:
                        c += 32
                    if c != names[k, m]:
                        break
                else:
                    found = k + 1
                    break
                k = chain[k]
        code[nt] = found
        parent[nt] = stack[depth - 1] if depth > 0 else -1
        close[nt] = -1
        text_stop[nt] = j  # replaced below for a start tag with content
        flags[nt] = 0
        for k in range(nl):
            lv = levels[k]
            anc[k, nt] = stack[lv] if lv < depth else (nt if lv == depth else -1)
        for k in range(na):
            attr_span[nt, k, 0] = -1
            attr_span[nt, k, 1] = -1
            attr_amp[nt, k] = False
        # attributes: name, optional white space, '=', optional white space, quoted value
        opening = True
        while True:
            while j < n and _CLASS[buf[j]] & _SPACE:
                j += 1
            if j >= n:
                return UNSURE, nt
            b = buf[j]
            if b == 62:
                break
            if b == 47:
                opening = False
                j += 1
                if j >= n or buf[j] != 62:
                    return UNSURE, nt
                break
            a0 = j
            while j < n and not _CLASS[buf[j]] & _ATTR_NAME_END:
                j += 1
            a1 = j
            while j < n and _CLASS[buf[j]] & _SPACE:
                j += 1
            if j >= n or buf[j] != 61:
                return UNSURE, nt
            j += 1
            while j < n and _CLASS[buf[j]] & _SPACE:
                j += 1
            if j >= n or (buf[j] != 34 and buf[j] != 39):
                return UNSURE, nt
            q = buf[j]
            j += 1
            v0 = j
            vamp = False
            while j < n and buf[j] != q:
                if buf[j] == 38:
                    vamp = True
                j += 1
            if j >= n:
                return UNSURE, nt
            for k in range(na):
                if attr_lens[k] == a1 - a0:
                    same = True
                    for m in range(a1 - a0):
                        if buf[a0 + m] != attr_names[k, m]:
                            same = False
                            break
                    if same:
                        attr_span[nt, k, 0] = v0
                        attr_span[nt, k, 1] = j
                        attr_amp[nt, k] = vamp
            j += 1
        end[nt] = j
        if opening:
            flags[nt] = OPENING
            stack[depth] = nt
            depth += 1
            pending = nt
        else:
            text_stop[nt] = j + 1
            if depth == 0:
                done = True
        rooted = True
        nt += 1
        i = j + 1
    if depth != 0 or not rooted:
        return UNSURE, nt
    return OK, nt


@kernel
def _trimmed(buf: np.ndarray, a: int, b: int) -> tuple[int, int]:
    """The span buf[a:b] without the XML white space around it."""
    while a < b and _CLASS[buf[a]] & _SPACE:
        a += 1
    while b > a and _CLASS[buf[b - 1]] & _SPACE:
        b -= 1
    return a, b


@kernel
def decimals(buf: np.ndarray, start: np.ndarray, stop: np.ndarray) -> tuple:
    """Each buf[start[i]:stop[i]] (start -1: no text) as float() reads it, with a status: READ,
    BLANK (NaN) or PYTHON for any form but XML white space around [-]digits[.digits] with digits
    making an integer m < 2**62 and at most 22 after the point.

    Exact: with m <= 2**53, m and 10**k are both exact in float64, so m / 10**k is one correctly
    rounded division, the very double float() returns (Clinger's fast path). A longer mantissa
    (the 17 digits of a float32 printed as a double, common in TCX) is divided by 5**k in
    integers, 54 bits and a sticky remainder, rounded half to even, then scaled by 2**-k: the
    correctly rounded quotient again, which is what float() returns.
    """
    count = len(start)
    out = np.full(count, np.nan)
    status = np.full(count, BLANK, dtype=np.int8)
    for i in range(count):
        a = start[i]
        b = stop[i]
        if a < 0:
            continue
        a, b = _trimmed(buf, a, b)
        if a == b:
            continue
        neg = buf[a] == 45  # '-'
        if neg:
            a += 1
        m = np.int64(0)
        k = 0
        digits = 0
        dot = False
        ok = True
        for j in range(a, b):
            c = np.int64(buf[j])
            if 48 <= c <= 57:
                if m >= _MAX_DIGITS:
                    ok = False
                    break
                m = m * 10 + (c - 48)
                digits += 1
                if dot:
                    k += 1
            elif c == 46 and not dot:
                dot = True
            else:
                ok = False
                break
        if not ok or digits == 0 or k > 22:
            status[i] = PYTHON
            continue
        if m <= _MAX_EXACT:
            v = np.float64(m) / _POW10[k]
        else:
            v = _long_quotient(m, k)
        out[i] = -v if neg else v
        status[i] = READ
    return out, status


@kernel
def _long_quotient(m: int, k: int) -> float:
    """m / 10**k correctly rounded (half to even), for 2**53 < m < 2**62 and 0 <= k <= 22.

    m / 10**k = (m / 5**k) * 2**-k, and the scaling is exact: the quotient by 5**k (below 2**52)
    is taken in integers to 54 significant bits, the bits past them kept as a sticky flag."""
    d = _POW5[k]
    q = m // d
    r = m - q * d
    bits = math.frexp(np.float64(q))[1]  # q's bit length (q >= 2), the float rounding corrected
    if (np.int64(1) << (bits - 1)) > q:
        bits -= 1
    if bits > 54:
        e = 54 - bits
        mant = q >> (bits - 54)
        sticky = (q & ((np.int64(1) << (bits - 54)) - 1)) != 0 or r != 0
    else:
        e = 54 - bits  # fraction bits to produce, a chunk at a time: r << step stays below 2**62
        mant = q
        step = 62 - _POW5_BITS[k]
        need = e
        while need > 0:
            c = min(step, need)
            r <<= c
            f = r // d
            r -= f * d
            mant = (mant << c) | f
            need -= c
        sticky = r != 0
    # mant: the quotient times 2**e truncated to 54 bits; round its last bit off, half to even
    half = mant & 1
    mant >>= 1
    if half and (sticky or mant & 1):
        mant += 1
    return math.ldexp(np.float64(mant), 1 - e - k)


@kernel
def pack(buf: np.ndarray, start: np.ndarray, stop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The texts buf[start[i]:stop[i]], XML white space stripped, as the rows of a NUL-padded
    matrix (an 'S' array's bytes), and whether each holds a byte beyond ASCII."""
    count = len(start)
    a = start.copy()
    b = stop.copy()
    width = 1
    for i in range(count):
        while a[i] < b[i] and _CLASS[buf[a[i]]] & _SPACE:
            a[i] += 1
        while b[i] > a[i] and _CLASS[buf[b[i] - 1]] & _SPACE:
            b[i] -= 1
        width = max(width, b[i] - a[i])
    out = np.zeros((count, width), dtype=np.uint8)
    wide = np.zeros(count, dtype=np.bool_)
    for i in range(count):
        for j in range(b[i] - a[i]):
            c = buf[a[i] + j]
            out[i, j] = c
            if c >= 0x80:
                wide[i] = True
    return out, wide


@kernel
def iso_seconds(buf: np.ndarray, start: np.ndarray, stop: np.ndarray) -> tuple:
    """Each buf[start[i]:stop[i]] as _common.parse_time reads it (Unix seconds, UTC when no
    offset), with a status: READ, BLANK (NaN) or PYTHON for any form but XML white space around
    YYYY-MM-DDTHH:MM:SS[.f, 1 to 6 digits][Z|+HH:MM|-HH:MM] with every field in range.

    Exact: datetime.timestamp() of an aware time is its whole microseconds since 1970 divided by
    10**6 as Python divides integers (correctly rounded); within 2**53 microseconds (years 1685 to
    2255) the integer is exact in float64 and one float division rounds the same.
    """
    count = len(start)
    out = np.full(count, np.nan)
    status = np.full(count, BLANK, dtype=np.int8)
    for i in range(count):
        a = start[i]
        b = stop[i]
        if a < 0:
            continue
        a, b = _trimmed(buf, a, b)
        if a == b:
            continue
        status[i] = PYTHON
        if b - a < 19:
            continue
        for p in range(19):
            c = np.int64(buf[a + p])
            if c != _ISO_FORM[p] and not (_ISO_FORM[p] == 0 and 48 <= c <= 57):
                break
        else:
            y = (np.int64(buf[a]) * 1000 + np.int64(buf[a + 1]) * 100 + np.int64(buf[a + 2]) * 10
                 + np.int64(buf[a + 3]) - 53328)  # 53328: '0' (48) times 1111
            mo = np.int64(buf[a + 5]) * 10 + np.int64(buf[a + 6]) - 528  # 528: '0' times 11
            d = np.int64(buf[a + 8]) * 10 + np.int64(buf[a + 9]) - 528
            h = np.int64(buf[a + 11]) * 10 + np.int64(buf[a + 12]) - 528
            mi = np.int64(buf[a + 14]) * 10 + np.int64(buf[a + 15]) - 528
            sec = np.int64(buf[a + 17]) * 10 + np.int64(buf[a + 18]) - 528
            leap = y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
            if y < 1 or mo < 1 or mo > 12 or d < 1 or d > _MONTH_DAYS[mo - 1] + (mo == 2 and leap) or h > 23 \
                    or mi > 59 or sec > 59:
                continue
            j = a + 19
            us = 0
            if j < b and buf[j] == 46:  # '.' and 1 to 6 digits
                f = j + 1
                while f < b and f < j + 8 and 48 <= buf[f] <= 57:
                    us = us * 10 + np.int64(buf[f]) - 48
                    f += 1
                if f == j + 1 or f == j + 8:
                    continue
                us *= _US_PER_DIGIT[f - j - 1]
                j = f
            offset = 0
            if j == b - 1 and buf[j] == 90:  # 'Z'
                j = b
            elif j == b - 6 and (buf[j] == 43 or buf[j] == 45) and buf[j + 3] == 58:  # +HH:MM, -HH:MM
                c1, c2, c3, c4 = buf[j + 1], buf[j + 2], buf[j + 4], buf[j + 5]
                if not (48 <= c1 <= 57 and 48 <= c2 <= 57 and 48 <= c3 <= 57 and 48 <= c4 <= 57):
                    continue
                oh = np.int64(c1) * 10 + np.int64(c2) - 528
                om = np.int64(c3) * 10 + np.int64(c4) - 528
                if oh > 23 or om > 59:
                    continue
                offset = (oh * 3600 + om * 60) * (1 if buf[j] == 43 else -1)
                j = b
            if j != b:
                continue
            # days since 1970-01-01 of the proleptic Gregorian date (H. Hinnant's days_from_civil)
            yy = y - 1 if mo <= 2 else y
            era = yy // 400
            yoe = yy - era * 400
            doy = (153 * (mo - 3 if mo > 2 else mo + 9) + 2) // 5 + d - 1
            days = era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468
            total = (days * 86400 + h * 3600 + mi * 60 + sec - offset) * 1000000 + us
            if -_MAX_EXACT <= total <= _MAX_EXACT:
                out[i] = np.float64(total) / 1e6
                status[i] = READ
    return out, status


# ---------------------------------------------------------------------------- the Python side


_TABLES: dict[tuple[tuple[bytes, ...], frozenset[bytes], tuple[bytes, ...]], tuple[np.ndarray, ...]] = {}


def _tables(names: tuple[bytes, ...], folded: frozenset[bytes], attrs: tuple[bytes, ...]) -> tuple[np.ndarray, ...]:
    """tokenize's look-up arrays: names by (length, lower-case first byte), chained; attribute names.

    The names are ours and fixed: no duplicates, and no exact name equal to a folded one in
    another letter case (asserted), so at most one name can match a tag."""
    key = (names, folded, attrs)
    if key not in _TABLES:
        assert len(set(names)) == len(names), "a name listed twice"
        assert not {nm.lower() for nm in names if nm not in folded} & set(folded), "a name both exact and folded"
        assert all(nm == nm.lower() for nm in folded), "folded names are given in lower case"
        width = max(len(nm) for nm in names) + 1
        head = np.full((width, 256), -1, dtype=np.int64)
        chain = np.full(len(names), -1, dtype=np.int64)
        table = np.zeros((len(names), width), dtype=np.int64)
        for k in reversed(range(len(names))):
            nm = names[k]
            table[k, :len(nm)] = list(nm)
            first = nm[0] + 32 if 65 <= nm[0] <= 90 else nm[0]
            chain[k] = head[len(nm), first]
            head[len(nm), first] = k
        fold = np.array([nm in folded for nm in names], dtype=np.bool_)
        aw = max((len(a) for a in attrs), default=1)
        attr_names = np.zeros((len(attrs), aw), dtype=np.int64)
        for k, a in enumerate(attrs):
            attr_names[k, :len(a)] = list(a)
        attr_lens = np.array([len(a) for a in attrs], dtype=np.int64)
        _TABLES[key] = (head, chain, table, fold, attr_names, attr_lens)
    return _TABLES[key]


class Tags:
    """The start tags of a document (see tokenize): arrays indexed by start tag number."""

    def __init__(self, data: bytes, buf: np.ndarray, n: int, arrays: tuple[np.ndarray, ...]) -> None:
        self.data, self.buf, self.n = data, buf, n
        pos, end, level, code, parent, close, text_stop, flags, attr_span, attr_amp, anc = arrays
        self.pos, self.end, self.level, self.code = pos[:n], end[:n], level[:n], code[:n]
        self.parent, self.close, self.text_stop = parent[:n], close[:n], text_stop[:n]
        self.opening = (flags[:n] & OPENING) != 0
        self.text_amp = (flags[:n] & TEXT_AMP) != 0
        self.attr_span, self.attr_amp = attr_span[:n], attr_amp[:n]
        self.anc = anc[:, :n]

    def _text_spans(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """(start, stop) of the own texts of start tags idx (-1: none); None if one holds a reference."""
        idx = np.asarray(idx, dtype=np.int64)
        some = idx >= 0
        safe = np.where(some, idx, 0)
        if (self.text_amp[safe] & some).any():
            return None
        return np.where(some, self.end[safe] + 1, -1), np.where(some, self.text_stop[safe], -1)

    def numbers(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """(value, blank) of the own text of each start tag idx as xml_float reads it (-1, an
        empty or blank text: NaN, blank True); None when a text holds a reference (lxml decodes those)."""
        spans = self._text_spans(idx)
        return None if spans is None else _numbers(self.data, self.buf, *spans)

    def times(self, idx: np.ndarray) -> np.ndarray | None:
        """Unix seconds of the own text of each start tag idx as parse_time reads it (NaN when
        -1 or unreadable); None when a text holds a reference."""
        spans = self._text_spans(idx)
        if spans is None:
            return None
        values, status = iso_seconds(self.buf, *spans)
        for i in np.flatnonzero(status == PYTHON):
            t = parse_time(self.data[spans[0][i]:spans[1][i]].decode("utf-8", "replace"))
            values[i] = np.nan if t is None else t
        return values

    def attr_numbers(self, idx: np.ndarray, k: int) -> np.ndarray | None:
        """Attribute k of each start tag idx as xml_float reads element.get() (absent: NaN);
        None when a value holds a reference."""
        span = self.attr_span[idx, k]
        if self.attr_amp[idx, k].any():
            return None
        return _numbers(self.data, self.buf, span[:, 0].copy(), span[:, 1].copy())[0]

    def text(self, i: int) -> str:
        """Start tag i's own text, as lxml's .text gives it ('' for none)."""
        return xml_text(self.data[self.end[i] + 1:self.text_stop[i]])

    def attr(self, i: int, k: int) -> str | None:
        """Attribute k of start tag i as lxml's element.get() gives it (None when absent)."""
        a, b = self.attr_span[i, k]
        return None if a < 0 else xml_text(self.data[a:b], attribute=True)


def last_of(idx: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
    """For each of n slots, the last of idx (in document order) whose owner is that slot; -1 for none."""
    out = np.full(n, -1, dtype=np.int64)
    if len(idx) > 1 and not (np.diff(owner) > 0).all():
        _, last = np.unique(owner[::-1], return_index=True)
        keep = len(owner) - 1 - last
        idx, owner = idx[keep], owner[keep]
    out[owner] = idx
    return out


def first_of(idx: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
    """For each of n slots, the first of idx (in document order) whose owner is that slot; -1 for none."""
    out = np.full(n, -1, dtype=np.int64)
    if len(idx) > 1 and not (np.diff(owner) > 0).all():
        _, first = np.unique(owner, return_index=True)
        idx, owner = idx[first], owner[first]
    out[owner] = idx
    return out


def _numbers(data: bytes, buf: np.ndarray, start: np.ndarray, stop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """decimals(), with the values it leaves to Python read as _common.floats reads them."""
    values, status = decimals(buf, start, stop)
    blank = status == BLANK
    rest = np.flatnonzero(status == PYTHON)
    if len(rest):
        packed, wide = pack(buf, start[rest], stop[rest])
        values[rest] = floats(packed.view(f"S{packed.shape[1]}").ravel())
        for i in rest[wide]:  # white space beyond ASCII (a no-break space) is blank to Python too
            if not data[start[i]:stop[i]].decode("utf-8", "replace").strip():
                blank[i] = True
                values[i] = xml_float("")
    return values, blank


def scan(data: bytes, names: tuple[bytes, ...], folded: frozenset[bytes] = frozenset(),
         attrs: tuple[bytes, ...] = (), levels: tuple[int, ...] = ()) -> Tags | None:
    """The start tags of well-formed XML, or None outside the subset read here (the caller then
    walks lxml's tree). Nothing read may be used before _common.well_formed has passed the
    document (_common.well_formed_while runs the two at once); on any other bytes the pass
    stays in bounds and its answer means nothing.

    A tag's code is 1 + the index of its local name in `names` (0 for another name); names in
    `folded` (lower case) match in any ASCII letter case, the others exactly (no non-ASCII
    character lower-cases to an ASCII letter but the Kelvin sign, 'k', in no name looked for).
    `attrs`: unprefixed attribute names whose values are located (Tags.attr_span); `levels`:
    the levels at which each tag's ancestor is given (Tags.anc).
    """
    if not data or data.startswith((b"\xfe\xff", b"\xff\xfe", b"\x00", b"\x4c\x6f\xa7\x94")):
        return None  # UTF-16/32, EBCDIC: the bytes are not ASCII-compatible
    buf = np.frombuffer(data, dtype=np.uint8)
    tables = _tables(names, folded, attrs)
    na, nl = len(attrs), len(levels)
    levels_arr = np.array(levels, dtype=np.int64)
    # room for the start tags of a file as dense as devices write (over 25 bytes a tag), else for
    # the most a document can hold (4 bytes a tag: <a/>)
    for cap in (len(data) // 16 + 64, len(data) // 4 + 1):
        arrays = (np.empty(cap, dtype=np.int64), np.empty(cap, dtype=np.int64), np.empty(cap, dtype=np.int32),
                  np.empty(cap, dtype=np.int16), np.empty(cap, dtype=np.int64), np.empty(cap, dtype=np.int64),
                  np.empty(cap, dtype=np.int64), np.empty(cap, dtype=np.uint8), np.empty((cap, na, 2), dtype=np.int64),
                  np.empty((cap, na), dtype=np.bool_), np.empty((nl, cap), dtype=np.int64))
        outcome, n = tokenize(buf, *tables, *arrays[:10], levels_arr, arrays[10], np.empty(cap + 1, dtype=np.int64))
        if outcome != FULL:
            break
    if outcome != OK:
        return None
    return Tags(data, buf, int(n), arrays)


_REF = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


def _ref(m: re.Match[str]) -> str:
    r = m.group(1)
    if r[0] != "#":
        return _NAMED[r]
    return chr(int(r[2:], 16) if r[1] == "x" else int(r[1:]))


def xml_text(raw: bytes, *, attribute: bool = False) -> str:
    """Raw UTF-8 text or attribute value of a well-formed document as an XML parser delivers it:
    line ends normalised to '\\n' (in an attribute value, also tabs and line ends to spaces),
    then the predefined entities and character references replaced (a document without a DTD
    can hold no other: well_formed refuses it)."""
    s = raw.decode("utf-8", "replace")
    if "\r" in s:
        s = s.replace("\r\n", "\n").replace("\r", "\n")
    if attribute:
        s = s.replace("\t", " ").replace("\n", " ")
    return _REF.sub(_ref, s) if "&" in s else s
