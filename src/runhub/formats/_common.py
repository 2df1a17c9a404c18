"""Helpers every decoder shares: masking impossible sensor values, naming where an error is."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from runhub.activity import CHANNEL_BOUNDS
from runhub.formats import FormatError

# Channels whose out-of-range samples are sensor glitches (a chest strap reporting 0 bpm, an
# altimeter spike). Positions, time and distance are never masked: wrong there means a wrong file.
MASKABLE = ("altitude", "heart_rate", "cadence", "power", "form_power", "temperature", "speed",
            "gps_accuracy", "satellites", "smo2", "core_temperature", "respiration_rate")


def mask_impossible(channels: dict[str, np.ndarray], extras: dict[str, Any]) -> None:
    """Set samples no sensor can truly read (outside activity.CHANNEL_BOUNDS) to NaN, and say how many.

    Devices write 0 bpm for "no heart rate" and occasional garbage; refusing a whole recording
    for one such sample loses the run, keeping it breaks every average. Missing is the truth.
    """
    masked: dict[str, int] = {}
    for name in MASKABLE:
        arr = channels.get(name)
        if arr is None:
            continue
        lo, hi = CHANNEL_BOUNDS[name]
        with np.errstate(invalid="ignore"):
            bad = (arr < lo) | (arr > hi) | np.isinf(arr)
        count = int(bad.sum())
        if count:
            arr[bad] = np.nan
            masked[name] = count
    for name in list(channels):
        if name != "time" and np.isnan(channels[name]).all():
            del channels[name]
    if masked:
        extras["masked_samples"] = masked


def quarantine_backward_distance(
    channels: dict[str, np.ndarray], extras: dict[str, Any], tolerance: float = 0.01
) -> None:
    """A cumulative distance that runs backwards is not a distance (an app interleaving two
    counters, a reset mid-file). Keep the values under `distance_recorded` so nothing is lost,
    and leave `distance` absent so analysis derives it from positions, as for a GPX file."""
    d = channels.get("distance")
    if d is None:
        return
    known = d[~np.isnan(d)]
    if len(known) > 1 and (np.diff(known) < -tolerance).any():
        channels["distance_recorded"] = channels.pop("distance")
        extras["distance_quarantined"] = "the recorded cumulative distance goes backwards; kept as distance_recorded"


def strictly_increasing(t: np.ndarray, cols: dict[str, np.ndarray]) -> tuple[np.ndarray, dict[str, np.ndarray], int]:
    """Drop samples whose time does not follow the previous kept one (duplicates, clock steps back).

    Nothing is averaged or interpolated: a dropped sample only lends values its kept neighbour
    lacks. Returns the kept times, columns and how many samples were dropped.
    """
    if len(t) < 2 or (np.diff(t) > 0).all():
        return t, cols, 0
    keep = np.ones(len(t), dtype=bool)
    last, last_i = t[0], 0
    for i in range(1, len(t)):
        if t[i] > last:
            last, last_i = t[i], i
            continue
        keep[i] = False
        for arr in cols.values():
            if np.isnan(arr[last_i]) and not np.isnan(arr[i]):
                arr[last_i] = arr[i]
    return t[keep], {k: v[keep] for k, v in cols.items()}, int((~keep).sum())


EARLIEST_YEAR = 1980  # no consumer GPS or heart-rate recorder wrote files before this


def check_start(start: datetime, fmt: str, filename: str | None, location: str) -> None:
    """A start before 1980 or after tomorrow is a broken clock, not an activity."""
    latest = datetime.now(UTC) + timedelta(days=1)
    if start.year < EARLIEST_YEAR or start > latest:
        raise FormatError(f"start time {start.isoformat()} is not plausible (before {EARLIEST_YEAR} or in the future)",
                          format=fmt, file=filename, location=location, field="time")


_DTD = re.compile(rb"<!DOCTYPE|<!ENTITY", re.I)


def parse_xml(data: bytes, fmt: str, filename: str | None, max_bytes: int | None = None) -> Any:
    """Parse untrusted XML: no DTD, no entities (no billion laughs, no XXE), no network, size-capped.

    A DOCTYPE has no business in TCX or GPX, so any is refused outright rather than parsed safely.
    """
    from lxml import etree

    if max_bytes is not None and len(data) > max_bytes:
        raise FormatError(f"the file is {len(data)} bytes, over the {max_bytes} byte limit", format=fmt, file=filename)
    if _DTD.search(data[:65536]):
        raise FormatError("XML with a DOCTYPE or entity declarations is refused (entity expansion is unsafe)",
                          format=fmt, file=filename, location="prolog")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                             huge_tree=False, remove_comments=True, remove_pis=True, collect_ids=False)
    try:
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        line = getattr(exc, "lineno", None)
        raise FormatError(f"not well-formed XML ({exc.msg if hasattr(exc, 'msg') else exc})", format=fmt,
                          file=filename, location=f"line {line}" if line else None) from exc


def xml_float(text: str | None) -> float:
    """An XML element's number, NaN when absent, unparsable or not finite (a missing sample)."""
    if text is None:
        return math.nan
    try:
        v = float(text)
    except ValueError:
        return math.nan
    return v if math.isfinite(v) else math.nan


