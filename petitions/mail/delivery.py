"""Sending due outbox rows over one reused SMTP connection, at a steady rate.

Each row is claimed (pending -> sending) in its own committed statement before any
SMTP traffic, so two workers never send the same row. A row is marked sent right
after the server accepts it (see outcomes.py). If a worker dies in the short window
between the server's "250 OK" and that mark, the row stays "sending"; after OUTBOX_SENDING_TIMEOUT it
is put back to pending and sent again with the same Message-ID, which lets receivers
drop the duplicate. Losing mail is worse than that rare duplicate.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parseaddr

from flask import current_app
from sqlalchemy import exists, select, update

from petitions.database import utcnow
from petitions.extensions import db
from petitions.mail import rendering
from petitions.mail.dkim import DkimSigner, signer_for
from petitions.mail.mime import compose
from petitions.mail.models import OutboxMessage, OutboxState
from petitions.mail.outcomes import OutcomeWriter, retry_delay
from petitions.mail.pacing import Pacer
from petitions.mail.smtp import PermanentFailure, SmtpConnection, TemporaryFailure
from petitions.mail.suppression import suppressed_among
from petitions.mail.verp import return_paths

log = logging.getLogger(__name__)

BATCH_SIZE = 250
# A server that keeps answering "slow down" (421/450/451/452/454) is given a rest: after
# this many throttling replies in one run, the rest of the batch goes back to the queue
# untried, due after the retry delay, and the next run starts at full pace. Holding the
# batch while the pace halves again and again would keep it from every other worker for
# hours, and past OUTBOX_SENDING_TIMEOUT another worker would take it and send it too.
THROTTLED_REPLIES_PER_RUN = 3
# A suppressed address still gets these: they answer its own new double opt-in.
SENT_DESPITE_SUPPRESSION = {"signature_confirmation", "subscription_confirmation", "privacy_link"}


# What each kind of mail says about itself. Transactional mail answers something the
# person did (RFC 3834: auto-responders must not answer it); list mail (digests, updates)
# is bulk, and its renderers add List-Id and List-Unsubscribe. Headers a kind already
# sets are kept.
TRANSACTIONAL_KINDS = {
    "signature_confirmation", "signature_already_confirmed", "subscription_confirmation",
    "subscription_already_active", "subscription_welcome", "privacy_link", "abuse_alert",
    "petition_delivery", "petition_update_test", "digest_test",
}
LIST_KINDS = {"digest", "petition_update"}
_KIND_HEADERS = {
    **{kind: (("Auto-Submitted", "auto-generated"),) for kind in TRANSACTIONAL_KINDS},
    **{kind: (("Precedence", "bulk"),) for kind in LIST_KINDS},
}
# compose() adds these to every message.
_MIME_HEADERS = ("MIME-Version", "Content-Type")


def _now_header() -> str:
    """Date is when the message goes out: a retry sent hours later gets a fresh one, as
    receivers compare it with their own clock."""
    second = int(time.time())
    if _date_cache[0] != second:
        _date_cache[:] = [second, format_datetime(datetime.fromtimestamp(second, UTC))]
    return _date_cache[1]


_date_cache: list = [None, ""]


def build_message(row, sender: str, signer: DkimSigner | None = None) -> bytes:
    content = rendering.content_of(row)
    headers = [
        ("From", sender),
        ("To", row.to_address),
        ("Subject", content.subject),
        ("Date", _now_header()),
        ("Message-ID", row.message_id),
        *content.headers.items(),
    ]
    headers += [pair for pair in _KIND_HEADERS.get(row.kind, ()) if pair[0] not in content.headers]
    data = compose(headers, content.encoded_text or content.text,
                   content.encoded_html or content.html, content.attachments)
    if signer is not None:
        data = signer.sign(data, [name for name, _ in headers] + list(_MIME_HEADERS))
    return data


def release_stale_claims() -> int:
    """Put rows whose worker died mid-send back in the queue."""
    timeout = timedelta(seconds=current_app.config["OUTBOX_SENDING_TIMEOUT"])
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.state == OutboxState.SENDING)
        .where(OutboxMessage.claimed_at < utcnow() - timeout)
        .values(state=OutboxState.PENDING, claimed_at=None)
    )
    db.session.commit()
    return result.rowcount or 0


def claim_due(limit: int = BATCH_SIZE) -> list[int]:
    now = utcnow()
    due = (
        select(OutboxMessage.id)
        .where(OutboxMessage.state == OutboxState.PENDING)
        .where(OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.id)
        .limit(limit)
        # Rows another worker is claiming right now are passed over, not waited for: else
        # both pick the same rows, the second finds them all claimed once the first
        # commits, claims nothing and stops, with mail still due. (SQLite ignores this;
        # its writers take turns anyway.)
        .with_for_update(skip_locked=True)
    )
    # Two statements in one transaction, not UPDATE ... WHERE id IN (this SELECT): in
    # PostgreSQL a locking subquery is run again for each row the UPDATE scans, so its
    # LIMIT would not hold and one worker could claim every due row. The locks taken
    # here last until the commit below.
    chosen = db.session.scalars(due).all()
    if not chosen:
        db.session.commit()
        return []
    # The state test is repeated in the UPDATE itself: a row another worker claimed
    # between the SELECT and here no longer matches, so it is claimed exactly once.
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(chosen))
        .where(OutboxMessage.state == OutboxState.PENDING)
        .values(state=OutboxState.SENDING, claimed_at=now)
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    )
    ids = sorted(result.scalars())
    db.session.commit()
    return ids


def anything_due() -> bool:
    """Whether a pending row is due now (a cheap test, on the partial index of due rows)."""
    return bool(db.session.scalar(select(
        exists().where(OutboxMessage.state == OutboxState.PENDING,
                       OutboxMessage.next_attempt_at <= utcnow()))))


def _load(ids: list[int]) -> list:
    """The claimed rows as plain, read-only rows: no ORM objects to expire and reload
    after every commit in the loop."""
    return db.session.execute(
        select(*OutboxMessage.__table__.columns).where(OutboxMessage.id.in_(ids))
        .order_by(OutboxMessage.id)
    ).all()


def deliver_due(max_batches: int = 50, seconds: float | None = None) -> dict[str, int]:
    """Send what is due, batch by batch, until nothing is due or the budget is spent:
    max_batches, and with `seconds`, no new batch once that long has passed."""
    deadline = None if seconds is None else time.monotonic() + seconds
    totals = {"sent": 0, "retry": 0, "failed": 0, "cancelled": 0}
    connection = SmtpConnection(current_app.config["SMTP"])
    sender = current_app.config["MAIL_FROM"]
    envelope_from = parseaddr(sender)[1]
    signer = signer_for(current_app.config)
    # With BOUNCE_ADDRESS each message's envelope sender names its row (verp.py).
    verp = return_paths(current_app.config)
    pacer = Pacer(current_app.config["MAIL_RATE_PER_SECOND"], current_app.config["REDIS_URL"],
                  current_app.config["CELERY_QUEUE"])
    outcomes = OutcomeWriter()
    throttled = 0
    try:
        for batch in range(max_batches):
            if batch and deadline is not None and time.monotonic() >= deadline:
                break
            ids = claim_due()
            if not ids:
                break
            rows = _load(ids)
            suppressed = suppressed_among(row.to_address for row in rows)
            cancelled = rendering.prepare(rows)
            db.session.commit()
            for index, row in enumerate(rows):
                if row.id in cancelled:
                    outcomes.cancel(row, cancelled[row.id])
                    totals["cancelled"] += 1
                    continue
                if row.to_address in suppressed and row.kind not in SENT_DESPITE_SUPPRESSION:
                    outcomes.cancel(row, "address suppressed")
                    totals["cancelled"] += 1
                    continue
                pacer.wait()
                try:
                    connection.send(build_message(row, sender, signer),
                                    verp.address(row.id) if verp else envelope_from,
                                    row.to_address)
                except (TemporaryFailure, PermanentFailure) as exc:
                    state = outcomes.record(row, exc)
                    totals["failed" if state == OutboxState.FAILED else "retry"] += 1
                    log.warning("outbox %s (%s): %s", row.id, row.kind, exc)
                    if isinstance(exc, TemporaryFailure) and exc.throttled:
                        pacer.back_off()
                        throttled += 1
                    if isinstance(exc, TemporaryFailure) and (
                            not connection.connected or throttled >= THROTTLED_REPLIES_PER_RUN):
                        _release_unsent([r.id for r in rows[index + 1 :]], exc)
                        return totals
                else:
                    outcomes.record(row, None)
                    totals["sent"] += 1
    finally:
        connection.close()
        outcomes.close()
    return totals


def _release_unsent(ids: list[int], reason: Exception) -> None:
    """The server is unreachable, or keeps asking us to slow down: give the rest of the
    batch back without an attempt, due after the first retry delay."""
    if ids:
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .where(OutboxMessage.state == OutboxState.SENDING)
            .values(
                state=OutboxState.PENDING,
                claimed_at=None,
                next_attempt_at=utcnow() + retry_delay(1),
                last_error=str(reason)[:2000],
            )
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
