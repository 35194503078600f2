from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from petitions.database import UTCDateTime, utcnow
from petitions.extensions import db


class OutboxState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class OutboxMessage(db.Model):
    """One email, rendered when its cause was committed and sent at most once per claim."""

    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint("state IN ('pending', 'sending', 'sent', 'failed')", name="state_known"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        CheckConstraint("state <> 'sent' OR sent_at IS NOT NULL", name="sent_has_time"),
        # A row carries its rendered bodies, or a payload its kind renders at send time.
        CheckConstraint(
            "(text_body IS NOT NULL AND html_body IS NOT NULL) OR payload IS NOT NULL",
            name="has_content",
        ),
        # Partial indexes: marking a row sent (once per message, the hottest write)
        # then adds no entry to them, only to the primary key and message_id.
        Index(
            "ix_outbox_due", "next_attempt_at",
            sqlite_where=text("state = 'pending'"), postgresql_where=text("state = 'pending'"),
        ),
        Index(
            "ix_outbox_claimed", "claimed_at",
            sqlite_where=text("state = 'sending'"), postgresql_where=text("state = 'sending'"),
        ),
        Index(
            "ix_outbox_signature_id", "signature_id",
            sqlite_where=text("signature_id IS NOT NULL"),
            postgresql_where=text("signature_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(60))
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str | None] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict | None] = mapped_column(JSON)
    headers: Mapped[dict] = mapped_column(JSON, default=dict)
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    state: Mapped[str] = mapped_column(String(10), default=OutboxState.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    signature_id: Mapped[int | None] = mapped_column(
        ForeignKey("signatures.id", ondelete="SET NULL")
    )
    subscriber_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.kind} {self.state}>"


class SuppressionReason(StrEnum):
    HARD_BOUNCE = "hard_bounce"
    COMPLAINT = "complaint"
    MANUAL = "manual"
    SOFT_BOUNCE = "soft_bounce"  # SOFT_BOUNCE_LIMIT soft bounces in a row


class Suppression(db.Model):
    """An address we must not mail again, except to confirm a new double opt-in."""

    __tablename__ = "suppressions"
    __table_args__ = (
        CheckConstraint(
            "reason IN ('hard_bounce', 'complaint', 'manual', 'soft_bounce')", name="reason_known"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    canonical_email: Mapped[str] = mapped_column(String(254), unique=True)
    reason: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SoftBounceStreak(db.Model):
    """Soft bounces (4.x.x, or delayed) of one mailbox since it last took a message: at
    bounces.SOFT_BOUNCE_LIMIT the address is suppressed.

    last_outbox_id is the last message counted, so that one message reported twice
    (delayed, then failed) counts once. It is no foreign key: the outbox is purged of
    sent mail in bulk, and the id is only compared, never followed.
    """

    __tablename__ = "soft_bounce_streaks"
    __table_args__ = (CheckConstraint("bounces >= 0", name="bounces_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    canonical_email: Mapped[str] = mapped_column(String(254), unique=True)
    bounces: Mapped[int] = mapped_column(Integer, default=0)
    last_outbox_id: Mapped[int | None] = mapped_column(Integer)
    last_status: Mapped[str | None] = mapped_column(String(20))
    last_detail: Mapped[str | None] = mapped_column(Text)
    last_bounced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
