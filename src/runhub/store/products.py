"""Derived per-activity products (curves, best efforts, histograms) for longitudinal queries:
read through one index on (owner, kind, start) without touching raw streams."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import Connection, select

from runhub.store.filters import in_window
from runhub.store.tables import activities, activity_products


def _decode(encoding: str, data: bytes) -> Any:
    return np.frombuffer(data, dtype="<f8") if encoding == "f8" else json.loads(data)


def load_products(
    conn: Connection,
    owner_id: int,
    kind: str,
    *,
    start_from: datetime | None = None,
    start_to: datetime | None = None,
    sports: Sequence[str] | None = None,
) -> list[tuple[int, datetime, str, Any]]:
    """(activity_id, start_utc, sport, value) of live activities, oldest first."""
    p = activity_products.c
    q = (
        select(p.activity_id, p.start_utc, p.sport, p.encoding, p.data)
        .join(activities, activities.c.id == p.activity_id)
        .where(p.owner_id == owner_id, p.kind == kind, activities.c.deleted_at.is_(None))
    )
    q = in_window(q, p.start_utc, p.sport, start_from=start_from, start_to=start_to, sports=sports)
    q = q.order_by(p.start_utc)
    return [(r.activity_id, r.start_utc, r.sport, _decode(r.encoding, r.data)) for r in conn.execute(q)]


def load_activity_products(conn: Connection, activity_id: int) -> dict[str, Any]:
    p = activity_products.c
    rows = conn.execute(select(p.kind, p.encoding, p.data).where(p.activity_id == activity_id))
    return {r.kind: _decode(r.encoding, r.data) for r in rows}
