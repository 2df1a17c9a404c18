"""The compiled XML pass (formats/xml_scan.py) reads what lxml and Python read.

The tokenizer is held to lxml's tree on generated documents (names, prefixes, depth, parents,
texts, attribute values in every legal spelling); numbers to float() (bit for bit, sign of zero
included) and times to _common.parse_time, on generated texts of every form; and the tokenizer,
run as plain Python, must stay inside its arrays on any bytes, well-formed or not (compiled, an
index past the end is not caught).
"""

from __future__ import annotations

import math
import random
import struct
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runhub.formats import xml_scan
from runhub.formats._common import parse_time, parse_xml, xml_float


def _same_float(a: float, b: float) -> bool:
    return struct.pack("<d", a) == struct.pack("<d", b) or (math.isnan(a) and math.isnan(b))


def _values(texts: list[str]) -> xml_scan.Tags:
    doc = ("<r>" + "".join(f"<v>{t}</v>" for t in texts) + "</r>").encode()
    tags = xml_scan.scan(doc, (b"v",))
    assert tags is not None
    return tags


def _check_numbers(texts: list[str]) -> None:
    tags = _values(texts)
    got = tags.numbers(np.flatnonzero(tags.code == 1))
    assert got is not None
    values, blank = got
    for t, v, b in zip(texts, values, blank, strict=True):
        assert _same_float(float(v), xml_float(t)), (t, v)
        assert bool(b) == (not t.strip()), t


_NUMBER = st.one_of(
    st.text("0123456789.-+e_x \t\n", max_size=12),
    st.builds(lambda sign, digits, point, pad: pad + sign + (digits[:point] + "." + digits[point:] if point >= 0
                                                              else digits) + pad,
              st.sampled_from(["", "-", "+"]), st.text("0123456789", min_size=1, max_size=26),
              st.integers(-1, 26), st.sampled_from(["", " ", "\n  "])),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.floats(width=32, allow_nan=False, allow_infinity=False).map(lambda f: repr(float(np.float32(f)))),
)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_NUMBER, min_size=1, max_size=20))
def test_numbers_read_as_xml_float_reads_them(texts: list[str]) -> None:
    _check_numbers(texts)


def test_numbers_edge_cases() -> None:
    _check_numbers(["", " ", "-0", "-0.0", "0", ".5", "5.", ".", "-", "9007199254740992", "9007199254740993",
                    "900719925474099.3", "0.0000000000000000000001", "1.00000000000000000000000", "3.2799999713897705",
                    "-122.07117696292698", "40.18894976936280727386474609375", "1e5", "inf", "nan", "1_0",
                    "\u00a0", "\u00a05", " 7.5 ", "00012", "123456789012345678901234567890"])


def test_many_random_decimals_bit_exact() -> None:
    """Digit strings of every length up to 20 around a point: the kernel's Clinger path must give
    float()'s double wherever it answers."""
    rng = random.Random(7)
    texts = []
    for _ in range(20000):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 20)))
        point = rng.randint(0, len(digits))
        texts.append(("-" if rng.random() < 0.3 else "") + digits[:point] + "." + digits[point:])
    _check_numbers(texts)


_ISO = st.builds(
    lambda y, mo, d, h, mi, s, frac, sep, zone, pad: f"{pad}{y}-{mo}-{d}{sep}{h}:{mi}:{s}{frac}{zone}{pad}",
    st.sampled_from(["2020", "1970", "1969", "0001", "0000", "9999", "2000", "1900", "2100", "1684", "2256", "20x0"]),
    st.sampled_from(["01", "02", "12", "13", "00", "1"]),
    st.sampled_from(["01", "28", "29", "30", "31", "32", "00"]),
    st.sampled_from(["00", "10", "23", "24", "9"]),
    st.sampled_from(["00", "59", "60"]),
    st.sampled_from(["00", "01", "59", "60", "61"]),
    st.sampled_from(["", ".5", ".25", ".123", ".1234", ".12345", ".123456", ".1234567", ".", ".12x", ",5"]),
    st.sampled_from(["", "Z", "z", "+00:00", "-00:00", "+01:00", "-05:30", "+23:59", "+24:00", "+01:60", "+0100",
                     "+01", "+01:00:30", " Z", "Zx"]),
    st.sampled_from(["T", " ", "t"]),
    st.sampled_from(["", " ", "\n\t"]),
)


def _check_times(texts: list[str]) -> None:
    tags = _values(texts)
    idx = np.flatnonzero(tags.code == 1)
    got = tags.times(idx)
    assert got is not None
    for t, v in zip(texts, got, strict=True):
        want = parse_time(t)
        assert _same_float(float(v), math.nan if want is None else want), (t, v, want)


