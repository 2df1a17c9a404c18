"""Helpers other test suites can import: mint a token for a user in one call, register apps,
run the non-interactive approval (RUNHUB_TEST_APPROVAL) of the authorize endpoint."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs, urlsplit

import requests

from runhub.auth.tokens import mint_personal_token
from runhub.store import Database
from runhub.store import oauth as repo

PASSWORD = "correct horse battery"

__all__ = ["PASSWORD", "approve", "code_from", "make_client", "mint_personal_token", "mint_token"]


def mint_token(db: Database, user_id: int, scopes: str | list[str] = "activity:read") -> str:
    """A bearer token for `user_id` with `scopes` (canonical or any dialect's names)."""
    return mint_personal_token(db, user_id, scopes)


def make_client(
    db: Database,
    redirect_uris: list[str],
    *,
    public: bool = False,
    client_id: str | None = None,
    dialect: str = "generic",
    refresh_without_secret: bool = False,
) -> tuple[str, str | None]:
    """Register an app with a unique id; returns (client_id, secret)."""
    with db.begin() as conn:
        return repo.create_client(
            conn,
            f"Test app {uuid.uuid4().hex[:6]}",
            redirect_uris,
            is_public=public,
            client_id=client_id or uuid.uuid4().hex[:16],
            dialect=dialect,
            refresh_without_secret=refresh_without_secret,
        )


def approve(url: str, username: str, password: str = PASSWORD, **kwargs: object) -> requests.Response:
    """GET an authorize URL as `username` under RUNHUB_TEST_APPROVAL; returns the redirect."""
    return requests.get(url, auth=(username, password), allow_redirects=False, timeout=30, **kwargs)  # type: ignore[arg-type]


def code_from(response: requests.Response) -> str:
    assert response.status_code == 302, (response.status_code, response.text[:500])
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert "code" in query, response.headers["location"]
    return query["code"][0]
