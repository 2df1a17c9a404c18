"""Unwrap gzip and zip uploads into their member files, with limits against archive bombs.

Every member becomes its own upload with its own result (ingest calls `unpack` when sniff says
gzip or zip; an import from disk reads a zip with `stream`, one member at a time). Refused: a
zip inside a zip or a gzip inside a gzip (nesting is how bombs multiply), member names that
climb out of the archive (absolute, `..`, drive letters), more members than `max_members`, and
any output beyond `max_member_bytes` per member or `max_total_bytes` in all, checked while
streaming so a bomb never reaches memory. From disk only, one level of zip inside a zip is read
(a Garmin Connect export holds its recordings in `UploadedFiles_*.zip` inside the export zip):
the inner zip is spilled to a temporary file, bounded, and read member by member as the outer.
A .fit.gz inside a zip (how Strava's bulk export ships files) is one level of gzip in one zip:
allowed. macOS resource forks (`__MACOSX/`, `._name`) and directories are skipped silently.
"""

from __future__ import annotations

import io
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import IO, overload

from runhub.formats import FormatError, NotAnActivity

MAX_MEMBERS = 1000
MAX_MEMBER_BYTES = 100 * 1024 * 1024
MAX_TOTAL_BYTES = 1024 * 1024 * 1024
# an archive past the count or total limit is most likely a real account export of a lifetime,
# not a bomb: an import from disk reads it member by member (`stream`), without these limits
_FROM_DISK = "import it from disk with `runhub import`, which reads a zip member by member, without these limits"
# a zip inside a zip on disk (a Garmin export's UploadedFiles_*.zip: a lifetime of recordings) is
# spilled to a temporary file of at most this size, and at most half the free space there
MAX_NESTED_BYTES = 16 * 1024 * 1024 * 1024
_CHUNK = 1 << 20


def _err(message: str, name: str | None, location: str | None = None) -> FormatError:
    return FormatError(message, format="archive", file=name, location=location)


def gunzip(data: bytes, name: str | None, limit: int = MAX_MEMBER_BYTES) -> bytes:
    """Decompress gzip (all concatenated members) streaming, refusing output past `limit`."""
    out = bytearray()
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    buf = data
    try:
        while buf:
            # at most a chunk at a time: one call for the whole limit would hold it twice
            out += d.decompress(buf, min(_CHUNK, max(limit + 1 - len(out), 1)))
            if len(out) > limit:
                raise _err(f"decompresses to more than {limit} bytes (limit)", name)
            if d.eof:  # first: at a member's end the input past it is in unused_data, and
                # unconsumed_tail may still hold a copy of it (a call capped at a chunk), which fed
                # back to a finished stream would loop forever
                if d.unused_data.lstrip(b"\0"):
                    buf = d.unused_data  # another gzip member follows
                    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
                    continue
                break
            if d.unconsumed_tail:
                buf = d.unconsumed_tail
                continue
            break
        if not d.eof:
            raise _err("the gzip stream is truncated", name)
    except zlib.error as exc:
        raise _err(f"not a valid gzip stream ({exc})", name) from exc
    return bytes(out)


def _strip_gz(name: str | None) -> str | None:
    if name and name.lower().endswith(".gz"):
        return name[:-3]
    return name


def _safe_name(name: str, archive: str | None) -> str:
    p = PurePosixPath(name.replace("\\", "/"))
    if p.is_absolute() or ".." in p.parts or PureWindowsPath(name).drive or "\0" in name:
        raise _err(f"member name {name!r} points outside the archive", archive, name)
    return str(p)


def unpack(data: bytes, name: str | None = None, *, max_members: int = MAX_MEMBERS,
           max_member_bytes: int = MAX_MEMBER_BYTES, max_total_bytes: int = MAX_TOTAL_BYTES,
           ) -> list[tuple[str, bytes]]:
    """gzip -> [(name without .gz, bytes)]; zip -> [(member path, bytes)] for each file member."""
    if data[:2] == b"\x1f\x8b":
        inner = gunzip(data, name, max_member_bytes)
        if inner[:2] == b"\x1f\x8b" or is_zip(inner):
            raise _err("an archive inside a gzip file is refused (nested archives)", name)
        return [(_strip_gz(name) or "upload", inner)]
    if not is_zip(data):
        raise _err("neither gzip nor zip", name)
    zf = _open(io.BytesIO(data), name)
    infos = _files(zf)
    if len(infos) > max_members:
        raise _err(f"{len(infos)} members, the limit is {max_members}; {_FROM_DISK}", name)
    if not infos:
        raise _err("the zip file holds no files", name)
    out: list[tuple[str, bytes]] = []
    total = 0
    for info in infos:
        member, content, read = _member(zf, info, name, max_member_bytes, total, max_total_bytes)
        total += read
        out.append((member, content))
    return out


