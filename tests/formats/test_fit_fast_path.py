"""The fitfast path's hand-written parts (FIT CRC, header-CRC-0 fix-up, truncation prefix, the
record/other split) against independent oracles: the Garmin SDK's CRC, fitdecode (strict), and
fitfast.parse on the whole file."""

from __future__ import annotations

import gzip
import os
import struct
from pathlib import Path

import numpy as np
import pytest

from runhub.formats import FormatError, fit

from .conftest import CORPUS, fit_file

# SOURCES.md / bench: valid files whose 14-byte header carries CRC 0x0000, and the truncated nick.fit
HEADER_CRC_ZERO = ["fit/elevate_mini-enduro.fit", "fit/fitparse_Edge810-Vector-2013-08-16-15-35-10.fit",
                   "fit/fitparse_sample-activity-indoor-trainer.fit"]
TRUNCATED = "fit/fitparse_nick.fit"


def _load(rel: str) -> bytes:
    data = (CORPUS / rel).read_bytes()
    return gzip.decompress(data) if rel.endswith(".gz") else data


def _same(a_list, b_list) -> None:
    assert len(a_list) == len(b_list)
    for a, b in zip(a_list, b_list, strict=True):
        assert a.start == b.start and a.sport == b.sport and a.utc_offset == b.utc_offset
        assert a.pauses == b.pauses
        assert [lap.end_index for lap in a.laps] == [lap.end_index for lap in b.laps]
        assert a.device_name == b.device_name
        assert set(a.channels) == set(b.channels)
        for name in a.channels:
            np.testing.assert_allclose(a.channels[name], b.channels[name], rtol=0, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("n", [0, 1, 13, 1023, 1024, 1025, 5000, 8193, 65_536, 100_000, 403_441])
def test_crc_matches_garmin_sdk(n: int) -> None:
    from garmin_fit_sdk import CrcCalculator

    data = os.urandom(n)
    assert fit.fit_crc(data) == CrcCalculator.calculate_crc(data, 0, n)


@pytest.mark.parametrize("rel", HEADER_CRC_ZERO)
def test_header_crc_zero_files_take_the_fast_path(rel: str, corpus: Path) -> None:
    data = _load(rel)
    assert data[0] == 14 and data[12:14] == b"\0\0"
    fast = fit.decode(data)
    assert fast[0].extras["fit_decoder"] == "fitfast"
    _same(fast, fit.decode(data, engine="fitdecode"))


@pytest.mark.parametrize("rel", HEADER_CRC_ZERO)
def test_header_crc_zero_file_with_a_flipped_byte_is_refused(rel: str, corpus: Path) -> None:
    data = bytearray(_load(rel))
    data[-3] ^= 0x01  # a value in the last message: the structure stands, only the CRC tells
    with pytest.raises(FormatError, match="CRC"):
        fit.decode(bytes(data))


def test_truncated_file_kept_to_its_break_by_fitfast(corpus: Path) -> None:
    data = _load(TRUNCATED)
    [fast] = fit.decode(data)
    [slow] = fit.decode(data, engine="fitdecode")
    assert fast.extras["fit_decoder"] == "fitfast"
    assert "truncated" in fast.extras["import_warning"] and "truncated" in slow.extras["import_warning"]
    # the same number of whole records is kept, said the same way
    assert fast.extras["import_warning"].split("kept the")[1] == slow.extras["import_warning"].split("kept the")[1]
    _same([fast], [slow])


@pytest.mark.parametrize("rel", ["fit/fitparse_activity-small-fenix2-run.fit", "fit/gc_FR55-CoreTemp-Walk.fit"])
def test_cut_anywhere_both_engines_agree(rel: str, corpus: Path) -> None:
    """A file cut at many points: the fast path keeps what fitdecode keeps, or both refuse."""
    data = _load(rel)
    for cut in np.linspace(200, len(data) - 1, 25).astype(int):
        piece = data[:cut]
        try:
            slow = fit.decode(piece, engine="fitdecode")
        except FormatError:
            with pytest.raises(FormatError):
                fit.decode(piece)
            continue
        fast = fit.decode(piece)
        _same(fast, slow)
        assert all("truncated" in a.extras["import_warning"] for a in fast)


def _readable() -> list[str]:
    d = CORPUS / "fit"
    return sorted(f"fit/{p.name}" for p in d.iterdir()) if d.is_dir() else ["(no corpus)"]


@pytest.mark.parametrize("rel", _readable())
def test_split_keeps_every_message_runhub_reads(rel: str, corpus: Path) -> None:
    """fitfast.parse on the split-off file gives exactly the kept messages of parse on the whole file."""
    import fitfast

    data = _load(rel)
    try:
        data = fit._fitfast_bytes(data)[0]  # header-CRC-0 files: the fixed-up bytes fitfast reads
        whole = fitfast.parse(data)
        scan = fit._scan(data)
    except BaseException as exc:  # noqa: BLE001  a file fitfast or the walk refuses takes no split
        if isinstance(exc, KeyboardInterrupt):
            raise
        pytest.skip(f"not split: {type(exc).__name__}")
    if scan.others is None:
        pytest.skip("no split (compressed-timestamp messages, or a chain with a broken file)")
    from garmin_fit_sdk import Profile

    kept_names = {Profile["types"]["mesg_num"][n] for n in fit.KEEP_MESSAGES}
    part = fitfast.parse(scan.others)
    assert part == {k: v for k, v in whole.items() if k in kept_names}


def _fitdecode_walk(data: bytes) -> tuple[int, int, bool] | None:
    """(record messages, the data size walked, whole) of the first FIT file, by fitdecode (lenient,
    CRC unchecked: only the message structure counts here); None when fitdecode cannot walk it."""
    import fitdecode

    n = 0
    end = data[0]
    try:
        with fitdecode.FitReader(data, check_crc=fitdecode.CrcCheck.DISABLED,
                                 error_handling=fitdecode.ErrorHandling.IGNORE, keep_raw_chunks=True) as reader:
            for frame in reader:
                if isinstance(frame, fitdecode.FitCRC):
                    return n, end, True
                if isinstance(frame, fitdecode.FitDataMessage | fitdecode.FitDefinitionMessage):
                    end = frame.chunk.offset + len(frame.chunk.bytes)
                    n += isinstance(frame, fitdecode.FitDataMessage) and frame.name == "record"
    except fitdecode.FitEOFError:
        return n, end, False
    except Exception:  # noqa: BLE001  (a field of size 0 stops even the lenient reader)
        return None
    return n, end, True


@pytest.mark.parametrize("rel", _readable())
def test_walk_counts_what_fitdecode_reads(rel: str, corpus: Path) -> None:
    """The compiled message walk against fitdecode's: the same record count and the same end of the
    last whole message, on every corpus file, whole and cut in its middle."""
    data = _load(rel)
    if len(data) < 14 or data[8:12] != b".FIT" or len(data) > 80_000:
        pytest.skip("not a FIT file, or too long for fitdecode in a unit test")
    for case in (data, data[:len(data) // 2], data[:len(data) // 3 + 7]):
        try:
            scan = fit._scan(case)
        except (ValueError, fit.NotFit):
            continue  # an undefined local message, a garbage one: fitdecode's lenient walk goes on, ours stops
        truth = _fitdecode_walk(case)
        if truth is None:
            continue
        records, end, whole = truth
        assert (scan.records, scan.end) == (records, end)
        assert scan.broken_at is None or not whole  # (a cut between two messages breaks none)


def test_cut_file_with_a_wrong_header_crc_is_refused(corpus: Path) -> None:
    """The shortcut for a file cut inside its record data trusts the header only when its CRC holds;
    a wrong one is refused, as fitdecode refuses it."""
    data = bytearray(_load("fit/fitparse_activity-small-fenix2-run.fit")[:60_000])
    assert fit._scan(bytes(data)).plain_cut
    data[12] ^= 0x01
    with pytest.raises(FormatError, match="CRC"):
        fit.decode(bytes(data))
    with pytest.raises(FormatError, match="CRC"):
        fit.decode(bytes(data), engine="fitdecode")


def _crc_restated(data: bytearray) -> bytes:
    """A changed FIT file with its file CRC computed again, so that only the change differs."""
    size = data[0] + struct.unpack_from("<I", data, 4)[0]
    return bytes(data[:size]) + struct.pack("<H", fit.fit_crc(bytes(data[:size]))) + bytes(data[size + 2:])


@pytest.mark.parametrize("arch", [0, 1, 2, 255])
def test_a_definition_neither_little_nor_big_endian_is_not_handed_to_fitfast(arch: int) -> None:
    # FIT protocol, definition message: byte 2 is the architecture, 0 little-endian, 1 big-endian.
    # One file_id definition (field 0, 1 byte, enum) and its data message.
    data = fit_file(bytes([0x40, 0, arch, 0, 0, 1, 0, 1, 0, 0x00, 4]))
    if arch <= 1:
        assert fit._scan(data).end == len(data) - 2
    else:
        with pytest.raises(fit.NotFit, match=f"byte 14 has architecture {arch}"):
            fit._scan(data)
        assert fit.fitfast_input(data) == data  # the bench's reference times fitfast on the file itself
    with pytest.raises(FormatError, match="no session message and it holds no records"):
        fit.decode(data)  # decided as before: by the verdict and fitdecode, which read it


@pytest.mark.parametrize("base_type", [0x02, 0x11, 0x1F, 0x51])
def test_a_field_of_a_base_type_fit_does_not_define_is_read_by_fitdecode(base_type: int) -> None:
    # FIT protocol: base types 0x00 (enum) to 0x10 (uint64z) in the low five bits; 0x11..0x1F are
    # none. file_id (type activity), then three records of timestamp, heart_rate (uint8) and a
    # field 99 of `base_type`.
    body = bytes([0x40, 0, 0, 0, 0, 1, 0, 1, 0, 0x00, 4])
    body += bytes([0x41, 0, 0]) + struct.pack("<H", 20) + bytes([3, 253, 4, 0x86, 3, 1, 2, 99, 1, base_type])
    for k in range(3):
        body += bytes([0x01]) + struct.pack("<I", 1_000_000_000 + k) + bytes([150 + k, 7])
    (a,) = fit.decode(fit_file(body))
    assert a.extras["fit_decoder"] == ("fitfast" if base_type <= 0x10 else "fitdecode")
    assert a.channels["heart_rate"].tolist() == [150, 151, 152]


def test_a_data_message_with_its_reserved_bit_set_is_read_by_fitdecode() -> None:
    # FIT protocol, normal record header: bit 7 0, bit 6 0 for data, bit 5 message-type specific,
    # bit 4 reserved, bits 0-3 the local type. The Garmin SDK (LOCAL_MESG_NUM_MASK = 0x0F) and
    # fitdecode read past a set reserved bit; fitfast 0.1.0 panics on some such files. Three
    # records, the second with header 0x11.
    body = bytes([0x40, 0, 0, 0, 0, 1, 0, 1, 0, 0x00, 4])
    body += bytes([0x41, 0, 0]) + struct.pack("<H", 20) + bytes([2, 253, 4, 0x86, 3, 1, 2])
    for k in range(3):
        body += bytes([0x11 if k == 1 else 0x01]) + struct.pack("<I", 1_000_000_000 + k) + bytes([150 + k])
    data = fit_file(body)
    with pytest.raises(fit.NotFit, match="data message at byte 43 has its header's reserved bit"):
        fit._scan(data)
    (a,) = fit.decode(data)
    assert a.extras["fit_decoder"] == "fitdecode"
    assert a.channels["heart_rate"].tolist() == [150, 151, 152]


def test_garbage_definitions_are_refused_without_a_rust_panic_on_stderr(
    corpus: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    # SOURCES.md: the Lezyne file holds garbage definitions after about 22 KB; the one at byte
    # 22225 has architecture 229. fitfast 0.1.0 panics on them ("attempt to calculate the remainder
    # with a divisor of zero"), and Rust's panic hook writes that to the process's stderr.
    data = _load("fit/gpsbabel_lezyne_super_gps-garmin_fit-sample-bad-endian.fit")
    with pytest.raises(FormatError, match="byte 22225"):
        fit.decode(data)
    assert capfd.readouterr().err == ""


def test_a_record_field_of_an_undefined_base_type_is_read_without_a_rust_panic(
    corpus: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    # the fenix 2 run's record definition (byte 114) with its field 14 (4 bytes, uint32: byte 134)
    # given base type 0x11, which FIT does not define: fitfast 0.1.0 panics on it; fitdecode reads
    # the run (2,809 records, SOURCES.md).
    data = bytearray(_load("fit/fitparse_activity-small-fenix2-run.fit"))
    assert data[114] & 0xF0 == 0x40 and struct.unpack_from("<H", data, 117)[0] == 20 and data[134] == 0x86
    data[134] = 0x11
    (a,) = fit.decode(_crc_restated(data))
    assert a.extras["fit_decoder"] == "fitdecode" and a.n_samples == 2809
    assert capfd.readouterr().err == ""


DEV_FIELDS = "fit/fitsdkpy_ActivityDevFields.fit"


@pytest.mark.parametrize(("at", "value", "engine"), [
    (224, 0x11, None),  # base type number 17: past uint64z (16); fitdecode refuses it too
    (224, 0xFF, "fitdecode"),  # the invalid value of a uint8
    (206, 212, "fitdecode"),  # field 2 renumbered: the description gives no base type at all
    (224, 0x24, "fitfast"),  # number 4 (uint16) with a reserved bit: fitfast reads it by its number
    # field 15 (native_field_num, one byte: byte 215 of the definition) renumbered 2: the base type
    # given twice (found by fuzzing: rustyfit took the later, none it knows, and panicked, while the
    # walk had checked the earlier); fitdecode reads the earlier
    (215, 2, "fitdecode"),
])
def test_a_developer_field_description_without_a_base_type_is_read_without_a_rust_panic(
    corpus: Path, capfd: pytest.CaptureFixture[str], at: int, value: int, engine: str | None
) -> None:
    # The Garmin SDK's developer-field file describes its "Heart Rate" field in the field_description
    # at byte 221 (its big-endian definition at byte 194: fields 0, 1 and 2, one byte each; field 2,
    # fit_base_type_id, at byte 206 of the definition and 224 of the message, 0x02 = uint8). rustyfit
    # 0.10 takes a base type whose number (the low five bits) FIT does not define, or a description
    # without one, as a type of size 0 and panics on the first record whose developer field uses it,
    # printing the panic to stderr. The walk finds it first; fitdecode reads the file, or refuses it
    # (an unknown base type number is a KeyError there: the verdict says so first) and the refusal
    # says what the walk found. The file CRC is restated, so only the one byte differs.
    data = bytearray(_load(DEV_FIELDS))
    assert data[194] & 0xF0 == 0x40 and data[196] == 1 and struct.unpack_from(">H", data, 197)[0] == 206
    assert bytes(data[206:209]) == bytes([2, 1, 0x02]) and data[224] == 0x02 and data[225:235] == b"Heart Rate"
    data[at] = value
    changed = _crc_restated(data)
    if engine != "fitfast":
        with pytest.raises(fit.NotFit, match="field description at byte 221"):
            fit._scan(changed)
    if engine is None:
        with pytest.raises(FormatError, match="invalid FIT content..the field description at byte 221 gives its "
                                              "developer field no base type FIT defines") as refused:
            fit.decode(changed)
        assert refused.value.location == "byte 221"
        assert capfd.readouterr().err == ""
        return
    (a,) = fit.decode(changed)
    (truth,) = fit.decode(_load(DEV_FIELDS), engine="fitdecode")
    assert a.extras["fit_decoder"] == engine and a.n_samples == 3601
    np.testing.assert_array_equal(a.channels["heart_rate"], truth.channels["heart_rate"])
    assert capfd.readouterr().err == ""


@pytest.mark.parametrize("cut", [0, 100])
def test_a_garbage_field_description_in_a_chained_file_is_found_too(
    corpus: Path, capfd: pytest.CaptureFixture[str], cut: int
) -> None:
    # The same garbage in the second file of a chain (the developer-field file twice, the second with
    # its "Heart Rate" description's base type 0x11, CRC restated): the walk goes on through the files
    # of a chain, so fitfast never reads it; fitdecode refuses the chain naming the byte. With the
    # second file cut 100 bytes short (its records run past the end), the walk left it to fitfast
    # unread, and fitfast panicked on the garbage, printing the panic to stderr (found by a mutation
    # fuzz of the corpus: a chained swim file with bytes deleted in its third file).
    first = _load(DEV_FIELDS)
    second = bytearray(first)
    second[224] = 0x11
    chain = first + _crc_restated(second)[:len(second) - cut]
    at = len(first) + 221
    with pytest.raises(fit.NotFit, match=f"field description at byte {at}"):
        fit._scan(chain)
    with pytest.raises(FormatError, match=f"field description at byte {at}"):
        fit.decode(chain)
    assert capfd.readouterr().err == ""