@settings(max_examples=500, deadline=None)
@given(st.lists(_ISO | st.text("0123456789-:TZ.+ ", max_size=30), min_size=1, max_size=20))
def test_times_read_as_parse_time_reads_them(texts: list[str]) -> None:
    _check_times(texts)


@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
       st.integers(-23 * 60 - 59, 23 * 60 + 59), st.integers(0, 6))
def test_times_over_the_whole_calendar(when: datetime, offset_minutes: int, digits: int) -> None:
    """Every date, offset and fraction length the kernel reads itself: the same float as Python."""
    zone = timezone(timedelta(minutes=offset_minutes))
    text = when.replace(tzinfo=zone).isoformat(timespec="microseconds")
    stamp, frac_zone = text[:19], text[26:]
    frac = text[19:19 + 1 + digits] if digits else ""
    texts = [stamp + frac + frac_zone, stamp + frac + "Z", stamp + frac]
    tags = _values(texts)
    values, status = xml_scan.iso_seconds(tags.buf, tags.end[1:] + 1, tags.text_stop[1:])
    for t, v, s in zip(texts, values, status, strict=True):
        want = parse_time(t)
        assert want is not None
        if s == xml_scan.READ:
            assert _same_float(float(v), want), t
        else:  # left to Python only outside 2**53 microseconds of 1970
            assert abs(want) > 2 ** 53 / 1e6 - 100_000, t


# ---------------------------------------------------------------- the tokenizer against lxml

NAMES = (b"trkpt", b"ele", b"hr", b"Time", b"x")
FOLDED = frozenset({b"hr"})
ATTRS = (b"lat", b"lon")

_TEXT = st.sampled_from(["", "12", " 7.5 ", "a > b", "&amp;", "x&#62;y", "&lt;t&gt;", "\n  ", "é", "\r\n1\r\n", "1\r2"])
_ATTR_VALUE = st.sampled_from(["1.5", "", "a>b", "it's", "&amp;", "&#10;x", "a\tb\nc", "-0", " 2 "])


@st.composite
def _element(draw, depth: int = 0) -> str:
    """An element; the root declares the prefix g (lxml refuses an undeclared one)."""
    name = draw(st.sampled_from(["trkpt", "g:trkpt", "ele", "hr", "HR", "g:Hr", "Time", "time", "x", "other",
                                 "g:x", "trkptx", "a-b.c"]))
    attrs = [] if depth else ['xmlns:g="urn:g"']
    for key in draw(st.lists(st.sampled_from(["lat", "lon", "g:lat", "latx", "note"]), unique=True, max_size=3)):
        value = draw(_ATTR_VALUE)
        quote = "'" if "'" not in value and draw(st.booleans()) else '"'
        value = value.replace('"', "&quot;") if quote == '"' else value
        eq = draw(st.sampled_from(["=", " = ", "\n=\t"]))
        attrs.append(f"{key}{eq}{quote}{value}{quote}")
    space = draw(st.sampled_from([" ", "\n  ", "\t"]))
    head = name + "".join(space + a for a in attrs) + draw(st.sampled_from(["", " ", "\n"]))
    if depth >= 3 or draw(st.integers(0, 3)) == 0:
        return f"<{head}/>"
    body = draw(_TEXT)
    for _ in range(draw(st.integers(0, 3))):
        body += draw(_element(depth + 1)) + draw(_TEXT)
    return f"<{head}>{body}</{name}{draw(st.sampled_from(['', ' ', chr(10)]))}>"


@st.composite
def _document(draw) -> bytes:
    prolog = draw(st.sampled_from(["", '<?xml version="1.0" encoding="UTF-8"?>\n', "<?pi x?>", "\ufeff"]))
    root = draw(_element())
    return (prolog + root + draw(st.sampled_from(["", "\n"]))).encode()