def parse_time(text: str | None) -> float | None:
    """ISO 8601 to Unix seconds; a time without offset is taken as UTC (TCX and GPX say UTC)."""
    if not text:
        return None
    text = text.strip()
    try:
        d = datetime.fromisoformat(text)
    except ValueError:
        return None
    if d.tzinfo is None:
        d = d.replace(tzinfo=UTC)
    return d.timestamp()


def localname(tag: Any) -> str:
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]


# ---------------------------------------------------------------------------- vectorised XML scan
#
# Why by hand: lxml builds a Python proxy per element touched, about 1 us each; a 1-hour GPX or
# TCX has 40,000+ elements, so walking the tree costs more than the whole rest of an ingest.
# libxml2 still checks every file first (well_formed(): the same hardened parser, no tree, no
# callbacks); the scan then reads the now-known-good bytes with numpy: every '<' in well-formed XML
# without comments, CDATA or processing instructions starts a tag, so tag positions, names and
# nesting depth come out of a few array operations. Anything outside that subset returns None
# and the decoder walks the lxml tree as before.

_NAME_WIDTH = 16  # bytes of a local name compared; the names looked for are shorter
_NAME_WINDOW = 32  # bytes after "<" searched for prefix:name; a longer one sends the file to the tree path


class Tags:
    """Every tag of a document: byte position, end ('>'), kind, depth and which of the looked-for
    local names (case-insensitive) it has: code k+1 for names[k], 0 for any other name."""

    def __init__(self, data: bytes, buf: np.ndarray, pos: np.ndarray, end: np.ndarray, code: np.ndarray,
                 closing: np.ndarray, opening: np.ndarray, level: np.ndarray) -> None:
        self.data, self.buf, self.pos, self.end, self.code = data, buf, pos, end, code
        self.closing, self.opening, self.level = closing, opening, level
        self._quotes: list[np.ndarray] | None = None
        self.exact = False  # every tag known to end at self.end (scan_tags: one '>' between two '<')

    def parents(self) -> np.ndarray:
        """For every tag, the index of its parent element's start tag (-1 for the root)."""
        n = len(self.pos)
        idx = np.arange(n)
        start = ~self.closing
        parent = np.full(n, -1, dtype=np.int64)
        for lv in range(int(self.level.max()) if n else 0):
            below = self.level == lv + 1
            if below.any():
                anc = np.maximum.accumulate(np.where(start & (self.level == lv), idx, -1))
                parent[below] = anc[below]
        return parent

    def closers(self, idx: np.ndarray) -> np.ndarray:
        """The index of the closing tag of each start tag idx (itself when self-closing)."""
        out = np.asarray(idx, dtype=np.int64).copy()
        opening = self.opening[out]
        for lv in np.unique(self.level[out[opening]]):
            mine = opening & (self.level[out] == lv)
            shut = np.flatnonzero(self.closing & (self.level == lv))
            out[mine] = shut[np.searchsorted(shut, out[mine])]
        return out

    def ends_sure(self, idx: np.ndarray) -> bool:
        """Whether each tag idx surely ends at self.end: a '>' inside a quoted attribute value
        would end it early, and leaves an odd number of quotes before it (then: the tree path)."""
        if self.exact:
            return True
        if self._quotes is None:
            self._quotes = [np.flatnonzero(self.buf == q) for q in (ord('"'), ord("'"))]
        for q in self._quotes:
            inside = np.searchsorted(q, self.end[idx]) - np.searchsorted(q, self.pos[idx])
            if (inside % 2).any():
                return False
        return True

    def text_after(self, idx: np.ndarray, width: int = 64) -> np.ndarray | None:
        """The text between each tag idx and the next tag, as an 'S' array; None if any is wider
        than `width`, holds an entity reference (the tree path decodes those), or follows a tag
        whose end is in doubt (ends_sure)."""
        if len(idx) == 0:
            return np.zeros(0, dtype="S1")
        if not self.ends_sure(idx):
            return None
        start = self.end[idx] + 1
        nxt = np.where(idx + 1 < len(self.pos), self.pos[np.minimum(idx + 1, len(self.pos) - 1)], len(self.buf))
        length = nxt - start
        w = int(length.max())
        if w > width:
            return None
        w = max(w, 1)
        if int(start.max()) + w > len(self.buf):
            return None  # text running to the very end of the file: not an element's text
        block = np.lib.stride_tricks.sliding_window_view(self.buf, w)[start].copy()
        block[np.arange(w) >= length[:, None]] = 0
        if (block == ord("&")).any():
            return None
        return block.view(f"S{w}").ravel()


