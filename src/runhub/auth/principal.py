"""Who is calling: the user, the app and the canonical scopes of the presented credential.

Every endpoint declares the canonical scope it needs with `Depends(require_scope("activity:read"))`.
Until the OAuth server exists the server listens on loopback only and the caller is the
machine's owner: a principal with every scope and no user restriction (user_id None).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request


@dataclass(frozen=True)
class Principal:
    user_id: int | None  # None: loopback pre-auth mode, every user's data
    client_id: str | None
    scopes: frozenset[str]
    token_id: str | None = None


def get_principal(request: Request) -> Principal:
    return Principal(user_id=None, client_id=None, scopes=frozenset({"*"}))


def require_scope(scope: str) -> Callable[[Request], Principal]:
    def dependency(request: Request) -> Principal:
        return get_principal(request)

    dependency.__name__ = f"require_{scope.replace(':', '_')}"
    return dependency
