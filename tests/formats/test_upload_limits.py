"""A 200 MB upload, plain or as a gzip or zip bomb, through ingest_bytes with the configured limit:
a clear error, nothing stored, and memory that stays bounded (tracemalloc peak growth).

Data is generated here (zeros compress about 1000:1), never committed.
"""

from __future__ import annotations

import gzip
import io
import tracemalloc
import zipfile
import zlib

import pytest
from sqlalchemy import func, select

from runhub.ingest import ingest_bytes
from runhub.store.tables import activities
from tests.conftest import make_user

SIZE = 200 * 1024 * 1024
MB = 1024 * 1024


def _stored(db, owner: int) -> int:
    with db.connect() as conn:
        return conn.execute(select(func.count()).select_from(activities).where(activities.c.owner_id == owner)).scalar()


def _gzip_zeros(n: int) -> bytes:
    """n zero bytes, gzip-compressed, without holding the n bytes."""
    c = zlib.compressobj(1, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = bytes(MB)
    parts = [c.compress(chunk) for _ in range(n // MB)]
    return b"".join(parts) + c.flush()


def _zip_of(name: str, n: int | None = None, payload: bytes | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        if payload is not None:
            zf.writestr(name, payload)
        else:
            with zf.open(name, "w", force_zip64=False) as fh:
                chunk = bytes(MB)
                for _ in range((n or 0) // MB):
                    fh.write(chunk)
    return buf.getvalue()


def _ingest_measured(db, uid: int, data: bytes, name: str, limit: int) -> tuple[list, int]:
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        results = ingest_bytes(db, uid, data, filename=name, max_bytes=limit)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    return results, peak


@pytest.fixture(scope="module")
def limit(settings) -> int:
    # the limit the API and the CLI pass to ingest_bytes (settings.max_upload_bytes)
    assert settings.max_upload_bytes < SIZE, "the test needs a configured limit below 200 MB"
    return settings.max_upload_bytes


def test_plain_200_mb_upload_refused_before_reading(db, limit) -> None:
    uid, _ = make_user(db)
    data = b"<" + bytes(SIZE - 1)
    results, peak = _ingest_measured(db, uid, data, "big.gpx", limit)
    (r,) = results
    assert r.status == "failed"
    assert f"upload is {SIZE} bytes, the limit is {limit}" in r.error
    assert _stored(db, uid) == 0
    assert peak < 1 * MB, peak  # refused on its length: nothing is copied or parsed


def test_gzip_bomb_200_mb_refused_with_bounded_memory(db, limit) -> None:
    uid, _ = make_user(db)
    data = _gzip_zeros(SIZE)
    assert len(data) < 2 * MB
    results, peak = _ingest_measured(db, uid, data, "bomb.fit.gz", limit)
    (r,) = results
    assert r.status == "failed"
    assert "decompresses to more than" in r.error and "bomb.fit.gz" in r.error
    assert _stored(db, uid) == 0
    # decompression stops at the limit: at most the limit itself plus working buffers
    assert peak < limit * 1.15 + 16 * MB, peak


def test_zip_bomb_200_mb_member_refused_with_bounded_memory(db, limit) -> None:
    uid, _ = make_user(db)
    data = _zip_of("ride.gpx", n=SIZE)
    assert len(data) < 2 * MB
    results, peak = _ingest_measured(db, uid, data, "export.zip", limit)
    (r,) = results
    assert r.status == "failed"
    assert "ride.gpx" in r.error and "limit" in r.error
    assert _stored(db, uid) == 0
    assert peak < 16 * MB, peak  # refused on the member's declared size, before inflating


def test_gzip_bomb_inside_zip_refused_with_bounded_memory(db, limit) -> None:
    uid, _ = make_user(db)
    inner = _gzip_zeros(SIZE)  # declared in the zip as its small compressed size
    data = _zip_of("ride.fit.gz", payload=inner)
    results, peak = _ingest_measured(db, uid, data, "export.zip", limit)
    (r,) = results
    assert r.status == "failed"
    assert "decompresses to more than" in r.error
    assert _stored(db, uid) == 0
    assert peak < limit * 1.15 + 16 * MB, peak


def test_gzip_just_under_the_limit_is_read() -> None:
    # the limit is on output bytes, not a guess: 1 MB of gzip-wrapped text comes back whole
    from runhub.formats.archive import unpack

    payload = b"x" * MB
    ((name, content),) = unpack(gzip.compress(payload), "a.csv.gz", max_member_bytes=MB)
    assert (name, content) == ("a.csv", payload)


@pytest.mark.timeout(20)
def test_gzip_of_two_members_the_first_over_a_chunk_is_read_whole() -> None:
    # found by fuzzing: a first member decompressing to more than one read chunk (1 MiB) ended with
    # the second member's bytes left as an unconsumed tail of the finished stream, fed back to it
    # forever (the upload hung); gzip -d reads such a file as the members' contents joined
    from runhub.formats.archive import unpack

    first, second = b" " * (MB + 51_424), b"y"
    ((_, content),) = unpack(gzip.compress(first) + gzip.compress(second), "a.csv.gz", max_member_bytes=4 * MB)
    assert content == first + second
