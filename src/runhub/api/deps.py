"""Request-scoped helpers shared by the dialect modules."""

from __future__ import annotations

from fastapi import Request

from runhub.config import Settings
from runhub.store import Database


def get_db(request: Request) -> Database:
    return request.app.state.db


def get_settings(request: Request) -> Settings:
    return request.app.state.settings