def stream(path: Path, max_member_bytes: int = MAX_MEMBER_BYTES, only: Callable[[str], bool] | None = None,
           max_nested_bytes: int = MAX_NESTED_BYTES) -> Iterator[tuple[str, bytes | FormatError]]:
    """A zip file on disk, member by member, for an import of local files: a lifetime's export
    (thousands of recordings, photos, films) is read one member at a time, so no count or total
    limit is needed; each member keeps `unpack`'s other rules, and a member that breaks one is
    that member's error, not the archive's. A member whose first bytes say it is plainly no
    activity (a film) is not decompressed further. A member that is itself a zip is read the same
    way, its members named under its path ("outer/part.zip/123.fit"), after it is spilled to a
    temporary file of at most `max_nested_bytes`; a zip inside that one is refused. `only`: the
    member paths wanted (a nested zip is read only when its own path is wanted). A file that is no
    readable zip gives one error, under its own path."""
    with path.open("rb") as fh:
        try:
            zf = _open(fh, str(path))
        except FormatError as exc:
            yield str(path), exc
            return
        yield from _stream_members(zf, str(path), "", max_member_bytes, only, max_nested_bytes)


def _stream_members(zf: zipfile.ZipFile, name: str, prefix: str, max_member_bytes: int,
                    only: Callable[[str], bool] | None, max_nested_bytes: int | None,
                    ) -> Iterator[tuple[str, bytes | FormatError]]:
    """`stream` of an open zip, `name` in its errors, whose members' results are named under
    `prefix`; `max_nested_bytes` None: a zip member is refused (the zip is itself inside one)."""
    for info in _files(zf):
        if only is not None and not only(prefix + info.filename):
            continue
        try:
            member, content, _ = _member(zf, info, name, max_member_bytes, peek=True, max_nested_bytes=max_nested_bytes)
        except FormatError as exc:
            yield prefix + (exc.location or info.filename), exc
            continue
        if isinstance(content, bytes):
            yield prefix + member, content
            continue
        with content:  # a zip inside the zip, spilled to a temporary file
            try:
                inner = _open(content, f"{name}/{member}")
            except FormatError as exc:
                yield prefix + member, exc
                continue
            yield from _stream_members(inner, f"{name}/{member}", f"{prefix}{member}/", max_member_bytes, only, None)


def _spill(fh: IO[bytes], head: bytes, info: zipfile.ZipInfo, name: str | None, member: str,
           max_nested_bytes: int) -> IO[bytes]:
    """A zip member that is itself a zip, copied to a temporary file (deleted when closed) so that
    zipfile can seek in it: at most `max_nested_bytes`, and at most half the free space where
    temporary files go, counted as it is written (the declared size can lie)."""
    where = tempfile.gettempdir()
    limit = min(max_nested_bytes, shutil.disk_usage(where).free // 2)
    if info.file_size > limit:
        raise _err(f"a zip inside the zip declares {info.file_size} bytes; it is read through a temporary file, "
                   f"which may take {limit} bytes in {where}: set TMPDIR to a folder with more room, or unpack "
                   "the outer zip and import its folder", name, member)
    out = tempfile.TemporaryFile(dir=where)
    try:
        out.write(head)
        written = len(head)
        while chunk := fh.read(_CHUNK):
            written += len(chunk)
            if written > limit:
                raise _err(f"a zip inside the zip decompresses past {limit} bytes (zip bomb?)", name, member)
            out.write(chunk)
        out.seek(0)
    except BaseException:
        out.close()
        raise
    return out


class Members:
    """A zip on disk whose members are read by name, each under `unpack`'s rules for a member
    (Apple Health's export.zip: its export.xml streamed, the route files it names read as it
    names them). Opened once; close it when done."""

    def __init__(self, path: Path) -> None:
        self.name = str(path)
        self._fh = path.open("rb")
        try:
            self._zf = _open(self._fh, self.name)
        except BaseException:
            self._fh.close()
            raise
        self._infos = {i.filename: i for i in _files(self._zf)}

    def close(self) -> None:
        self._zf.close()
        self._fh.close()

    def names(self) -> list[str]:
        return list(self._infos)

    def head(self, member: str, size: int = 4096) -> bytes:
        """The first bytes of a member (b"" for an encrypted or unreadable one)."""
        info = self._infos[member]
        if info.flag_bits & 0x1:
            return b""
        try:
            with self._zf.open(info) as fh:
                return fh.read(size)
        except BROKEN_ZIP:
            return b""

    def read(self, member: str, max_member_bytes: int = MAX_MEMBER_BYTES) -> bytes | None:
        """A member's content by its path (None: no such member); FormatError as `unpack` gives it."""
        info = self._infos.get(member)
        return None if info is None else _member(self._zf, info, self.name, max_member_bytes)[1]

    def open(self, member: str, max_bytes: int | None = None) -> IO[bytes]:
        """A member as a stream, for one too large to hold (gigabytes of XML): its decompressed
        bytes are counted as they are read, and a FormatError stops it past `max_bytes` (default
        MAX_NESTED_BYTES, the bound of a zip inside a zip: a bomb)."""
        info = self._infos[member]
        _safe_name(info.filename, self.name)
        if info.flag_bits & 0x1:
            raise _err("encrypted members are refused", self.name, member)
        return _Bounded(self._zf.open(info), MAX_NESTED_BYTES if max_bytes is None else max_bytes, self.name, member)


class _Bounded(io.RawIOBase):
    """A member's stream that refuses to give more than its bound."""

    def __init__(self, raw: IO[bytes], limit: int, name: str, member: str) -> None:
        self._raw, self._limit, self._read, self._where = raw, limit, 0, (name, member)

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        try:
            chunk = self._raw.read(size)
        except BROKEN_ZIP as exc:
            raise _err(f"cannot read member ({exc})", *self._where) from exc
        self._read += len(chunk)
        if self._read > self._limit:
            raise _err(f"decompresses past {self._limit} bytes (zip bomb?)", *self._where)
        return chunk

    def close(self) -> None:
        self._raw.close()
        super().close()


# what zipfile raises for a broken archive, besides BadZipFile: a stream cut short (EOFError), a
# deflate stream that is not one (zlib.error), a version or method it does not read
# (NotImplementedError), a header offset before the file's start ("negative seek value":
# ValueError; found by a mutation fuzz), OSError; FormatError, a ValueError too, is caught first
BROKEN_ZIP = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, OSError, ValueError)


