"""Batches and housekeeping: one SMTP connection per batch, concurrent workers, stale claims
released by the sweep, and the purge of old sent mail."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, text, update

from petitions.config import parse_smtp_url
from petitions.database import utcnow
from petitions.extensions import db
from petitions.mail import delivery
from petitions.mail.models import OutboxMessage
from petitions.mail.tasks import purge_sent_outbox, sweep_outbox
from tests.support.concurrency import run_concurrently
from tests.support.processes import free_port

MINUTE = timedelta(minutes=1)


class RecordingHandler:
    """Accepts every message and notes which connection (client address) carried it."""

    def __init__(self) -> None:
        self.ehlos = 0
        self.peers: list[tuple[str, int]] = []
        self.hang_up_after_each_message = False
        self.refuse_sender: str | None = None  # a reply to MAIL FROM, e.g. "530 ..."

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.ehlos += 1
        session.host_name = hostname
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.refuse_sender:
            return self.refuse_sender
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.peers.append(session.peer)
        if self.hang_up_after_each_message:
            # Close after the "250" below is written, like a server with a short idle limit.
            asyncio.get_running_loop().call_soon(server.transport.close)
        return "250 Message accepted"


@pytest.fixture
def recording_smtp(app):
    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    app.config["SMTP"] = parse_smtp_url(f"smtp://127.0.0.1:{controller.port}")
    yield handler
    controller.stop()


def run_task(app, task, *args):
    """Run a Celery task body the way a worker of this app would (in the app's context)."""
    return app.extensions["celery"].tasks[task.name](*args)


def states(rows: list[OutboxMessage]) -> list[str]:
    db.session.expire_all()
    return [db.session.get(OutboxMessage, r.id).state for r in rows]


def test_one_smtp_connection_carries_a_whole_batch(recording_smtp, add_outbox):
    add_outbox(*(f"reader{i}@example.org" for i in range(5)))

    assert delivery.deliver_due()["sent"] == 5

    assert len(recording_smtp.peers) == 5
    assert len(set(recording_smtp.peers)) == 1
    assert recording_smtp.ehlos == 1


def test_server_hanging_up_between_messages_costs_a_reconnect_not_a_message(
    recording_smtp, add_outbox
):
    recording_smtp.hang_up_after_each_message = True
    rows = add_outbox("a@example.org", "b@example.org", "c@example.org")

    assert delivery.deliver_due() == {"sent": 3, "retry": 0, "failed": 0, "cancelled": 0}

    assert len(recording_smtp.peers) == 3
    assert len(set(recording_smtp.peers)) == 3  # a fresh connection for each message
    assert states(rows) == ["sent"] * 3


def test_server_refusing_our_sender_keeps_every_row_for_a_retry_instead_of_failing_them(
    recording_smtp, add_outbox
):
    # A refused sender (bad credentials, unverified domain) is the server's or our
    # configuration's problem, not the recipient's: no message may be given up for it.
    recording_smtp.refuse_sender = "530 5.7.0 Authentication required"
    rows = add_outbox("a@example.org", "b@example.org", "c@example.org")

    assert delivery.deliver_due()["failed"] == 0
    assert states(rows) == ["pending"] * 3
    first = db.session.get(OutboxMessage, rows[0].id)
    assert "530 5.7.0 Authentication required" in first.last_error

    recording_smtp.refuse_sender = None
    db.session.execute(update(OutboxMessage).values(next_attempt_at=utcnow()))
    db.session.commit()
    assert delivery.deliver_due() == {"sent": 3, "retry": 0, "failed": 0, "cancelled": 0}
    assert len(recording_smtp.peers) == 3


def test_threads_delivering_at_once_send_each_of_60_messages_exactly_once(
    app, mail, add_outbox
):
    rows = add_outbox(*(f"reader{i}@example.org" for i in range(60)))

    def worker() -> dict:
        with app.app_context():
            return delivery.deliver_due()

    results = run_concurrently(worker, [()] * 6)
    assert sum(r["sent"] for r in results) == 60
    assert sum(r["retry"] + r["failed"] for r in results) == 0
    message_ids = [m.message["Message-ID"] for m in mail.messages]
    assert len(message_ids) == 60
    assert set(message_ids) == {r.message_id for r in rows}
    assert states(rows) == ["sent"] * 60


def test_threads_claiming_in_small_batches_never_claim_the_same_row_twice(app, add_outbox):
    rows = add_outbox(*(f"reader{i}@example.org" for i in range(60)))
    claimed: list[list[int]] = []

    def worker() -> None:
        with app.app_context():
            while ids := delivery.claim_due(limit=4):
                claimed.append(ids)

    run_concurrently(worker, [()] * 6)
    every_claim = [row_id for batch in claimed for row_id in batch]
    assert sorted(every_claim) == sorted(r.id for r in rows)  # each row once, none left out
    assert states(rows) == ["sending"] * 60


def test_sweep_returns_a_claim_older_than_10_minutes_to_the_queue_and_sends_it(
    app, mail, add_outbox
):
    now = utcnow()
    [stale] = add_outbox("stale@example.org", state="sending", claimed_at=now - 11 * MINUTE)
    [fresh] = add_outbox("fresh@example.org", state="sending", claimed_at=now - MINUTE)

    assert delivery.release_stale_claims() == 1
    db.session.expire_all()
    assert (stale.state, stale.claimed_at) == ("pending", None)
    assert fresh.state == "sending" and fresh.claimed_at is not None
    db.session.rollback()  # end this read: on SQLite every transaction holds the write lock

    # The periodic sweep does both steps: release (nothing left to release) and deliver.
    assert run_task(app, sweep_outbox) == {"sent": 1, "retry": 0, "failed": 0, "cancelled": 0, "released": 0}
    assert [m.to for m in mail.messages] == ["stale@example.org"]
    assert states([stale, fresh]) == ["sent", "sending"]


def test_purge_deletes_only_sent_mail_older_than_7_days(app, add_outbox):
    now = utcnow()
    add_outbox("old-sent@example.org", state="sent", sent_at=now - timedelta(days=8))
    add_outbox("recent-sent@example.org", state="sent", sent_at=now - timedelta(days=6))
    old = {"created_at": now - timedelta(days=30), "next_attempt_at": now - timedelta(days=30)}
    add_outbox("old-failed@example.org", state="failed", attempts=12, **old)
    add_outbox("old-pending@example.org", **old)

    assert run_task(app, purge_sent_outbox) == 1

    db.session.expire_all()
    assert {r.to_address for r in db.session.query(OutboxMessage)} == {
        "recent-sent@example.org",
        "old-failed@example.org",
        "old-pending@example.org",
    }


def test_a_claim_passes_over_rows_another_worker_is_claiming(app, add_outbox):
    """A claim never waits for, nor gives up on, rows another worker holds: it takes the
    next ones. Without that, two workers pick the same rows, the second claims nothing
    once the first commits, and stops while mail is still due."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks: SQLite's writers take turns")
    ids = sorted(row.id for row in add_outbox(*(f"r{n}@example.org" for n in range(4))))
    db.session.commit()
    with db.engine.connect() as other_worker:
        other_worker.execute(select(OutboxMessage.id).where(OutboxMessage.id.in_(ids[:2]))
                             .with_for_update())
        # Waiting for those rows would fail after 2 s here instead of passing over them.
        db.session.execute(text("SET LOCAL lock_timeout = '2s'"))
        assert delivery.claim_due(limit=2) == ids[2:]
        other_worker.rollback()
    assert delivery.claim_due(limit=2) == ids[:2]


def test_a_time_budget_stops_before_the_next_batch_and_leaves_the_rest_due(app, add_outbox):
    """A deliver task bounded in time gives its worker back (for the count fold and the
    rest) after its current batch; what is left stays due for the follow-up."""
    add_outbox(*(f"r{n}@example.org" for n in range(delivery.BATCH_SIZE + 5)))
    db.session.commit()

    totals = delivery.deliver_due(seconds=0)

    assert totals["sent"] == delivery.BATCH_SIZE  # one batch, however short the budget
    assert delivery.anything_due()
    assert delivery.deliver_due(seconds=0)["sent"] == 5
    assert not delivery.anything_due()


def test_a_claim_takes_one_batch_at_most(app, add_outbox):
    """However many rows are due, one claim takes BATCH_SIZE: a worker holding every due
    row could not send them before OUTBOX_SENDING_TIMEOUT, and another would send them
    again."""
    add_outbox(*(f"r{n}@example.org" for n in range(delivery.BATCH_SIZE + 5)))
    db.session.commit()

    assert len(delivery.claim_due()) == delivery.BATCH_SIZE
    assert len(delivery.claim_due()) == 5
