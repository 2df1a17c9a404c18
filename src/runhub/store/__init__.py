"""The database: one engine per process, Alembic migrations, and repository functions
(activities.py, users.py, products.py) that take a SQLAlchemy connection."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DBAPIError

from runhub.store.checkpoint import Checkpointer

MIGRATIONS = Path(__file__).with_name("migrations")
# The newest migration's revision (tests/core/test_migrations.py checks it against Alembic's head):
# a database already there is not handed to Alembic, whose import alone took ~0.25 s of every
# `runhub` command's start (about a tenth of importing one file with the CLI).
HEAD_REVISION = "0005"


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA wal_autocheckpoint=0")  # a Checkpointer's thread does it (checkpoint.py)
    cur.close()


class Database:
    """An engine plus the unit of work: `with db.begin() as conn:` is one transaction."""

    def __init__(self, url: str, **engine_options: object) -> None:
        self.url = url
        if url.startswith("sqlite"):
            path = url.split("///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.engine: Engine = create_engine(url, **engine_options)  # type: ignore[arg-type]
        self._checkpointer: Checkpointer | None = None
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
            database = self.engine.url.database
            if database and database != ":memory:":
                self._checkpointer = Checkpointer(database)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn
        if self._checkpointer is not None:
            self._checkpointer.after_write()

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    def upgrade(self, revision: str = "head") -> None:
        """Bring the schema to `revision` with Alembic (the same migrations on every database)."""
        if revision == "head" and self.revision() == HEAD_REVISION:
            return
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)

    def revision(self) -> str | None:
        """The schema's Alembic revision; None for a database Alembic has not set up."""
        with self.engine.connect() as conn:
            try:
                rows = conn.exec_driver_sql("SELECT version_num FROM alembic_version").all()
            except DBAPIError:  # no such table: a new database
                return None
        return rows[0][0] if len(rows) == 1 else None

    def dispose(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.join()
        self.engine.dispose()
