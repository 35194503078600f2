"""Column types and engine tuning shared by every domain."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from sqlalchemy import DateTime, event, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite stores no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use petitions.database.utcnow()")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def insert_ignoring_duplicates(table, engine: Engine, **conflict):
    """INSERT ... ON CONFLICT DO NOTHING on PostgreSQL and SQLite alike; add RETURNING to
    learn which rows were new."""
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing(**conflict)


def tune_sqlite(engine: Engine) -> None:
    """Web, worker and beat share one SQLite file in development.

    WAL lets readers overlap a writer. Each transaction starts with BEGIN IMMEDIATE so that
    writers queue on the busy timeout; a deferred transaction that reads first and writes
    later would otherwise fail at once with "database is locked" when another process
    committed in between.
    """
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def keyset_pages(query, columns: tuple, page_rows: int, execute) -> Iterator[list]:
    """`query` in pages of `page_rows` rows ordered by `columns` (unique together), each
    page read by `execute(statement)` after the last row of the one before: no OFFSET,
    so every page costs the same however deep it is."""
    query = query.order_by(*columns).limit(page_rows)
    after = None
    while True:
        page = query if after is None else query.where(tuple_(*columns) > after)
        rows = execute(page)
        if rows:
            yield rows
        if len(rows) < page_rows:
            return
        after = tuple(getattr(rows[-1], column.key) for column in columns)
