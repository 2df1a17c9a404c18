"""Decoders and encoders, one module per format, all pure: bytes -> Activity -> bytes.

A format is chosen by sniffing the content, never by file name. Each decoder returns a list,
because one file may hold several activities (a multisport FIT has one per session).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from runhub.activity import Activity


class FormatError(ValueError):
    """Bytes that are not a valid activity file; says where (file, record or line, field)."""

    def __init__(
        self,
        message: str,
        *,
        format: str | None = None,
        file: str | None = None,
        location: str | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.format = format
        self.file = file
        self.location = location
        self.field = field
        parts = [p for p in (file, location, field) if p]
        super().__init__(f"{': '.join(parts)}: {message}" if parts else message)

    def to_dict(self) -> dict[str, Any]:
        return {
            "message": self.message,
            "format": self.format,
            "file": self.file,
            "location": self.location,
            "field": self.field,
        }


class NotAnActivity(FormatError):
    """Content that is plainly something else (a photo, a document, an account's list of its
    activities), not a broken activity file: an import of a folder passes it by (status
    "skipped"), an upload is refused as any FormatError is."""

    def to_dict(self) -> dict[str, Any]:
        return super().to_dict() | {"not_an_activity": True}


# What a decoder puts in `Activity.extras["written_by"]` when the file says runhub wrote it (FIT:
# a developer_data_id whose application_id is FIT_APPLICATION_ID; TCX: an <Author> named WRITER;
# GPX: gpx.EXPORT_DESC as the metadata's description; CSV and Smashrun JSON have no such place):
# ingest then knows the file for an export of a run, not a recording (a restore into an account
# that has the run adds nothing).
WRITER = "runhub"
# ... and in `Activity.extras[EXPORT_OF]` the id of the activity the file is the export of, which
# runhub writes beside (FIT: a session developer field, fit_encode.EXPORT_FIELD; TCX: an element of
# its own in the Activity's Extensions; GPX: in that description; Smashrun JSON: its activityId,
# which the decoder reads into `Activity.id`). Two recordings of one run (the watch's FIT, Strava's
# GPX) are two activities, and their exports two files: ingest tells them apart by it.
EXPORT_OF = "export_of"
FIT_APPLICATION_ID = b"runhub export   "  # 16 bytes, as FIT's application_id

Decoder = Callable[..., list[Activity]]
Encoder = Callable[[Activity], bytes]

# name -> (decoder, encoder); filled by each format module's import below.
DECODERS: dict[str, Decoder] = {}
ENCODERS: dict[str, Encoder] = {}
MEDIA_TYPES: dict[str, str] = {}


def register(name: str, decoder: Decoder | None, encoder: Encoder | None, media_type: str) -> None:
    if decoder is not None:
        DECODERS[name] = decoder
    if encoder is not None:
        ENCODERS[name] = encoder
    MEDIA_TYPES[name] = media_type


def sniff(data: bytes) -> str:
    """The format of `data` by its content: fit, tcx, gpx, csv, json, gzip or zip."""
    from runhub.formats.sniffing import sniff as _sniff

    return _sniff(data)


def decode(data: bytes, fmt: str | None = None, **options: Any) -> list[Activity]:
    from runhub.formats.sniffing import as_utf8

    fmt = fmt or sniff(data)
    decoder = DECODERS.get(fmt)
    if decoder is None:
        raise FormatError(f"cannot read {fmt} files", format=fmt)
    return decoder(as_utf8(data) if fmt in ("tcx", "gpx", "csv", "json") else data, **options)


def encode(activity: Activity, fmt: str) -> bytes:
    encoder = ENCODERS.get(fmt)
    if encoder is None:
        raise FormatError(f"cannot write {fmt}; runhub writes {', '.join(sorted(ENCODERS))}", format=fmt)
    return encoder(activity)


def _load() -> None:
    # Import for their register() side effect; a module missing here is a format not built yet.
    import importlib

    for name in ("smashrun_json", "fit", "tcx", "gpx", "csv", "parquet"):
        try:
            importlib.import_module(f"runhub.formats.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"runhub.formats.{name}":
                raise


_load()
