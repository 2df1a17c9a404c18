"""The database: one engine per process, Alembic migrations, and repository functions
(activities.py, users.py, products.py) that take a SQLAlchemy connection."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event

MIGRATIONS = Path(__file__).with_name("migrations")


# Pages the WAL may hold before a commit checkpoints it into the database (SQLite's default is
# 1,000, 4 MB). In WAL mode with synchronous=NORMAL a commit only appends its pages to the WAL;
# the checkpoint is where the cost is: it copies the latest version of every page written since
# the last one into the database file and fsyncs both. With 1,000 pages about half of all
# commit time on the corpus went to checkpoints (~5 MB of activities, blobs and originals per
# pass: one to two checkpoints of ~10-25 ms). With 4,000 a page rewritten by many small commits
# (index and interior pages, the user's row) is copied once instead of up to four times, with a
# quarter of the fsyncs: ~-45 ms per pass of bench/store.py (mean of 24, interleaved, ~260 ->
# ~220 ms); 8,000 measured no better. The price: the WAL file grows to ~16 MB, and one commit in
# every ~16 MB written waits for a longer checkpoint.
WAL_AUTOCHECKPOINT_PAGES = 4000


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
    cur.execute("PRAGMA busy_timeout=30000")
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
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    def upgrade(self, revision: str = "head") -> None:
        """Bring the schema to `revision` with Alembic (the same migrations on every database)."""
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)

    def dispose(self) -> None:
        self.engine.dispose()
