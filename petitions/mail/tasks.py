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
# A deliver task hands its worker process back after about this long (a batch or so):
# during a mail backlog, paced by MAIL_RATE_PER_SECOND, one unbounded task would hold a
# process for many minutes, and beat's count fold, which shares the queue, would wait.
TASK_SECONDS = 20.0


def _deliver_for_a_while() -> dict[str, int]:
    """Deliver for TASK_SECONDS, then queue a follow-up if mail is still due, behind
    whatever else is waiting. A lost follow-up is harmless: the sweep catches up."""
    totals = delivery.deliver_due(seconds=TASK_SECONDS)
    if delivery.anything_due():
        from petitions.mail.outbox import nudge_worker

        nudge_worker()
    return totals


@shared_task(name="outbox.deliver", ignore_result=True)
def deliver_outbox() -> dict[str, int]:
    """Nudged after each commit that queued mail; safe to run any number of times at once."""
    return _deliver_for_a_while()


@shared_task(name="outbox.sweep", ignore_result=True)
def sweep_outbox() -> dict[str, int]:
    """Periodic catch-up for rows whose nudge was lost (broker down at commit time) and
    rows whose worker died mid-send."""
    released = delivery.release_stale_claims()
    totals = _deliver_for_a_while()
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
