"""Recording each outbox row's outcome right after the SMTP server's reply.

Each mark is its own transaction, on a connection of its own, so a worker that dies
mid-batch keeps every mark it made. The marks are the hottest statement in a digest
run (one per message), so on PostgreSQL they go out in libpq's pipeline mode: each
UPDATE is followed by a Sync, which makes it a transaction of its own, and is flushed
to the server before the next message is sent, but the worker does not wait for the
reply. Each kind of UPDATE is prepared once per writer (a delivery run), so the server
parses and plans it once, not once per message. Replies are read as they arrive; a
failed mark is logged and leaves its row "sending", which the stale-claim sweep puts back (the message may then be sent once
more, with the same Message-ID). Commits do not wait for the WAL flush either
(synchronous_commit off, for this connection only): only a crash of PostgreSQL itself
within a fraction of a second could lose a mark.
"""

from __future__ import annotations

import itertools
import logging
import select
from datetime import UTC, datetime, timedelta

from flask import current_app
from psycopg import pq

from petitions.database import utcnow
from petitions.extensions import db
from petitions.mail.models import OutboxState
from petitions.mail.smtp import PermanentFailure

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
# Numbers the prepared marks' names in this process, so that no name is used twice.
_statement_numbers = itertools.count(1)


def retry_delay(attempts: int) -> timedelta:
    """The wait after a row's nth failed attempt: OUTBOX_RETRY_SECONDS, doubled after each
    attempt, at most OUTBOX_RETRY_MAX_SECONDS (30 s, 1 min, 2 min ... 2 h by default:
    about a day of retries in all)."""
    config = current_app.config
    seconds = config.get("OUTBOX_RETRY_SECONDS", 30) * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, config.get("OUTBOX_RETRY_MAX_SECONDS", 7200)))


class PipelinedStatements:
    """Autocommit statements sent through libpq's pipeline without waiting for replies.

    Each distinct statement is prepared on first use and deallocated by close(). Only for
    this object's lifetime: psycopg sends DEALLOCATE ALL after a rollback on a connection
    where it prepared statements of its own, as the pool's reset of a returned connection
    may be, so a statement prepared for an earlier writer may be gone.
    """

    # How long close() waits for the last replies before giving up on them.
    DRAIN_TIMEOUT = 10.0

    def __init__(self, driver_connection) -> None:
        self.pgconn = driver_connection.pgconn
        self.pgconn.enter_pipeline_mode()
        self.prepared: dict[bytes, bytes] = {}  # statement -> its name in this session
        self.outstanding = 0  # statements whose Sync reply has not been read yet
        self.failures = 0

    def send(self, statement: bytes, parameters: list[bytes | None]) -> None:
        name = self.prepared.get(statement)
        if name is None:
            # Unique in the session: psycopg's own names start with "_pg3_".
            name = self.prepared[statement] = f"outbox_mark_{next(_statement_numbers)}".encode()
            # In the same Sync as its first use: if preparing failed, so would that use.
            self.pgconn.send_prepare(name, statement)
        self.pgconn.send_query_prepared(name, parameters)
        self.pgconn.pipeline_sync()
        self.outstanding += 1
        self._flush()
        self._read(wait=False)

    def _flush(self) -> None:
        while self.pgconn.flush():  # 1: the socket is full, wait until it can take more
            select.select([self.pgconn.socket], [self.pgconn.socket], [], 1.0)
            self.pgconn.consume_input()

    def _read(self, *, wait: bool, timeout: float = DRAIN_TIMEOUT) -> None:
        self.pgconn.consume_input()
        while self.outstanding:
            if self.pgconn.is_busy():
                if not wait:
                    return
                ready, _, _ = select.select([self.pgconn.socket], [], [], timeout)
                if not ready:
                    log.warning("%d outbox marks unacknowledged at close", self.outstanding)
                    return
                self.pgconn.consume_input()
                continue
            result = self.pgconn.get_result()
            if result is None:
                continue  # the end of one statement's results
            if result.status == pq.ExecStatus.PIPELINE_SYNC:
                self.outstanding -= 1
            elif result.status not in (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK):
                self.failures += 1
                message = (result.error_message or b"").decode(errors="replace").strip()
                log.error("an outbox mark failed (the row stays 'sending'): %s", message)

    def close(self) -> None:
        try:
            names, self.prepared = list(self.prepared.values()), {}
            for name in names:
                self.pgconn.send_query_params(b"DEALLOCATE " + name, None)
                self.pgconn.pipeline_sync()
                self.outstanding += 1
            self._flush()
            self._read(wait=True)
        finally:
            if self.pgconn.pipeline_status:
                self.pgconn.exit_pipeline_mode()


class OutcomeWriter:
    """Marks rows sent, failed, retried or cancelled, one transaction per row."""

    def __init__(self) -> None:
        self.postgres = db.engine.dialect.name == "postgresql"
        self.connection = db.engine.connect()
        self.pipeline = None
        if self.postgres:
            self.connection = self.connection.execution_options(isolation_level="AUTOCOMMIT")
            self.connection.exec_driver_sql("SET synchronous_commit TO OFF")
            self.pipeline = PipelinedStatements(self.connection.connection.driver_connection)
        self.driver = self.connection.connection.driver_connection

    def mark(self, row_id: int, **values) -> None:
        values = {"claimed_at": None, **values}
        columns = sorted(values)
        # Straight to the driver: this runs once per message, and SQLAlchemy's statement
        # pipeline would cost more than the database does.
        if self.pipeline is not None:
            assignments = ", ".join(f"{column} = ${n}" for n, column in enumerate(columns, 1))
            statement = f"UPDATE outbox SET {assignments} WHERE id = ${len(columns) + 1}"
            parameters = [_as_text(values[column]) for column in columns] + [_as_text(row_id)]
            self.pipeline.send(statement.encode(), parameters)
            return
        assignments = ", ".join(f"{column} = ?" for column in columns)
        parameters = [_for_sqlite(values[column]) for column in columns] + [row_id]
        self.driver.execute(f"UPDATE outbox SET {assignments} WHERE id = ?", parameters)
        self.driver.commit()

    def record(self, row, error: Exception | None) -> str:
        """Mark a sent or failed row; returns its new state."""
        if error is None:
            self.mark(row.id, state=OutboxState.SENT, sent_at=utcnow(), last_error=None)
            return OutboxState.SENT
        attempts, detail = row.attempts + 1, str(error)[:2000]
        if isinstance(error, PermanentFailure) or attempts >= MAX_ATTEMPTS:
            self.mark(row.id, state=OutboxState.FAILED, attempts=attempts, last_error=detail)
            return OutboxState.FAILED
        self.mark(row.id, state=OutboxState.PENDING, attempts=attempts, last_error=detail,
                  next_attempt_at=utcnow() + retry_delay(attempts))
        return OutboxState.PENDING

    def cancel(self, row, reason: str) -> None:
        self.mark(row.id, state=OutboxState.FAILED, last_error=f"not sent: {reason}")

    def close(self) -> None:
        try:
            if self.pipeline is not None:
                self.pipeline.close()
                self.connection.exec_driver_sql("RESET synchronous_commit")
        finally:
            self.connection.close()


def _as_text(value) -> bytes | None:
    """PostgreSQL's text input format for each kind of value a mark sets."""
    if value is None:
        return None
    if isinstance(value, OutboxState):
        return value.value.encode()
    if isinstance(value, datetime):
        return value.isoformat().encode()
    return str(value).encode()


def _for_sqlite(value):
    if isinstance(value, OutboxState):
        return value.value
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")  # as SQLAlchemy stores it
    return value