def is_zip(data: bytes) -> bool:
    return data[:4] in (b"PK\x03\x04", b"PK\x05\x06")


def _open(source: IO[bytes], name: str | None) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(source)
    except BROKEN_ZIP as exc:
        raise _err(f"not a valid zip file ({exc})", name) from exc


def _files(zf: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """The file members, macOS resource forks left out (ZipInfo.is_dir fails on an empty name)."""
    return [i for i in zf.infolist() if not i.filename.endswith("/") and not (
        i.filename.startswith("__MACOSX/") or PurePosixPath(i.filename).name.startswith("._"))]


def _refuse_plainly_other(head: bytes, member: str) -> None:
    """NotAnActivity, at `member`, when its first bytes say it is plainly no activity (a film)."""
    from runhub.formats.sniffing import sniff

    try:
        sniff(head)
    except NotAnActivity as exc:
        exc.location = member
        raise
    except FormatError:
        pass  # too short to tell, say: the whole member decides


@overload
def _member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str | None, max_member_bytes: int,
            total: int = 0, max_total_bytes: int | None = None, peek: bool = False,
            max_nested_bytes: None = None) -> tuple[str, bytes, int]: ...


@overload
def _member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str | None, max_member_bytes: int,
            total: int = 0, max_total_bytes: int | None = None, peek: bool = False,
            max_nested_bytes: int | None = None) -> tuple[str, bytes | IO[bytes], int]: ...


def _member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str | None, max_member_bytes: int,
            total: int = 0, max_total_bytes: int | None = None, peek: bool = False,
            max_nested_bytes: int | None = None) -> tuple[str, bytes | IO[bytes], int]:
    """(member path, content, bytes decompressed) of one member, checked as the module says;
    `total`: bytes the members before it decompressed to, against `max_total_bytes` (None: no
    total limit). `peek`: NotAnActivity, from the member's first bytes, for what is plainly no
    activity (a film: never decompressed whole). `max_nested_bytes` (with `peek`): a member that
    is a zip comes back as a temporary file holding it (`_spill`), not refused. An error's
    location is the member path."""

    def past_total(read: int) -> FormatError | None:
        if max_total_bytes is None or total + read <= max_total_bytes:
            return None
        return _err(f"decompresses to more than {max_total_bytes} bytes in all; {_FROM_DISK}", name, member)

    member = _safe_name(info.filename, name)
    if info.flag_bits & 0x1:
        raise _err("encrypted members are refused", name, member)
    buf = bytearray()
    try:
        with zf.open(info) as fh:
            if peek:  # one stream: the look at the head is the start of the read
                head = fh.read(4096)
                buf += head
                if max_nested_bytes is not None and is_zip(head):
                    return member, _spill(fh, head, info, name, member, max_nested_bytes), 0
                _refuse_plainly_other(head, member)
            if info.file_size > max_member_bytes:
                raise _err(f"member declares {info.file_size} bytes, the limit is {max_member_bytes}", name, member)
            while chunk := fh.read(_CHUNK):
                buf += chunk
                # the declared size can lie; count what actually comes out
                if len(buf) > max_member_bytes:
                    raise _err("decompresses past the size limit (zip bomb?)", name, member)
                if (past := past_total(len(buf))) is not None:
                    raise past
    except FormatError:
        raise
    except BROKEN_ZIP as exc:
        raise _err(f"cannot read member ({exc})", name, member) from exc
    read = len(buf)
    content = bytes(buf)
    if is_zip(content):
        hint = ("import it from disk with `runhub import`, which reads one level of zips inside a zip" if not peek
                else "one level of zips inside a zip is read; unpack the outer zip and import its folder")
        raise _err(f"a zip inside a zip is refused here (nested archives); {hint}", name, member)
    if content[:2] == b"\x1f\x8b":
        content = gunzip(content, f"{name or 'upload'}/{member}", max_member_bytes)
        read += len(content)
        if (past := past_total(read)) is not None:
            raise past
        if content[:2] == b"\x1f\x8b" or is_zip(content):
            raise _err("an archive inside a gzip member is refused (nested archives)", name, member)
        member = _strip_gz(member) or member
    return member, content, read
