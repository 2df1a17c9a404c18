"""Shared fixtures: a migrated database (SQLite, or PostgreSQL when RUNHUB_TEST_DATABASE_URL is
set, in a schema of its own so runs never collide) and a real uvicorn server on loopback."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, text

from runhub.config import Settings
from runhub.store import Database

# CI runs the same examples every time (a flaky red build helps nobody); locally hypothesis
# explores new ones on every run.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")

CORPUS = Path(os.environ.get("RUNHUB_CORPUS", Path(__file__).resolve().parents[2] / "shared" / "corpus"))


def pg_url() -> str | None:
    return os.environ.get("RUNHUB_TEST_DATABASE_URL") or None


@contextmanager
def empty_database(sqlite_file: Path, prefix: str) -> Iterator[str]:
    """The URL of an empty database: `sqlite_file`, or, when the suite runs on PostgreSQL, a schema of
    its own there (named `prefix`_..., dropped afterwards)."""
    url = pg_url()
    if url is None:
        yield f"sqlite:///{sqlite_file}"
        return
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in url else "?"
    try:
        yield f"{url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with empty_database(tmp_path_factory.mktemp("db") / "runhub.sqlite3", "runhub_test") as url:
        yield url


@pytest.fixture(scope="session")
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    database.upgrade()
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path_factory.mktemp("data"),
        database_url=database_url,
        secret_key="test-secret-key-not-for-production-0123456789",
        test_approval=True,
    )


# a guard against a hung CLI process, not a speed check: on a machine whose CPU was mostly stolen
# (stop 13: 17-28 % steal) one CLI run, numba's and the imports' start-up included, took over 120 s
CLI_TIMEOUT = 900


def make_user(db: Database, prefix: str = "user", password: str = "correct horse battery") -> tuple[int, str]:
    """A fresh user with a unique name (tests share one database and isolate by owner)."""
    from runhub.auth.passwords import hash_password
    from runhub.store import users

    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    with db.begin() as conn:
        uid = users.create_user(conn, name, hash_password(password))
    return uid, name


@pytest.fixture
def user(db: Database) -> tuple[int, str]:
    return make_user(db)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RunningServer:
    url: str
    db: Database
    settings: Settings


@pytest.fixture(scope="session")
def server(settings: Settings, db: Database) -> Iterator[RunningServer]:
    """The real app under uvicorn in a thread, on a free loopback port."""
    from runhub.api.app import create_app

    port = free_port()
    config = uvicorn.Config(create_app(settings, db), host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    yield RunningServer(f"http://127.0.0.1:{port}", db, settings)
    srv.should_exit = True
    thread.join(timeout=10)