def _expected_code(tag: str) -> int:
    local = tag.rpartition("}")[2].encode()
    for k, name in enumerate(NAMES):
        if local == name or (name in FOLDED and local.lower() == name):
            return k + 1
    return 0


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_document())
def test_tokenizer_matches_lxml(doc: bytes) -> None:
    tags = xml_scan.scan(doc, NAMES, FOLDED, ATTRS, (1, 2))
    assert tags is not None
    root = parse_xml(doc, "xml", None)
    elements = list(root.iter())
    number = {el: i for i, el in enumerate(elements)}
    assert tags.n == len(elements)
    for i, el in enumerate(elements):
        parent = el.getparent()
        level = 0 if parent is None else int(tags.level[number[parent]]) + 1
        assert tags.level[i] == level
        assert tags.parent[i] == (-1 if parent is None else number[parent])
        assert tags.code[i] == _expected_code(el.tag)
        assert tags.text(i) == (el.text or "")
        assert bool(tags.opening[i]) == (tags.close[i] >= 0)
        for k, key in enumerate(ATTRS):
            assert tags.attr(i, k) == el.get(key.decode())
        for k, lv in enumerate((1, 2)):
            chain = [el]
            while chain[-1].getparent() is not None:
                chain.append(chain[-1].getparent())
            chain.reverse()  # root first: chain[lv] is the ancestor at level lv
            assert tags.anc[k, i] == (number[chain[lv]] if lv < len(chain) else -1)
    # the end tag's '<' of each element with content, and the text span up to the next tag
    for i in np.flatnonzero(tags.opening):
        assert doc[tags.close[i]:tags.close[i] + 2] == b"</"
        assert doc[tags.text_stop[i]:tags.text_stop[i] + 1] == b"<"


@pytest.mark.parametrize("doc", [
    b"<r><!-- c --><v>1</v></r>",
    b"<r><v><![CDATA[1]]></v></r>",
    b"<r><?pi inside?><v>1</v></r>",
    b"<r><v>1</v></r><?pi after?>",
    b"\xff\xfe<\x00r\x00/\x00>\x00",
])
def test_outside_the_subset_is_refused(doc: bytes) -> None:
    assert xml_scan.scan(doc, (b"v",)) is None


def test_references_send_values_to_the_tree() -> None:
    tags = xml_scan.scan(b'<r><v>1&#48;</v><v a="&amp;">2</v></r>', (b"v",), attrs=(b"a",))
    assert tags is not None
    assert tags.numbers(np.array([1])) is None
    assert tags.numbers(np.array([2]))[0].tolist() == [2.0]
    assert tags.attr_numbers(np.array([2]), 0) is None
    assert tags.attr(2, 0) == "&"


def test_dense_documents_grow_the_tag_arrays() -> None:
    doc = b"<r>" + b"<v/>" * 5000 + b"</r>"  # 4 bytes a tag: more than the first guess holds
    tags = xml_scan.scan(doc, (b"v",))
    assert tags is not None and tags.n == 5001 and (tags.code[1:] == 1).all()


# ---------------------------------------------------------------- memory safety on any bytes


def _plain(kernel):
    """A kernel's Python function (compiled or not yet), which raises IndexError past an array's end."""
    return getattr(kernel, "py_func", None) or kernel._runhub_kernel


def _tokenize_plain(data: bytes) -> tuple[int, int]:
    buf = np.frombuffer(data, dtype=np.uint8)
    cap = max(len(data) // 4 + 1, 1)
    arrays = (np.empty(cap, dtype=np.int64), np.empty(cap, dtype=np.int64), np.empty(cap, dtype=np.int32),
              np.empty(cap, dtype=np.int16), np.empty(cap, dtype=np.int64), np.empty(cap, dtype=np.int64),
              np.empty(cap, dtype=np.int64), np.empty(cap, dtype=np.uint8), np.empty((cap, 2, 2), dtype=np.int64),
              np.empty((cap, 2), dtype=np.bool_))
    tables = xml_scan._tables(NAMES, FOLDED, ATTRS)
    return _plain(xml_scan.tokenize)(buf, *tables, *arrays, np.array([1, 3]), np.empty((2, cap), dtype=np.int64),
                                     np.empty(cap + 1, dtype=np.int64))


_PIECES = st.sampled_from([b"<", b">", b"/", b"?", b"!", b"=", b'"', b"'", b"&", b" ", b"\n", b":", b"trkpt", b"hr",
                           b"lat", b"a", b"1.5", b"<trkpt lat='1'>", b"</trkpt>", b"<?x?>", b"<a/>", b"\xc3\xa9"])


@settings(max_examples=500, deadline=None)
@given(st.lists(_PIECES, max_size=40).map(b"".join) | st.binary(max_size=60))
def test_tokenizer_stays_in_bounds(data: bytes) -> None:
    outcome, n = _tokenize_plain(data)
    assert outcome in (xml_scan.OK, xml_scan.UNSURE, xml_scan.FULL)


@settings(max_examples=200, deadline=None)
@given(_document(), st.data())
def test_tokenizer_stays_in_bounds_on_cut_documents(doc: bytes, data) -> None:
    cut = data.draw(st.integers(0, len(doc)))
    _tokenize_plain(doc[:cut])


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40), st.lists(st.tuples(st.integers(-1, 45), st.integers(0, 45)), max_size=8))
def test_value_readers_stay_in_bounds(data: bytes, spans: list[tuple[int, int]]) -> None:
    buf = np.frombuffer(data, dtype=np.uint8)
    ok = [(a, b) for a, b in spans if a < 0 or (a <= b <= len(data))]
    start = np.array([a for a, _ in ok], dtype=np.int64)
    stop = np.array([b for _, b in ok], dtype=np.int64)
    _plain(xml_scan.decimals)(buf, start, stop)
    _plain(xml_scan.iso_seconds)(buf, start, stop)
    keep = start >= 0
    _plain(xml_scan.pack)(buf, start[keep], stop[keep])


