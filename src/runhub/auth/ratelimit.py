"""Rate limits per token and per client, in the database so every server process shares them.

Announced with Strava's headers (clients.md 0.14): `X-RateLimit-Limit` and
`X-RateLimit-Usage`, each a "<15-minute>,<daily>" pair of integers; over the limit -> 429 with an
integer `Retry-After` (sweatstack calls int() on it).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, delete
from sqlalchemy.dialects import postgresql, sqlite
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from runhub.store.tables import rate_limit_counters

QUARTER = 900
CLIENT_FACTOR = 10  # an app's budget across all its users' tokens, in multiples of one token's


@dataclass(frozen=True)
class Usage:
    limit_short: int
    limit_daily: int
    short: int
    daily: int
    retry_after: int  # seconds until the exhausted window resets (0 when within limits)

    @property
    def exceeded(self) -> bool:
        return self.short > self.limit_short or self.daily > self.limit_daily

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": f"{self.limit_short},{self.limit_daily}",
            "X-RateLimit-Usage": f"{self.short},{self.daily}",
        }


def _increment(conn: Connection, key: str, expires_at: datetime) -> int:
    ins = (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(rate_limit_counters)
    stmt = ins.values(key=key, count=1, expires_at=expires_at)
    stmt = stmt.on_conflict_do_update(
        index_elements=[rate_limit_counters.c.key], set_={"count": rate_limit_counters.c.count + 1}
    ).returning(rate_limit_counters.c.count)
    return int(conn.execute(stmt).scalar_one())


def hit(conn: Connection, subject: str, limit_short: int, limit_daily: int, now: datetime | None = None) -> Usage:
    """Count one request for `subject` (e.g. "token:<id>") and return the usage so far."""
    now = now or datetime.now(UTC)
    epoch = int(now.timestamp())
    quarter_start = epoch - epoch % QUARTER
    day = now.strftime("%Y%m%d")
    midnight = datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)
    short = _increment(conn, f"{subject}:q:{quarter_start}", datetime.fromtimestamp(quarter_start + QUARTER, UTC))
    daily = _increment(conn, f"{subject}:d:{day}", midnight)
    retry = 0
    if daily > limit_daily:
        retry = int((midnight - now).total_seconds()) + 1
    elif short > limit_short:
        retry = quarter_start + QUARTER - epoch
    if random.random() < 0.01:
        conn.execute(delete(rate_limit_counters).where(rate_limit_counters.c.expires_at < now))
    return Usage(limit_short, limit_daily, short, daily, max(retry, 1) if retry else 0)


class RateLimitHeaders:
    """ASGI middleware: copies the usage that `require_scope` recorded in request.state onto the
    response, whatever the endpoint returned (a Response object or a model)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                usage = scope.get("state", {}).get("rate_usage")
                if isinstance(usage, Usage):
                    headers = list(message.get("headers", []))
                    present = {k.lower() for k, _ in headers}
                    for name, value in usage.headers().items():
                        if name.lower().encode() not in present:
                            headers.append((name.lower().encode(), value.encode()))
                    message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
