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
)

_XML_ROOT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)[\s>/]")
# the DOCTYPE names the root element; Apple Health's export.xml opens with one whose internal
# subset runs past the first 4 KB, so its name is the only root the head shows
_DOCTYPE = re.compile(rb"<!DOCTYPE\s+(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)")
# XML an account export holds beside its activities, by root element
_OTHER_XML = {
    "html": "an HTML page",  # a saved web page (an export's index, say)
    "healthdata": "Apple Health's export.xml (its workouts' routes are the GPX files of its workout-routes/ "
                  "folder, which are imported)",
    "clinicaldocument": "a clinical document (Apple Health's export_cda.xml)",
    "svg": "an SVG image",
}
# the head of an Apple Watch ECG (Apple Health's electrocardiograms/): key,value lines, then voltages
_ECG = re.compile(rb"^Sample Rate,\s*\d+ hertz\s*$", re.I | re.M)


def sniff(data: bytes) -> str:
    if not data:
        raise FormatError("the file is empty")
    if data[:2] == b"\x1f\x8b":
        return "gzip"
    if data[:4] == b"PK\x03\x04" or data[:4] == b"PK\x05\x06":
        return "zip"
    if len(data) >= 12 and data[8:12] == b".FIT":
        return "fit"
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
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
