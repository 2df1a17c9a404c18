"""The verdict on FIT files fitfast refuses (formats/fit_verdict.py) against fitdecode, strict, the
decoder whose verdict it replaces: wherever the structure alone decides, fitdecode refuses the same
file, and at the same byte for every fault fitdecode locates; a truncated file fitdecode keeps
(whole records or a session before the break) is never refused by it.

The mutations are seeded, so a failure names a case that can be replayed.
"""

from __future__ import annotations

import gzip
import random
import re
import struct
from dataclasses import dataclass
from pathlib import Path

import pytest

from runhub.formats import FormatError, fit
from runhub.formats.fit_verdict import verdict

from .conftest import CORPUS, fit_file

# SOURCES.md: the corpus files refused for their structure (test_corpus.py checks the words)
REFUSED = ["fit/fitparse_activity-filecrc.fit", "fit/fitparse_activity-activity-filecrc.fit",
           "fit/fitparse_activity-settings-corruptheader.fit", "fit/fitparse_strava-android-app-201.10-b1218918.fit",
           "fit/gpsbabel_lezyne_super_gps-garmin_fit-sample-bad-endian.fit"]
# small files of every shape: 12- and 14-byte headers, chained, developer fields, compressed timestamps
MUTATED = ["fit/fitparse_Activity.fit", "fit/fitparse_activity-settings.fit", "fit/fitparse_DeveloperData.fit",
           "fit/tormoder_unterminated-strings.fit", "fit/fitparse_garmin-fenix-5-run.fit", "fit/elevate_pool-swim.fit",
           "fit/fitparse_elemnt-bolt-no-application-id-inside-developer-data-id.fit", "fit/fitparse_antfs-dump.63.fit"]


def _load(rel: str) -> bytes:
    data = (CORPUS / rel).read_bytes()
    return gzip.decompress(data) if rel.endswith(".gz") else data


@dataclass
class Outcome:
    kind: str  # read, kept (truncated, records before the break), eof, crc, parse, header, size, other
    at: int | None  # the byte fitdecode names, for the faults it locates


def _fitdecode(data: bytes) -> Outcome:
    """fitdecode's own verdict, read from its exceptions (as runhub did before the verdict)."""
    import fitdecode

    seen = 0
    try:
        with fitdecode.FitReader(data, check_crc=fitdecode.CrcCheck.RAISE,
                                 error_handling=fitdecode.ErrorHandling.RAISE) as reader:
            for frame in reader:
                if isinstance(frame, fitdecode.FitDataMessage) and frame.name in ("record", "session"):
                    seen += 1
    except fitdecode.FitEOFError:
        return Outcome("kept" if seen else "eof", None)
    except fitdecode.FitParseError as exc:
        return Outcome("parse", exc.offset)
    except fitdecode.FitCRCError as exc:
        return Outcome("crc", int(re.search(r"(?:footer|header) offset: (\d+)", str(exc)).group(1)))
    except fitdecode.FitHeaderError as exc:
        m = re.search(r"@ (\d+)|header offset: (\d+)", str(exc))
        return Outcome("header", int(m.group(1) or m.group(2)) if m else None)
    except AssertionError:  # its check that no message crosses the header's data size
        return Outcome("size", None)
    except Exception:  # noqa: BLE001  fitdecode trips over some field values with TypeError, KeyError...
        return Outcome("other", None)
    return Outcome("read", None)


def _mutations(data: bytes, rng: random.Random, n: int) -> list[bytes]:
    out = []
    for _ in range(n):
        b = bytearray(data)
        kind = rng.randrange(6)
        if kind == 0:  # bytes overwritten anywhere
            for _ in range(rng.randint(1, 3)):
                b[rng.randrange(12, len(b))] = rng.randrange(256)
        elif kind == 1:  # cut anywhere
            b = b[:rng.randrange(12, len(b))]
        elif kind == 2:  # a bit flipped among the first definitions
            b[rng.randrange(12, min(len(b), 1024))] ^= 1 << rng.randrange(8)
        elif kind == 3:  # another file chained after it, maybe cut
            b += data[:rng.randrange(0, len(data) + 1)]
        elif kind == 4:  # a wrong data size in the header
            size = int.from_bytes(b[4:8], "little")
            b[4:8] = max(0, size + rng.randint(-40, 40)).to_bytes(4, "little")
        else:  # a bit flipped, then cut after it
            i = rng.randrange(12, len(b))
            b[i] ^= 1 << rng.randrange(8)
            b = b[:rng.randrange(i, len(b) + 1)]
        out.append(bytes(b))
    return out


