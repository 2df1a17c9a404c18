"""The date-range and sport filters every listing query shares, so "cycling" means the same
(itself and its `cycling.*` children) for activity lists, products and curves."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, or_


def in_window(
    q: Select[Any],
    start: Any,
    sport: Any,
    *,
    start_from: datetime | None = None,
    start_to: datetime | None = None,
    sports: Sequence[str] | None = None,
) -> Select[Any]:
    """Restrict `q` to start_from <= start < start_to and to the given sports and their children."""
    if start_from is not None:
        q = q.where(start >= start_from)
    if start_to is not None:
        q = q.where(start < start_to)
    if sports:
        q = q.where(or_(*[sport == s for s in sports], *[sport.like(f"{s}.%") for s in sports]))
    return q
