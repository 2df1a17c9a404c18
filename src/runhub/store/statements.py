"""Write statements of the ingest path, compiled once per dialect and executed through
`Connection.exec_driver_sql`.

Storing one small activity takes about seven statements, and SQLAlchemy's statement layer
(cache key, execution context, parameter processing) cost ~30 us of each on SQLite even for a
statement built once (~130 us when built per call with `.values(**row)`); this path costs ~15.
It stays inside SQLAlchemy's connection and transaction (events, error wrapping: an
IntegrityError is still `sqlalchemy.exc.IntegrityError`), and the SQL text and each column's
parameter conversion come from SQLAlchemy's own compiler and types, so what is stored is what
`conn.execute(insert(t), row)` would store. One difference on purpose: JSON columns take
JSON text the caller encoded (SQLite stores it as is, PostgreSQL casts it, the SQL says
`::JSON`), which saves encoding every value twice (once to check it is plain, once to bind it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import JSON, Connection, CursorResult, Table, bindparam, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.expression import Executable

_Conv = Callable[[Any], Any] | None


class Prepared:
    """One DML statement with a fixed set of parameter names (`keys`: the columns an INSERT or
    UPDATE sets; bound parameters in WHERE clauses come on top)."""

    def __init__(self, stmt: Executable, keys: Sequence[str] | None = None) -> None:
        self.stmt = stmt
        self.keys = list(keys) if keys is not None else None
        self._compiled: dict[Dialect, tuple[str, bool, list[str], list[_Conv]]] = {}

    def _compile(self, dialect: Dialect) -> tuple[str, bool, list[str], list[_Conv]]:
        c = self.stmt.compile(dialect=dialect, column_keys=self.keys)  # type: ignore[attr-defined]
        conv: dict[str, _Conv] = {}
        for name, bind in c.binds.items():
            typ = bind.type
            if isinstance(typ, JSON) or isinstance(getattr(typ, "impl", None), JSON):
                conv[name] = None  # the caller gives JSON text
            else:
                conv[name] = typ._cached_bind_processor(dialect)
        names = list(c.positiontup) if c.positional else list(conv)
        entry = (c.string, bool(c.positional), names, [conv[n] for n in names])
        self._compiled[dialect] = entry
        return entry

    def execute(self, conn: Connection, row: dict[str, Any]) -> CursorResult[Any]:
        dialect = conn.dialect
        sql, positional, names, convs = self._compiled.get(dialect) or self._compile(dialect)
        values = [row[n] if f is None else f(row[n]) for n, f in zip(names, convs, strict=True)]
        return conn.exec_driver_sql(sql, tuple(values) if positional else dict(zip(names, values, strict=True)))


class InsertRows:
    """A multi-row INSERT of `columns` into `table`: one statement for all of an activity's
    product (or curve) rows. On PostgreSQL psycopg's executemany of 10 product rows took ~600 us,
    one INSERT of 10 rows ~340 us; on SQLite both cost about the same. Statements are compiled
    per dialect and row count (an activity has at most a few dozen products); values the rows
    share (`common`: activity, owner, start, sport) are converted once."""

    MAX_ROWS = 100  # 100 rows of ~8 columns stay far below SQLite's 32,766 parameters

    def __init__(self, table: Table, columns: Sequence[str]) -> None:
        self.table = table
        self.columns = list(columns)
        self._compiled: dict[tuple[Dialect, int], tuple[str, bool, list[tuple[int, str]]]] = {}
        self._convs: dict[Dialect, dict[str, _Conv]] = {}

    def _compile(self, dialect: Dialect, k: int) -> tuple[str, bool, list[tuple[int, str]]]:
        cols = [self.table.c[name] for name in self.columns]
        values = [{c: bindparam(f"r{i}_{c.name}", type_=c.type) for c in cols} for i in range(k)]
        c = insert(self.table).values(values).compile(dialect=dialect)
        names = list(c.positiontup) if c.positional else list(c.binds)
        where = {f"r{i}_{name}": (i, name) for i in range(k) for name in self.columns}
        entry = (c.string, bool(c.positional), [where[n] for n in names])
        if dialect not in self._convs:  # before the entry: another thread may use it at once
            self._convs[dialect] = {col.name: col.type._cached_bind_processor(dialect) for col in cols}
        self._compiled[(dialect, k)] = entry
        return entry

    def execute(self, conn: Connection, rows: list[dict[str, Any]], common: dict[str, Any]) -> None:
        """Insert `rows`, each completed by `common`."""
        dialect = conn.dialect
        for at in range(0, len(rows), self.MAX_ROWS):
            chunk = rows[at : at + self.MAX_ROWS]
            sql, positional, order = self._compiled.get((dialect, len(chunk))) or self._compile(dialect, len(chunk))
            conv = self._convs[dialect]
            fixed = {n: v if conv[n] is None else conv[n](v) for n, v in common.items()}  # type: ignore[misc]
            own = [n for n in self.columns if n not in common]
            converted = [
                {n: row[n] if conv[n] is None else conv[n](row[n]) for n in own} for row in chunk  # type: ignore[misc]
            ]
            values = [fixed[n] if n in fixed else converted[i][n] for i, n in order]
            if positional:
                conn.exec_driver_sql(sql, tuple(values))
            else:
                conn.exec_driver_sql(sql, {f"r{i}_{n}": v for (i, n), v in zip(order, values, strict=True)})