@pytest.mark.parametrize("rel", REFUSED)
def test_corpus_refusals_at_fitdecodes_byte(rel: str, corpus: Path) -> None:
    data = _load(rel)
    found = verdict(data)
    truth = _fitdecode(data)
    assert found is not None and truth.kind in ("crc", "parse", "header")
    assert found[1] == f"byte {truth.at}", (found, truth)
    with pytest.raises(FormatError) as exc:
        fit.decode(data, filename=Path(rel).name)
    assert found[0] in str(exc.value)


@pytest.mark.parametrize("rel", MUTATED)
def test_mutations_agree_with_fitdecode(rel: str, corpus: Path) -> None:
    data = _load(rel)
    rng = random.Random(rel)
    decided = 0
    for k, case in enumerate(_mutations(data, rng, 100)):
        if case[8:12] != b".FIT" or case[0] not in (12, 14):
            continue  # refused by the header check before any decoder
        found = verdict(case)
        truth = _fitdecode(case)
        if found is None:
            continue
        decided += 1
        where = f"mutation {k} of {rel}: verdict {found}, fitdecode {truth}"
        assert truth.kind not in ("read", "kept"), where  # never refuses what fitdecode reads or keeps
        if truth.kind in ("crc", "parse", "header") and truth.at is not None:
            assert found[1] == f"byte {truth.at}", where
        if truth.kind == "eof":
            assert "ends before its first whole record" in found[0], where
        if truth.kind == "size":
            assert "data size the FIT header declares" in found[0], where
    assert decided >= 20  # the cheap checks decide most refusals


def test_truncated_after_a_record_is_left_to_the_decoders(corpus: Path) -> None:
    """A file cut after whole records is kept by the decoders (with a warning), never refused here."""
    data = _load("fit/fitparse_activity-small-fenix2-run.fit")
    for cut in range(2000, len(data), 9973):
        assert verdict(data[:cut]) is None
        [a] = fit.decode(data[:cut])
        assert "truncated" in a.extras["import_warning"]


def test_cut_chain_is_left_to_fitdecode(corpus: Path) -> None:
    """A whole FIT file followed by a cut one: fitfast refuses the chain, fitdecode keeps the whole
    records before the cut; the verdict has nothing to say."""
    data = _load("fit/fitparse_activity-settings-nodata.fit")
    assert verdict(data) is None
    assert fit.decode(data)[0].extras["fit_decoder"] == "fitdecode"


# Hand-built files (FIT protocol): file_id (type activity); then the case; then a data message of a
# local type never defined (0x09), which fitfast refuses, so that the verdict speaks.
_FILE_ID = bytes([0x40, 0, 0, 0, 0, 1, 0, 1, 0, 0x00, 4])
_RECORDS = (bytes([0x41, 0, 0]) + struct.pack("<H", 20) + bytes([2, 253, 4, 0x86, 3, 1, 2])
            + b"".join(bytes([0x01]) + struct.pack("<I", 1_000_000_000 + k) + bytes([150]) for k in range(3)))
_UNDEFINED = bytes([0x09, 1, 2, 3])


def _developer_data_id(size: int, index: int = 0) -> bytes:
    """developer_data_id (207), its developer_data_index (field 3, uint8) `size` bytes long."""
    return bytes([0x42, 0, 0]) + struct.pack("<H", 207) + bytes([1, 3, size, 0x02]) + bytes([0x02] + [index] * size)


