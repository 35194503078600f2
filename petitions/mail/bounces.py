"""What a bounce, complaint or delivery report does, for the webhook, `flask mail
process-bounce` and `flask mail suppress`; and finding the outbox row a report is about.

Hard bounces and complaints suppress the address at once. Soft bounces (4.x.x, or
"delayed") are counted per mailbox, once per message: SOFT_BOUNCE_LIMIT of them in a row
suppress it. A streak ends only when we can see a message arrive: a delivery report
(DSN Action: delivered or relayed, or a webhook report of type "delivered"), or a soft
bounce more than STREAK_EXPIRES after the last one, which starts a new streak. Our relay
accepting the next message proves nothing: the bounce of the last one is often still on
its way, and resetting then would keep a dead mailbox's streak at one for ever.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from sqlalchemy import case, delete, or_, select, update

from petitions.database import insert_ignoring_duplicates, utcnow
from petitions.extensions import db
from petitions.mail.models import OutboxMessage, SoftBounceStreak, SuppressionReason
from petitions.mail.suppression import suppress
from petitions.signing.canonical import canonical_email

SOFT_BOUNCE_LIMIT = 3
STREAK_EXPIRES = timedelta(days=30)


class ReportType(StrEnum):
    HARD_BOUNCE = "hard_bounce"
    COMPLAINT = "complaint"
    SOFT_BOUNCE = "soft_bounce"
    DELIVERED = "delivered"


def apply_report(address: str, report: ReportType, detail: str | None = None,
                 outbox_id: int | None = None, status: str | None = None) -> dict[str, int]:
    """Act on one report about one address (idempotently); a complaint also unsubscribes.

    outbox_id, when the report was matched to the message it is about, makes a message
    reported twice count once. Returns counts to add to the caller's reply: a soft bounce
    that does not (yet) suppress, and a delivery, count as "ignored". The caller commits.
    """
    counts = {"suppressed": 0, "already_suppressed": 0, "unsubscribed": 0, "ignored": 0}
    if report == ReportType.DELIVERED:
        end_streak(address)
        counts["ignored"] = 1
        return counts
    if report == ReportType.SOFT_BOUNCE:
        streak = count_soft_bounce(address, outbox_id, status, detail)
        if streak < SOFT_BOUNCE_LIMIT:
            counts["ignored"] = 1
            return counts
        detail = f"{streak} soft bounces in a row; the last: {detail or status or 'no detail'}"
    added = suppress(address, SuppressionReason(report.value), detail)
    counts["suppressed" if added else "already_suppressed"] = 1
    if report == ReportType.COMPLAINT and unsubscribe_after_complaint(address):
        counts["unsubscribed"] = 1
    return counts


def count_soft_bounce(address: str, outbox_id: int | None, status: str | None = None,
                      detail: str | None = None) -> int:
    """Add one soft bounce to the mailbox's streak; returns the streak's length.

    One UPDATE does the arithmetic, so two reports processed at once both count.
    """
    canonical, now = canonical_email(address), utcnow()
    db.session.execute(
        insert_ignoring_duplicates(SoftBounceStreak, db.session.get_bind(),
                                   index_elements=["canonical_email"])
        .values(canonical_email=canonical, bounces=0, last_bounced_at=now, created_at=now)
    )
    table = SoftBounceStreak
    statement = (
        update(table)
        .where(table.canonical_email == canonical)
        .values(
            bounces=case((table.last_bounced_at < now - STREAK_EXPIRES, 1),
                         else_=table.bounces + 1),
            last_outbox_id=outbox_id, last_status=status,
            last_detail=(detail or None) and detail[:2000], last_bounced_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if outbox_id is not None:
        # The same message again (delayed, then failed): not another bounce.
        statement = statement.where(or_(table.last_outbox_id.is_(None),
                                        table.last_outbox_id != outbox_id))
    db.session.execute(statement)
    return db.session.scalar(select(table.bounces).where(table.canonical_email == canonical)) or 0


def end_streak(address: str) -> bool:
    """A message reached the mailbox: its soft bounces no longer run in a row."""
    result = db.session.execute(
        delete(SoftBounceStreak)
        .where(SoftBounceStreak.canonical_email == canonical_email(address))
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


def find_outbox_row(outbox_id: int | None = None, message_id: str | None = None,
                    recipient: str | None = None):
    """(id, to_address) of the message a report is about, or None.

    By the VERP token's row id (authenticated by its MAC), or else by the original
    Message-ID together with the recipient: Message-IDs are random, so a report can name
    one only if it really returns our message, and the recipient must be its addressee.
    """
    columns = select(OutboxMessage.id, OutboxMessage.to_address)
    if outbox_id is not None:
        row = db.session.execute(columns.where(OutboxMessage.id == outbox_id)).first()
        if row is not None:
            return row
    if message_id and recipient:
        row = db.session.execute(
            columns.where(OutboxMessage.message_id == message_id.strip())).first()
        if row is not None and canonical_email(row.to_address) == canonical_email(recipient):
            return row
    return None


def unsubscribe_after_complaint(address: str) -> bool:
    # Imported here: the newsletter builds on mail, not the other way round.
    from petitions.newsletter.consent import Source, complaint_text
    from petitions.newsletter.preferences import unsubscribe
    from petitions.newsletter.subscribers import Subscriber

    subscriber = db.session.scalar(
        select(Subscriber).where(Subscriber.canonical_email == canonical_email(address))
    )
    if subscriber is None:
        return False
    return unsubscribe(subscriber, Source.COMPLAINT, complaint_text(), ip=None)
