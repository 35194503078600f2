"""Digest runs, their chunks, and the delivery ledger that makes each digest go out
exactly once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint, text
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


class DigestChunk(db.Model):
    """One chunk of a run as handed to the workers (petitions/newsletter/digest_chunks.py).

    The broker keeps nothing on disk, so this row, committed before the task is queued,
    is what survives: a chunk not done some minutes after it was queued is queued again
    by the sweep. Keyed by both ends, not the first alone: a rerun of the period cuts
    its chunks from who is eligible then, so its bounds can differ, and every chunk that
    was ever queued must stay covered.
    """

    __tablename__ = "digest_chunks"
    __table_args__ = (
        UniqueConstraint("run_id", "first_id", "last_id", name="uq_digest_chunks_bounds"),
        CheckConstraint("first_id <= last_id", name="bounds_ordered"),
        # The sweep's question, "which chunks are still waiting?", reads only these.
        Index("ix_digest_chunks_waiting", "queued_at",
              sqlite_where=text("done_at IS NULL"), postgresql_where=text("done_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("digest_runs.id", ondelete="CASCADE"))
    first_id: Mapped[int] = mapped_column(Integer)
    last_id: Mapped[int] = mapped_column(Integer)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


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