def _field_description(index_type: int, base_type: int = 0x02) -> bytes:
    """field_description (206): developer_data_index (field 0, one byte of `index_type`) 0,
    field_definition_number 1, fit_base_type_id `base_type`."""
    return (bytes([0x43, 0, 0]) + struct.pack("<H", 206) + bytes([3, 0, 1, index_type, 1, 1, 0x02, 2, 1, 0x02])
            + bytes([0x03, 0, 1, base_type]))


@pytest.mark.parametrize(("case", "says", "at"), [
    # a field 0 bytes long: fitdecode's read of it fails ("ValueError: size")
    (bytes([0x42, 0, 0]) + struct.pack("<H", 20) + bytes([2, 253, 4, 0x86, 3, 0, 0x02]) + bytes([0x02, 0, 0, 0, 0]),
     "field 1 of the definition of local message 2 is 0 bytes long", 37),
    # developer indexes fitdecode reads as a tuple, which its int() fails ("TypeError: int() argument...")
    (_developer_data_id(3), "the developer_data_index of a developer_data_id message is 3 values, not one", 34),
    (_developer_data_id(1) + _field_description(0x0D),
     "the developer_data_index of a field_description message is bytes, not a number", 51),
    # an index of the type's invalid value, which fitdecode reads as None and int() fails
    (_developer_data_id(1, index=0xFF), "the developer_data_index of a developer_data_id message is the type's "
     "invalid value", 34),
    # a base type FIT does not define, which fitdecode looks up in its table ("KeyError: 101")
    (_developer_data_id(1) + _field_description(0x02, base_type=101),
     "the field description at byte 51 gives its developer field no base type FIT defines (fit_base_type_id 101)",
     51),
], ids=["a field of 0 bytes", "an index of 3 values", "an index of bytes", "an invalid index", "an unknown base type"])
def test_what_fitdecode_fails_on_with_a_python_error_is_said_in_runhubs_words(case: bytes, says: str, at: int) -> None:
    data = fit_file(_FILE_ID + case + _RECORDS + _UNDEFINED)
    assert _fitdecode(data).kind == "other"  # fitdecode refuses it, with an exception of Python's
    assert verdict(data) == (f"invalid FIT content ({says}, so its data messages cannot be read)"
                             if "0 bytes" in says else f"invalid FIT content ({says})", f"byte {at}")
    with pytest.raises(FormatError) as exc:
        fit.decode(data, filename="dev.fit")
    assert says in str(exc.value) and f"byte {at}" in str(exc.value)
    assert "Error" not in str(exc.value)


def test_a_single_developer_index_is_left_to_the_walk() -> None:
    """The same files with one developer_data_index of a number: nothing to say about it, and the
    walk goes on to the undefined local message, as fitdecode does."""
    for case in (_developer_data_id(1), _developer_data_id(1) + _field_description(0x02)):
        data = fit_file(_FILE_ID + case + _RECORDS + _UNDEFINED)
        assert _fitdecode(data).kind == "parse"
        found = verdict(data)
        assert found is not None and "local message 9 is used before any definition" in found[0]


def test_fitdecodes_own_refusals_are_worded_at_their_byte() -> None:
    """What fitdecode alone decides (the walk is not asked here) reads without its exception's
    names: its parse errors as their text at their byte, its trips as the message's byte."""
    data = fit_file(_FILE_ID + _RECORDS + _UNDEFINED)
    with pytest.raises(FormatError) as exc:
        fit.decode(data, filename="u.fit", engine="fitdecode")
    # the header 14 bytes, file_id 11, the record definition 12 and three records of 6: byte 55
    assert str(exc.value) == "u.fit: byte 55: invalid FIT content (local message 9 not defined)"
    data = fit_file(_FILE_ID + _developer_data_id(1) + _field_description(0x02, base_type=101) + _RECORDS)
    with pytest.raises(FormatError) as exc:  # fitdecode: KeyError 101, at the field_description message
        fit.decode(data, filename="k.fit", engine="fitdecode")
    assert str(exc.value) == "k.fit: byte 51: invalid FIT content (a message the decoders cannot read: KeyError 101)"
