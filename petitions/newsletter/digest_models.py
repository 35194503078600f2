"""Digest runs and the delivery ledger that makes each digest go out exactly once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from petitions.database import UTCDateTime, utcnow
from petitions.extensions import db


class DigestRun(db.Model):
    """One period's digest ("daily 2026-11-29", "weekly 2026-W48"): started at most once."""

    __tablename__ = "digest_runs"
    __table_args__ = (
        UniqueConstraint("frequency", "period_key", name="uq_digest_runs_period"),
        CheckConstraint("frequency IN ('daily', 'weekly')", name="frequency_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    frequency: Mapped[str] = mapped_column(String(10))
    period_key: Mapped[str] = mapped_column(String(20))
    # Articles ingested up to this moment belong to this run; later ones wait for the next.
    cutoff: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    fanned_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DigestDelivery(db.Model):
    """The ledger: one row per (subscriber, run), written with the digest's outbox row in
    one transaction. The unique constraint is what stops a second copy; the outbox row
    names its run in its payload."""

    __tablename__ = "digest_deliveries"
    __table_args__ = (
        UniqueConstraint("subscriber_id", "run_id", name="uq_digest_deliveries_subscriber_run"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("digest_runs.id", ondelete="CASCADE"), index=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    article_count: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    run: Mapped[DigestRun] = relationship()
