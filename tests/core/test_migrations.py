"""The schema's revision: a database at the newest migration is left alone without Alembic, one
behind it is migrated, a new one is created."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from runhub.store import HEAD_REVISION, MIGRATIONS, Database
from tests.conftest import empty_database


@pytest.fixture
def new_database(tmp_path: Path) -> Iterator[str]:
    """An empty database of its own for each test (conftest.empty_database)."""
    with empty_database(tmp_path / "new.sqlite3", "runhub_mig") as url:
        yield url


def test_head_revision_is_alembics_head() -> None:
    """The constant the start-up check compares with is the head of the migrations as Alembic reads them."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(cfg).get_heads() == [HEAD_REVISION]


def test_an_older_schema_is_migrated_and_a_new_database_created(new_database: str) -> None:
    db = Database(new_database)
    assert db.revision() is None
    db.upgrade("0002")
    assert db.revision() == "0002"
    assert "activity_curves" not in inspect(db.engine).get_table_names()  # made by 0003
    db.upgrade()
    assert db.revision() == HEAD_REVISION
    assert "activity_curves" in inspect(db.engine).get_table_names()
    db.dispose()


def test_a_database_at_the_head_is_opened_without_alembic(new_database: str) -> None:
    """Every `runhub` command opens the database with upgrade(): where the schema is current it
    neither imports Alembic nor changes anything."""
    url = new_database
    db = Database(url)
    db.upgrade()
    db.dispose()
    code = (f"import sys; from runhub.store import Database; db = Database({url!r}); db.upgrade(); "
            "print(db.revision(), 'alembic' in sys.modules); db.dispose()")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == [HEAD_REVISION, "False"]
