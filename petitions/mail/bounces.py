"""What a bounce or complaint report does, for the webhook and `flask mail suppress`."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import select

from petitions.extensions import db
from petitions.mail.models import SuppressionReason
from petitions.mail.suppression import suppress
from petitions.signing.canonical import canonical_email


class ReportType(StrEnum):
    HARD_BOUNCE = "hard_bounce"
    COMPLAINT = "complaint"
    SOFT_BOUNCE = "soft_bounce"


def apply_report(address: str, report: ReportType, detail: str | None = None) -> dict[str, int]:
    """Suppress a hard bounce or complaint (idempotently); a complaint also unsubscribes.

    Soft bounces change nothing for now: the outbox already retries temporary failures.
    Returns counts to add to the caller's reply. The caller commits.
    """
    counts = {"suppressed": 0, "already_suppressed": 0, "unsubscribed": 0, "ignored": 0}
    if report == ReportType.SOFT_BOUNCE:
        counts["ignored"] = 1
        return counts
    added = suppress(address, SuppressionReason(report.value), detail)
    counts["suppressed" if added else "already_suppressed"] = 1
    if report == ReportType.COMPLAINT and unsubscribe_after_complaint(address):
        counts["unsubscribed"] = 1
    return counts


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
