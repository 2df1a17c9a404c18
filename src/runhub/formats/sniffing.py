"""Content sniffing: the first bytes decide, never the file name or Content-Type."""

from __future__ import annotations

import re

from runhub.formats import FormatError, NotAnActivity

# What an account export holds beside its activities (photos, videos, documents), by magic number
_OTHER_CONTENT: tuple[tuple[bytes, int, str], ...] = (
    (b"\xff\xd8\xff", 0, "a JPEG image"),
    (b"\x89PNG\r\n\x1a\n", 0, "a PNG image"),
    (b"GIF8", 0, "a GIF image"),
    (b"%PDF", 0, "a PDF document"),
    (b"ftyp", 4, "a video or HEIC image (ISO media)"),
    (b"WEBP", 8, "a WebP image"),
    # runhub's own Parquet export (formats/parquet.py) among its other exports: written for analysis,
    # not read back
    (b"PAR1", 0, "a Parquet table (runhub writes Parquet for analysis and does not read it back: import the "
                 "activity's FIT, TCX, GPX, CSV or JSON export instead)"),
)

_XML_ROOT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)[\s>/]")
# the DOCTYPE names the root element; Apple Health's export.xml opens with one whose internal
# subset runs past the first 4 KB, so its name is the only root the head shows
_DOCTYPE = re.compile(rb"<!DOCTYPE\s+(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)")
# XML an account export holds beside its activities, by root element
_OTHER_XML = {
    "html": "an HTML page",  # a saved web page (an export's index, say)
    "healthdata": "Apple Health's export.xml, whose workouts `runhub import` reads with their routes from the "
                  "export's folder or export.zip; alone it is no activity file",
    "clinicaldocument": "a clinical document (Apple Health's export_cda.xml)",
    "svg": "an SVG image",
}
# Activity files of formats runhub does not read, by XML root element: refused naming the format,
# not as unknown XML, so that a runner knows to export the run as FIT, TCX or GPX instead
_UNREAD_XML = {
    "polar-exercise-data": "Polar Personal Trainer's XML export",
    "sml": "Suunto's SML (Moveslink)",
    "pwx": "TrainingPeaks' PWX",
    "fitnessworkbook": "SportTracks' FITLOG",
    "kml": "KML (Google Earth's)",
}
_UNREAD_ADVICE = "runhub does not read: import the run's FIT, TCX or GPX, which the app or device exports"
# Polar ProTrainer's HRM: INI-like sections ([Params] first, then [HRData]); its "[" is not JSON's
_HRM = re.compile(rb"\[Params\]\s*[\r\n]")
# the head of an Apple Watch ECG (Apple Health's electrocardiograms/): key,value lines, then voltages
_ECG = re.compile(rb"^Sample Rate,\s*\d+ hertz\s*$", re.I | re.M)


# UTF-16 text: by its byte order mark, or (XML without one) by "<?" as the XML spec's appendix F
# detects it. Windows programs write GPX, TCX and CSV so ("Unicode Text" in Excel is UTF-16).
_UTF16 = ((b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"), (b"<\0?\0", "utf-16-le"), (b"\0<\0?", "utf-16-be"))
_DECLARED_UTF16 = re.compile(r"""^(\s*<\?xml[^>]*?encoding\s*=\s*)["']utf-16(?:-?[lb]e)?["']""", re.I)


def _utf16(data: bytes) -> str | None:
    return next((codec for bom, codec in _UTF16 if data.startswith(bom)), None)


def as_utf8(data: bytes) -> bytes:
    """UTF-16 text as UTF-8, an XML declaration's encoding said anew; anything else as it is. The
    decoders (and their checks for a DOCTYPE) read UTF-8 and single-byte text; the stored original
    keeps the bytes as they came."""
    codec = _utf16(data)
    if codec is None:
        return data
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        raise FormatError(f"UTF-16 text that does not decode at byte {exc.start} ({exc.reason})",
                          location=f"byte {exc.start}") from exc
    return _DECLARED_UTF16.sub(r'\1"UTF-8"', text.lstrip("\ufeff"), count=1).encode("utf-8")


def sniff(data: bytes) -> str:
    if not data:
        raise FormatError("the file is empty")
    codec = _utf16(data)
    if codec is not None:  # what its text is, read from its first characters as UTF-8
        head = data[:8192].decode(codec, "replace").lstrip("\ufeff").encode("utf-8")
        if not head.strip():
            raise FormatError("the file holds no text (UTF-16, blank)")
        if _utf16(head):
            raise FormatError("UTF-16 text whose characters are again UTF-16 bytes")
        return sniff(head)  # (the declared encoding does not change what its root is)
    if data[:2] == b"\x1f\x8b":
        return "gzip"
    if data[:4] == b"PK\x03\x04" or data[:4] == b"PK\x05\x06":
        return "zip"
    if len(data) >= 12 and data[8:12] == b".FIT":
        return "fit"
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if _HRM.match(head):
        raise FormatError(f"this is a Polar HRM file (Polar ProTrainer's), which {_UNREAD_ADVICE}")
    if head[:1] in (b"{", b"["):
        return "json"
    if head[:1] == b"<":
        body = re.sub(rb"<\?.*?\?>|<!--.*?-->", b"", head, flags=re.S).lstrip()
        m = _DOCTYPE.match(body) or _XML_ROOT.match(re.sub(rb"^<!DOCTYPE[^>]*>", b"", body).lstrip())
        root = m.group(1).decode("ascii", "replace").lower() if m else ""
        if root == "trainingcenterdatabase":
            return "tcx"
        if root == "gpx":
            return "gpx"
        if root in _OTHER_XML:
            raise NotAnActivity(f"this is {_OTHER_XML[root]}, not an activity file")
        if root in _UNREAD_XML:
            raise FormatError(f"this is {_UNREAD_XML[root]}, which {_UNREAD_ADVICE}")
        raise FormatError(f"XML with root element <{root or '?'}> is neither TCX nor GPX")
    if _ECG.search(head):
        raise NotAnActivity("this is an ECG recording (an Apple Watch's, from Apple Health's electrocardiograms/), "
                            "not an activity file")
    first_line = head.split(b"\n", 1)[0]
    if (b"," in first_line or b";" in first_line or b"\t" in first_line) and b"\0" not in head:
        # text with separators: the CSV decoder says which layouts it reads, even for Latin-1
        return "csv"
    for magic, at, what in _OTHER_CONTENT:
        if data[at:at + len(magic)] == magic:
            raise NotAnActivity(f"this is {what}, not an activity file")
    raise FormatError("not a FIT, TCX, GPX, CSV, JSON, gzip or zip file")