def well_formed(data: bytes, fmt: str, filename: str | None, max_bytes: int | None = None) -> None:
    """The checks of parse_xml (size, no DTD, well-formed) with libxml2's parser and no tree."""
    from lxml import etree

    if max_bytes is not None and len(data) > max_bytes:
        raise FormatError(f"the file is {len(data)} bytes, over the {max_bytes} byte limit", format=fmt, file=filename)
    if _DTD.search(data[:65536]):
        raise FormatError("XML with a DOCTYPE or entity declarations is refused (entity expansion is unsafe)",
                          format=fmt, file=filename, location="prolog")

    class _NoTree:  # a parser target without start/end/data callbacks: libxml2 parses in C only
        def close(self) -> None:
            return None

    parser = etree.XMLParser(target=_NoTree(), resolve_entities=False, no_network=True, load_dtd=False,
                             dtd_validation=False, huge_tree=False)
    try:
        etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        line = getattr(exc, "lineno", None)
        raise FormatError(f"not well-formed XML ({exc.msg if hasattr(exc, 'msg') else exc})", format=fmt,
                          file=filename, location=f"line {line}" if line else None) from exc


def _key(name: bytes) -> np.ndarray:
    return np.frombuffer(name.ljust(_NAME_WIDTH, b"\0"), dtype=np.uint64)


# _LEN_MASK[n] keeps the first n bytes of a 16-byte name (two little-endian uint64 words); n = 17
# stands for "longer than 16" and keeps nothing, so such a name matches no looked-for name
_LEN_MASK = np.zeros((_NAME_WIDTH + 2, 2), dtype=np.uint64)
for _n in range(_NAME_WIDTH + 1):
    _LEN_MASK[_n] = np.frombuffer((b"\xff" * _n).ljust(_NAME_WIDTH, b"\0"), dtype=np.uint64)
_LEN_MASK[_NAME_WIDTH + 1] = 0


def scan_tags(data: bytes, names: tuple[bytes, ...], folded: frozenset[bytes] = frozenset()) -> Tags | None:
    """The tag table of well-formed XML (call well_formed first), or None outside the scanned subset.

    A tag's code is 1 + the index of its local name in `names` (0 for any other name); names in
    `folded` (lower case) match in any letter case, the others exactly.
    """
    if not data:
        return None
    buf = np.frombuffer(data, dtype=np.uint8)
    pos = np.flatnonzero(buf == ord("<"))
    gts = np.flatnonzero(buf == ord(">"))
    if len(pos) == 0 or len(gts) == 0:
        return None
    # The common case: as many '>' as '<' and each after its '<' and before the next one. Then no
    # tag holds a '>' in a quoted value ('<' cannot be in one, so that tag would need two '>'
    # before the next '<'), every tag ends at its '>' for sure, and no search is needed.
    exact = len(gts) == len(pos) and bool((gts > pos).all()) and bool((gts[:-1] < pos[1:]).all())
    if exact:
        end = gts
    else:
        k = np.searchsorted(gts, pos)
        if k[-1] >= len(gts):
            return None
        end = gts[k]
        if len(pos) > 1 and (end[:-1] > pos[1:]).any():  # a '>' must close each tag before the next '<'
            return None
    second = buf[np.minimum(pos + 1, len(buf) - 1)]
    if (second == ord("!")).any():  # comments, CDATA: the tree path
        return None
    pi = second == ord("?")
    if pi.any():
        if (np.flatnonzero(pi) != np.arange(int(pi.sum()))).any():  # PIs only before the root
            return None
        keep = ~pi
        pos, end, second = pos[keep], end[keep], second[keep]
    closing = second == ord("/")
    self_closing = buf[end - 1] == ord("/")
    opening = ~closing & ~self_closing
    delta = opening.astype(np.int8) - closing.astype(np.int8)
    depth = np.cumsum(delta, dtype=np.int64)
    if depth[-1] != 0 or (depth < 0).any():
        return None
    level = depth - delta - closing  # a closing tag sits at its element's level
    start_idx = np.flatnonzero(~closing)
    start_code = _name_codes(buf, pos[start_idx] + 1, names, folded)
    if start_code is None:
        return None
    code = np.zeros(len(pos), dtype=np.int16)
    code[start_idx] = start_code
    tags = Tags(data, buf, pos, end, code, closing, opening, level)
    tags.exact = exact
    return tags


