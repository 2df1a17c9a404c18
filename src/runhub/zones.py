"""IANA time zones by the names files, forms and settings give: a name that names no zone is
None, whatever it is. zoneinfo raises ZoneInfoNotFoundError for an unknown key and ValueError for
a path, but IsADirectoryError for a folder of the database ("Europe") and OSError for a name the
file system refuses (300 characters): every caller caught the first two only."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def zone(name: str | None) -> ZoneInfo | None:
    """The zone `name` names, or None."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None
