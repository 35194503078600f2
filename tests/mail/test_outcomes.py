"""The outcome marks: one transaction each, kept even when a neighbour fails."""

from __future__ import annotations

import logging
from types import SimpleNamespace

from sqlalchemy import select

from petitions.database import utcnow
from petitions.extensions import db
from petitions.mail.models import OutboxMessage, OutboxState
from petitions.mail.outcomes import OutcomeWriter
from petitions.mail.smtp import PermanentFailure, TemporaryFailure


def states(rows) -> dict[str, tuple[str, int]]:
    db.session.expire_all()
    found = db.session.execute(
        select(OutboxMessage.to_address, OutboxMessage.state, OutboxMessage.attempts)
        .where(OutboxMessage.id.in_([r.id for r in rows]))
    )
    return {address: (state, attempts) for address, state, attempts in found}


def claimed(add_outbox, *addresses):
    """Claimed rows as the delivery loop holds them: plain values, with the session's
    transaction closed (on SQLite an open one would hold the write lock)."""
    rows = add_outbox(*addresses, state=OutboxState.SENDING, claimed_at=utcnow())
    plain = [SimpleNamespace(id=r.id, attempts=r.attempts) for r in rows]
    db.session.commit()
    return plain


def test_each_outcome_is_written_and_the_claim_cleared(app, add_outbox):
    sent, retried, failed, cancelled = claimed(
        add_outbox,
        "sent@example.org", "retry@example.org", "failed@example.org", "cancel@example.org")
    writer = OutcomeWriter()
    try:
        assert writer.record(sent, None) == OutboxState.SENT
        assert writer.record(retried, TemporaryFailure("451 later")) == OutboxState.PENDING
        assert writer.record(failed, PermanentFailure("550 no such user")) == OutboxState.FAILED
        writer.cancel(cancelled, "address suppressed")
    finally:
        writer.close()

    assert states([sent, retried, failed, cancelled]) == {
        "sent@example.org": ("sent", 0),
        "retry@example.org": ("pending", 1),
        "failed@example.org": ("failed", 1),
        "cancel@example.org": ("failed", 0),
    }
    rows = {r.to_address: r for r in db.session.scalars(select(OutboxMessage))}
    assert all(r.claimed_at is None for r in rows.values())
    assert rows["sent@example.org"].sent_at is not None
    assert rows["retry@example.org"].next_attempt_at > utcnow()
    assert rows["cancel@example.org"].last_error == "not sent: address suppressed"


def test_marks_are_committed_before_the_writer_closes(app, add_outbox):
    """A worker killed mid-batch must leave its earlier marks behind: each one commits on
    its own, without waiting for the end of the batch."""
    first, second = claimed(add_outbox, "one@example.org", "two@example.org")
    writer = OutcomeWriter()
    try:
        writer.record(first, None)
        if writer.pipeline is not None:
            writer.pipeline._read(wait=True)  # the reply, not the end of the batch
        assert states([first]) == {"one@example.org": ("sent", 0)}
        db.session.commit()
        writer.record(second, None)
    finally:
        writer.close()
    assert states([second]) == {"two@example.org": ("sent", 0)}


def test_a_failed_mark_is_logged_and_does_not_undo_its_neighbours(app, add_outbox, caplog):
    before, broken, after = claimed(add_outbox, "a@example.org", "b@example.org",
                                    "c@example.org")
    writer = OutcomeWriter()
    caplog.set_level(logging.ERROR, logger="petitions.mail.outcomes")
    try:
        writer.record(before, None)
        if writer.pipeline is None:
            return  # SQLite raises at once; the pipeline's deferred errors are what we test
        writer.mark(broken.id, attempts="not a number")
        writer.record(after, None)
    finally:
        writer.close()

    assert writer.pipeline.failures == 1
    assert "an outbox mark failed" in caplog.text
    assert states([before, broken, after]) == {
        "a@example.org": ("sent", 0),
        "b@example.org": ("sending", 0),  # left for the stale-claim sweep
        "c@example.org": ("sent", 0),
    }


def test_each_kind_of_mark_is_prepared_once_and_deallocated_at_close(app, add_outbox):
    """Parsed once per writer, not per message; and nothing left in the pooled session."""
    first, second, third = claimed(add_outbox, "p1@example.org", "p2@example.org",
                                   "p3@example.org")
    writer = OutcomeWriter()
    try:
        writer.record(first, None)
        writer.record(second, None)
        writer.cancel(third, "test")
        if writer.pipeline is not None:
            assert len(writer.pipeline.prepared) == 2  # "sent" and "cancelled"
            writer.pipeline.close()
            left = writer.connection.exec_driver_sql(
                "SELECT count(*) FROM pg_prepared_statements"
                " WHERE starts_with(name, 'outbox_mark_')").scalar()
            assert left == 0
    finally:
        writer.close()

    assert writer.pipeline is None or writer.pipeline.failures == 0
    assert states([first, second, third]) == {
        "p1@example.org": ("sent", 0), "p2@example.org": ("sent", 0),
        "p3@example.org": ("failed", 0)}
