from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from sqlalchemy import delete

from petitions.database import utcnow
from petitions.extensions import db
from petitions.mail import delivery
from petitions.mail.models import OutboxMessage, OutboxState

# Sent mail holds names and addresses; keep it only as long as support needs it.
SENT_RETENTION = timedelta(days=7)


@shared_task(name="outbox.deliver", ignore_result=True)
def deliver_outbox() -> dict[str, int]:
    """Nudged after each commit that queued mail; safe to run any number of times at once."""
    return delivery.deliver_due()


@shared_task(name="outbox.sweep", ignore_result=True)
def sweep_outbox() -> dict[str, int]:
    """Periodic catch-up for rows whose nudge was lost (broker down at commit time) and
    rows whose worker died mid-send."""
    released = delivery.release_stale_claims()
    totals = delivery.deliver_due()
    return {**totals, "released": released}


@shared_task(name="outbox.purge", ignore_result=True)
def purge_sent_outbox() -> int:
    result = db.session.execute(
        delete(OutboxMessage)
        .where(OutboxMessage.state == OutboxState.SENT)
        .where(OutboxMessage.sent_at < utcnow() - SENT_RETENTION)
    )
    db.session.commit()
    return result.rowcount or 0
