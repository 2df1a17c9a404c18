"""SQLite's WAL checkpoint runs on a thread of its own, never inside a writer's COMMIT
(store/checkpoint.py). SQLite only: PostgreSQL has no WAL file of ours to look at."""

import os
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from runhub.store import Database
from runhub.store.checkpoint import WAL_BYTES


def _write(db: Database, mb: int) -> None:
    with db.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS t (b BLOB)"))
    for _ in range(mb):
        with db.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (:b)"), {"b": os.urandom(1 << 20)})


def test_writers_do_not_checkpoint_and_the_thread_does(tmp_path: Path) -> None:
    path = tmp_path / "w.sqlite3"
    db = Database(f"sqlite:///{path}")
    try:
        with db.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        _write(db, 6)
        db._checkpointer.join()
        # the pool keeps a connection open, so no close-time checkpoint has run: whatever reached
        # the database file, the checkpointer copied there (6 MiB written, one checkpoint past 4 MB)
        assert path.stat().st_size >= WAL_BYTES
    finally:
        db.dispose()
    with sqlite3.connect(path) as check:
        assert check.execute("SELECT count(*) FROM t").fetchone() == (6,)


def test_without_the_thread_the_data_stays_in_the_wal(tmp_path: Path) -> None:
    """The control for the test above: the same writes with the checkpointer switched off leave
    the database file at its first pages, so the size above is the thread's doing."""
    path = tmp_path / "w.sqlite3"
    db = Database(f"sqlite:///{path}")
    db._checkpointer = None
    try:
        _write(db, 6)
        assert path.stat().st_size < 1 << 20
        assert Path(f"{path}-wal").stat().st_size >= 6 << 20
    finally:
        db.dispose()


def test_a_removed_database_is_not_made_again(tmp_path: Path) -> None:
    """The thread may start after the database is gone (a test's temporary folder, a user's
    rm): it opens read-write without create, fails, and leaves no empty file behind."""
    path = tmp_path / "gone.sqlite3"
    db = Database(f"sqlite:///{path}")
    _write(db, 1)
    db.dispose()
    for p in tmp_path.iterdir():
        p.unlink()
    with pytest.raises(sqlite3.OperationalError):
        db._checkpointer.checkpoint()
    assert not path.exists()