def test_xml_text_decodes_as_lxml() -> None:
    root = parse_xml(b'<r a="x&#9;y\tz&#10;\r\n&amp;&lt;&#x41;&apos;">p\r\nq&#13;&gt;</r>', "xml", None)
    tags = xml_scan.scan(b'<r a="x&#9;y\tz&#10;\r\n&amp;&lt;&#x41;&apos;">p\r\nq&#13;&gt;</r>', (b"r",),
                         attrs=(b"a",))
    assert tags is not None
    assert tags.attr(0, 0) == root.get("a")
    assert tags.text(0) == root.text


def test_utc_stamp_matches_datetime() -> None:
    """A spot check of the calendar arithmetic against datetime, far from 1970."""
    for when in (datetime(1685, 3, 1, tzinfo=UTC), datetime(2255, 12, 31, 23, 59, 59, tzinfo=UTC),
                 datetime(2000, 2, 29, 12, tzinfo=UTC), datetime(1900, 3, 1, tzinfo=UTC)):
        text = when.strftime("%Y-%m-%dT%H:%M:%SZ")
        _check_times([text])


def test_exact_halfway_decimals_round_to_even() -> None:
    """(2M + 1) / 2**k with M of 53 bits lies exactly between two doubles: written in decimal
    (2M + 1) * 5**k / 10**k, float() rounds it to the even neighbour, and so must the kernel."""
    rng = random.Random(3)
    texts = []
    for k in range(9):
        for _ in range(200):
            m = (2 * rng.randrange(2 ** 52, 2 ** 53) + 1) * 5 ** k
            if m >= 2 ** 62:
                continue
            s = str(m)
            texts.append(s[:len(s) - k] + "." + s[len(s) - k:] if k else s)
    texts += ["9007199254740993", "9007199254740995", "-9007199254740993"]
    _check_numbers(texts)


# ---------------------------------------------------------------- the check and the scan at once

_BIG_POINTS = "".join(f'<trkpt lat="50.{i:05d}" lon="5.1"><time>2020-01-01T10:{i // 60 % 60:02d}:{i % 60:02d}Z</time>'
                      f"</trkpt>\n" for i in range(3000))
BIG_GPX = f'<gpx creator="t"><trk><trkseg>{_BIG_POINTS}</trkseg></trk></gpx>'.encode()


def test_the_check_runs_beside_big_files_and_its_verdict_comes_first() -> None:
    from runhub.formats import FormatError, gpx
    from runhub.formats._common import _BOTH_AT_ONCE, well_formed, well_formed_while

    assert len(BIG_GPX) > _BOTH_AT_ONCE
    assert well_formed_while(BIG_GPX, "gpx", None, None, lambda data: len(data)) == len(BIG_GPX)
    broken = BIG_GPX.replace(b"</trk>", b"</trx>")  # the scan reads it happily; libxml2 does not
    with pytest.raises(FormatError) as direct:
        well_formed(broken, "gpx", None)
    for scan in (gpx._scan, lambda data: 1 / 0):
        with pytest.raises(FormatError) as got:
            well_formed_while(broken, "gpx", None, None, scan)
        assert str(got.value) == str(direct.value)
    with pytest.raises(FormatError) as got:
        gpx.decode(broken)
    assert str(got.value) == str(direct.value)
    with pytest.raises(ZeroDivisionError):  # a scan's own error, on a file the check accepts
        well_formed_while(BIG_GPX, "gpx", None, None, lambda data: 1 / 0)


def test_the_size_limit_comes_before_any_scan() -> None:
    from runhub.formats import FormatError
    from runhub.formats._common import well_formed_while

    calls = []
    with pytest.raises(FormatError, match="byte limit"):
        well_formed_while(BIG_GPX, "gpx", None, 1024, calls.append)
    assert calls == []