_ONES = np.uint64(0x0101010101010101)
_HIGHS = np.uint64(0x8080808080808080)


def _first_byte(flags: np.ndarray, none: int) -> np.ndarray:
    """Index (0-7) of the lowest flagged byte of each word (a high bit set), `none` if none is."""
    low = (flags & (~flags + np.uint64(1))) >> np.uint64(7)  # the lowest flag alone, as 1 << 8j
    # 1 << 8j times bytes (7, 6, ..., 0) moves byte 7 - j, which holds j, to the top byte
    idx = ((low * np.uint64(0x0001020304050607)) >> np.uint64(56)).astype(np.int64)
    return np.where(flags == 0, none, idx)


def name_end_flags(x: np.ndarray) -> np.ndarray:
    """Flags of the bytes of each little-endian word that end a name: <= 32, '>' or '/'.

    The SWAR tests ((x - 0x01..01 * n) & ~x & 0x80..80) can flag a byte above a true hit (a
    borrow), never below it, so the lowest flag is always exact: all _first_byte reads.
    """
    out = (x - _ONES * np.uint64(33)) & ~x & _HIGHS
    for ch in (ord(">"), ord("/")):
        y = x ^ (_ONES * np.uint64(ch))
        out |= (y - _ONES) & ~y & _HIGHS
    return out


def byte_flags(ch: int) -> Any:
    """A flags function (as name_end_flags) for the bytes equal to ch."""
    pattern = _ONES * np.uint64(ch)

    def flags(x: np.ndarray) -> np.ndarray:
        y = x ^ pattern
        return (y - _ONES) & ~y & _HIGHS
    return flags


_colons = byte_flags(ord(":"))


def words_of(buf: np.ndarray) -> np.ndarray:
    """Every 8 bytes of buf from each offset as a little-endian integer (an unaligned view, no copy)."""
    return np.ndarray((len(buf) - 7,), dtype="<u8", buffer=buf, offset=0, strides=(1,))




def first_flag(words: list[np.ndarray], flags: Any, none: int) -> np.ndarray:
    """Byte index of the first flagged byte over consecutive words (8 bytes each), `none` if none."""
    out = np.full(len(words[0]), none, dtype=np.int64)
    for j in reversed(range(len(words))):
        f = flags(words[j])
        out = np.where(f != 0, 8 * j + _first_byte(f, 0), out)
    return out


