"""Running digests the way the CLI and the workers do, at a chosen moment."""

from __future__ import annotations

from datetime import datetime

from petitions.extensions import db
from petitions.mail import delivery
from petitions.mail.models import OutboxMessage
from petitions.newsletter import digests
from petitions.newsletter.digest_models import DigestDelivery
from tests.factories import ArticleFactory


def run_digest(frequency: str = "daily", now: datetime | None = None) -> int:
    """Plan, queue and send one period's digest in this process; returns how many queued."""
    run = digests.get_or_start_run(frequency, now)
    queued = 0
    for first_id, last_id in list(digests.chunk_bounds(run)):
        queued += digests.build_chunk(run.id, first_id, last_id)
    delivery.deliver_due()
    return queued


def article(category, ingested_at: datetime, **fields):
    return ArticleFactory(category=category, created_at=ingested_at,
                          published_at=fields.pop("published_at", ingested_at), **fields)


def digests_to(mail, address: str):
    return [m for m in mail.to(address) if "new article" in m.subject]


def ledger_rows() -> list[DigestDelivery]:
    db.session.expire_all()
    return list(db.session.query(DigestDelivery).order_by(DigestDelivery.id))


def digest_outbox() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.query(OutboxMessage).filter_by(kind="digest").order_by(OutboxMessage.id))
