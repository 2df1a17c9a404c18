"""Distance / text goals per year (month 0) or per month of a year."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, insert, select, update

from runhub.store.tables import goals


def get_goal(conn: Connection, owner_id: int, year: int, month: int = 0) -> Row[Any] | None:
    c = goals.c
    return conn.execute(select(goals).where(c.owner_id == owner_id, c.year == year, c.month == month)).first()


def set_goal(
    conn: Connection,
    owner_id: int,
    year: int,
    month: int,
    text: str | None,
    distance_m: float | None,
    now: datetime | None = None,
) -> None:
    """Insert or replace the goal of a period; a goal with neither text nor distance is removed."""
    c = goals.c
    where = (c.owner_id == owner_id, c.year == year, c.month == month)
    if text is None and distance_m is None:
        conn.execute(delete(goals).where(*where))
        return
    values = {"text": text, "distance": distance_m, "updated_at": now or datetime.now(UTC)}
    if conn.execute(update(goals).where(*where).values(**values)).rowcount == 0:
        conn.execute(insert(goals).values(owner_id=owner_id, year=year, month=month, **values))