def _name_codes(buf: np.ndarray, first: np.ndarray, names: tuple[bytes, ...], folded: frozenset[bytes]) \
        -> np.ndarray | None:
    """Code (1 + index in names, 0 for any other) of the local name of each start tag whose name
    begins at `first`; None when a name is longer than _NAME_WINDOW.

    Names are read 8 bytes at a time as integers (an unaligned uint64 view of the buffer) and
    their end and ':' found with bit tricks: a few operations per tag instead of a byte window.
    Two words are read for every tag, four for the few whose name is longer (a prefixed
    TrackPointExtension).
    """
    n = len(first)
    code = np.zeros(n, dtype=np.int16)
    if n == 0:
        return code
    # reads must not run off the end: pad only when a tag starts that close to it
    padded = buf if int(first.max()) + _NAME_WINDOW + 16 <= len(buf) else \
        np.concatenate((buf, np.full(_NAME_WINDOW + 16, ord(">"), dtype=np.uint8)))
    words = words_of(padded)
    ws = [words[first], words[first + 8]]
    name_len = first_flag(ws, name_end_flags, 16)
    colon = first_flag(ws, _colons, 16)
    rows = np.flatnonzero(name_len == 16)
    if len(rows):  # a name not ended within 16 bytes: read up to _NAME_WINDOW
        more = [w[rows] for w in ws] + [words[first[rows] + 8 * j] for j in range(2, _NAME_WINDOW // 8)]
        long_len = first_flag(more, name_end_flags, _NAME_WINDOW)
        if (long_len == _NAME_WINDOW).any():
            return None  # a name longer than the window: the tree path reads it
        name_len[rows] = long_len
        colon[rows] = first_flag(more, _colons, _NAME_WINDOW)
    prefixed = colon < name_len  # a namespaced XML name has at most one ':'
    local = first + np.where(prefixed, colon + 1, 0)
    length = np.minimum(name_len - (local - first), _NAME_WIDTH + 1)
    k0 = words[local] & _LEN_MASK[length, 0]
    k1 = words[local + 8] & _LEN_MASK[length, 1]
    exact, fold = _tables(names, folded)
    _look_up(exact, k0, k1, code, None)
    if fold is not None:  # names in any letter case: as written first, then the rest lower-cased
        _look_up(fold, k0, k1, code, None)
        rest = np.flatnonzero(code == 0)
        _look_up(fold, _lowered(k0[rest]), _lowered(k1[rest]), code, rest)
    return code


def _look_up(table: Any, k0: np.ndarray, k1: np.ndarray, code: np.ndarray, rows: np.ndarray | None) -> None:
    """code[rows] = the table's code where (k0, k1) is in it (rows None: all)."""
    if table is None or len(k0) == 0:
        return
    t0, t1, tcode = table
    at = np.minimum(np.searchsorted(t0, k0), len(t0) - 1)
    hit = np.flatnonzero((t0[at] == k0) & (t1[at] == k1))
    code[hit if rows is None else rows[hit]] = tcode[at[hit]]


def _lowered(x: np.ndarray) -> np.ndarray:
    """ASCII A-Z to a-z in each byte of little-endian words (SWAR: 7-bit sums never carry)."""
    seven = x & (_ONES * np.uint64(0x7F))
    above_z = seven + _ONES * np.uint64(0x7F - ord("Z"))  # high bit set for bytes > 'Z'
    from_a = seven + _ONES * np.uint64(0x80 - ord("A"))  # high bit set for bytes >= 'A'
    upper = from_a & ~above_z & ~x & _HIGHS  # and not a byte >= 0x80
    return x | (upper >> np.uint64(2))


_TABLES: dict[tuple[tuple[bytes, ...], frozenset[bytes]], Any] = {}


def _tables(names: tuple[bytes, ...], folded: frozenset[bytes]) -> Any:
    """(exact, folded) lookup tables of names: first key words sorted, second words, codes.

    A later duplicate of a name keeps its code (as assigning each name in turn would); two names
    may not share a first word, nor an exact name be a folded one in another case (asserted:
    the names are ours, fixed), so the order of the look-ups in _name_codes cannot matter."""
    if (names, folded) not in _TABLES:
        assert not {nm.lower() for nm in names if nm not in folded} & set(folded), "a name both exact and folded"
        out = []
        for lower in (False, True):
            chosen = {}
            for i, name in enumerate(names):
                if (name in folded) == lower:
                    chosen[name] = i + 1
            if not chosen:
                out.append(None)
                continue
            keys = np.array([_key(nm) for nm in chosen]).reshape(-1, 2)
            order = np.argsort(keys[:, 0], kind="stable")
            t0 = keys[order, 0]
            assert len(np.unique(t0)) == len(t0), "names sharing their first 8 bytes"
            out.append((t0, keys[order, 1], np.array(list(chosen.values()), dtype=np.int16)[order]))
        _TABLES[(names, folded)] = tuple(out)
    return _TABLES[(names, folded)]


def place_last(owner: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """An 'S' array of n slots: values[i] put at slot owner[i]; where a slot gets several, the
    last in document order wins (as a loop assigning each in turn)."""
    out = np.full(n, b"", dtype=values.dtype if len(values) else "S1")
    if len(owner) > 1 and not (np.diff(owner) > 0).all():
        _, last = np.unique(owner[::-1], return_index=True)
        last = len(owner) - 1 - last
        owner, values = owner[last], values[last]
    out[owner] = values
    return out


def nonblank(values: np.ndarray) -> np.ndarray:
    """True for each 'S' value holding more than XML whitespace (bytes above 32)."""
    if len(values) == 0:
        return np.zeros(0, dtype=bool)
    return (np.ascontiguousarray(values).view(np.uint8).reshape(len(values), -1) > 32).any(axis=1)


_POW10 = 10.0 ** np.arange(23)


def _short_decimals(values: np.ndarray) -> np.ndarray | None:
    """Short [-]digits[.digits] values -> float64, exactly as float() reads them; None when any
    value has another form (blanks, exponent, sign '+', no digit, over 15 digits).

    Why by hand: numpy's string-to-float cast costs ~0.15 us a value whatever its length; for the
    short values of a track (heart rate, cadence, elevation) a loop over the few byte columns is
    faster. Exact: with at most 15 digits, the digits form an integer m < 2**53 and the point a
    power 10**k with k <= 15, both exact in float64, so m / 10**k is one correctly rounded
    division, the very double float() returns (Clinger's fast path).
    """
    n, w = len(values), values.dtype.itemsize
    cols = np.ascontiguousarray(values).view(np.uint8).reshape(n, w).T.copy()  # one row per byte column
    m = np.zeros(n, dtype=np.int64)
    digits = np.zeros(n, dtype=np.int64)
    after_dot = np.zeros(n, dtype=np.int64)
    dot, ended, bad = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    neg = cols[0] == ord("-")
    for j in range(w):
        c = cols[j]
        d = c - np.uint8(ord("0"))  # wraps for bytes below '0'
        is_digit = d < 10
        m = np.where(is_digit, m * 10 + d, m)
        digits += is_digit
        after_dot += is_digit & dot
        is_dot, is_nul = c == ord("."), c == 0
        bad |= (ended & ~is_nul) | (is_dot & dot) | ~(is_digit | is_dot | is_nul | (neg if j == 0 else False))
        dot |= is_dot
        ended |= is_nul
    if bad.any() or (digits == 0).any() or (digits > 15).any():
        return None
    out = m / _POW10[after_dot]
    return np.where(neg, -out, out)


def floats(values: np.ndarray) -> np.ndarray:
    """'S' array -> float64: empty or unparsable is NaN, non-finite is NaN (as xml_float)."""
    out = np.full(len(values), np.nan)
    filled = nonblank(values)
    if 0 < values.dtype.itemsize <= 6 and filled.any():  # longer: numpy's cast is as fast
        fast = _short_decimals(values[filled])
        if fast is not None:
            out[filled] = fast
            return out
    try:
        out[filled] = values[filled].astype(np.float64)
    except ValueError:
        out[filled] = [xml_float(v.decode("utf-8", "replace")) for v in values[filled]]
    out[~np.isfinite(out)] = np.nan
    return out


_ISO_Z_DIGITS = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]


def iso_times(values: np.ndarray) -> np.ndarray:
    """'S' array of ISO 8601 times -> Unix seconds (NaN where missing or unreadable), as parse_time.

    The common form, YYYY-MM-DDTHH:MM:SS[.ffffff]Z, is checked and converted by numpy in one go;
    anything else goes through parse_time one by one.
    """
    out = np.full(len(values), np.nan)
    if len(values) == 0:
        return out
    b = np.ascontiguousarray(values).view(np.uint8).reshape(len(values), values.dtype.itemsize)
    if values.dtype.itemsize and ((b > 32) | (b == 0)).all():  # nothing to strip (usual): no np.char work
        stripped = values
        lengths = (b != 0).sum(axis=1)
    else:
        stripped = np.char.strip(values)
        lengths = np.char.str_len(stripped)
    if (lengths == lengths[0]).all() and lengths[0] in (20, 22, 23, 24, 25, 26, 27):
        n = int(lengths[0])
        b = np.ascontiguousarray(stripped.astype(f"S{n}")).view(np.uint8).reshape(-1, n)
        digits = b[:, _ISO_Z_DIGITS]
        ok = ((digits >= 48) & (digits <= 57)).all() and (b[:, [4, 7]] == ord("-")).all() \
            and (b[:, 10] == ord("T")).all() and (b[:, [13, 16]] == ord(":")).all() and (b[:, -1] == ord("Z")).all()
        if ok and n > 20:
            frac = b[:, 20:-1]
            ok = (b[:, 19] == ord(".")).all() and ((frac >= 48) & (frac <= 57)).all()
        if ok:
            try:
                us = stripped.astype(f"S{n - 1}").astype("datetime64[us]").astype(np.int64)
            except ValueError:
                us = None
            if us is not None:
                return us / 1e6  # what datetime.timestamp() computes: whole microseconds / 10**6
    for i, v in enumerate(values):
        t = parse_time(v.decode("utf-8", "replace"))
        if t is not None:
            out[i] = t
    return out
