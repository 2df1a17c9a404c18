"""Narrow reads for the longitudinal Smashrun endpoints (stats, goals, notables).

`store.activities.list_rows` selects every column, and decoding the `meta` and `summary` JSON of
3,000 rows costs ~0.5 s on SQLite; stats need five plain columns (~40 ms). This belongs in
store/activities.py (requested in the issue note); it lives here until then. Read-only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, select

from runhub.store.tables import activities


def run_rows(
    conn: Connection,
    owner_id: int,
    *,
    start_from: datetime | None = None,
    start_to: datetime | None = None,
    with_summary: bool = False,
) -> Sequence[Row[Any]]:
    """(id, start_utc, utc_offset, sport, distance, timer_time[, summary]) of live activities, oldest first."""
    c = activities.c
    cols = [c.id, c.start_utc, c.utc_offset, c.sport, c.distance, c.timer_time]
    if with_summary:
        cols.append(c.summary)
    q = select(*cols).where(c.owner_id == owner_id, c.deleted_at.is_(None))
    if start_from is not None:
        q = q.where(c.start_utc >= start_from)
    if start_to is not None:
        q = q.where(c.start_utc < start_to)
    return conn.execute(q.order_by(c.start_utc, c.id)).all()
