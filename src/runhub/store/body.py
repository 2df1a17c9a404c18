"""Body weight recordings: one row per measurement, kept as the athlete dated it (local date)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Row, insert, select

from runhub.store.tables import body_weights


def add_weight(conn: Connection, owner_id: int, date: str, weight_kg: float, now: datetime | None = None) -> int:
    """Store one measurement; several on one date are all kept (the latest created wins for 'latest')."""
    return int(
        conn.execute(
            insert(body_weights)
            .values(owner_id=owner_id, date=date, weight_kg=weight_kg, created_at=now or datetime.now(UTC))
            .returning(body_weights.c.id)
        ).scalar_one()
    )


def list_weights(conn: Connection, owner_id: int) -> Sequence[Row[Any]]:
    """Every measurement, oldest date first."""
    c = body_weights.c
    return conn.execute(
        select(c.id, c.date, c.weight_kg, c.created_at).where(c.owner_id == owner_id).order_by(c.date, c.id)
    ).all()


def latest_weight(conn: Connection, owner_id: int) -> Row[Any] | None:
    """The measurement with the latest date (ties: the one stored last)."""
    c = body_weights.c
    return conn.execute(
        select(c.id, c.date, c.weight_kg, c.created_at)
        .where(c.owner_id == owner_id)
        .order_by(c.date.desc(), c.id.desc())
        .limit(1)
    ).first()
