"""User rows. Passwords arrive here already hashed (auth.passwords)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from runhub.store.tables import users

# What a new account reports until the user changes it (Smashrun userinfo codes).
DEFAULT_SETTINGS: dict[str, Any] = {
    "unit_distance": "k",  # k | m
    "unit_weight": "k",  # k | p
    "unit_elevation": "m",  # m | f
    "unit_temperature": "c",  # c | f
    "language": "en",
    "hemisphere": "n",
    "resting_heart_rate": None,
    "max_heart_rate": None,
    "ftp": None,
    "sex": None,
    "timezone": "UTC",
}


class UserExists(ValueError):
    """The username is taken."""


def create_user(
    conn: Connection,
    username: str,
    password_hash: str | None,
    *,
    email: str | None = None,
    first_name: str = "",
    last_name: str = "",
    is_admin: bool = False,
    settings: dict[str, Any] | None = None,
) -> int:
    if get_by_username(conn, username) is not None:
        raise UserExists(f"user {username!r} already exists")
    return int(
        conn.execute(
            insert(users)
            .values(
                username=username,
                email=email,
                password_hash=password_hash,
                first_name=first_name,
                last_name=last_name,
                is_admin=is_admin,
                settings=DEFAULT_SETTINGS | (settings or {}),
                created_at=datetime.now(UTC),
            )
            .returning(users.c.id)
        ).scalar_one()
    )


def get_by_username(conn: Connection, username: str) -> Row[Any] | None:
    return conn.execute(select(users).where(users.c.username == username)).first()


def get(conn: Connection, user_id: int) -> Row[Any] | None:
    return conn.execute(select(users).where(users.c.id == user_id)).first()


def settings_of(row: Row[Any]) -> dict[str, Any]:
    return DEFAULT_SETTINGS | dict(row.settings or {})


def update_settings(conn: Connection, user_id: int, changes: dict[str, Any]) -> None:
    row = get(conn, user_id)
    if row is None:
        raise KeyError(user_id)
    conn.execute(update(users).where(users.c.id == user_id).values(settings=settings_of(row) | changes))
