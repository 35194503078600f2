"""Petition updates and the ledger that sends each one to each signer exactly once."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from petitions.database import UTCDateTime, utcnow
from petitions.extensions import db
from petitions.signing.models import Petition


class UpdateKind(StrEnum):
    MANUAL = "manual"              # written by an admin or moderator
    GOAL_REACHED = "goal_reached"  # automatic milestone (Petition.milestone_emails)
    CLOSED = "closed"              # automatic milestone, with the final count


class UpdateState(StrEnum):
    DRAFT = "draft"      # being written; can be previewed and test-sent
    SENDING = "sending"  # published; fan-out started (it may be resumed)
    SENT = "sent"        # fan-out finished: every recipient has a ledger row and an email


class PetitionUpdate(db.Model):
    __tablename__ = "petition_updates"
    __table_args__ = (
        CheckConstraint("kind IN ('manual', 'goal_reached', 'closed')", name="kind_known"),
        CheckConstraint("state IN ('draft', 'sending', 'sent')", name="state_known"),
        # Each milestone is written at most once per petition, so it is sent at most once.
        Index("uq_petition_updates_milestone", "petition_id", "kind", unique=True,
              sqlite_where=text("kind <> 'manual'"), postgresql_where=text("kind <> 'manual'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(
        ForeignKey("petitions.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default=UpdateKind.MANUAL.value)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)  # Markdown, rendered through petitions.text
    state: Mapped[str] = mapped_column(String(10), default=UpdateState.DRAFT.value)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("admin_users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when sending starts: from then on the update is public on the petition page.
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fanned_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    petition: Mapped[Petition] = relationship()

    def __repr__(self) -> str:
        return f"<PetitionUpdate {self.id} {self.kind} {self.state}>"


class UpdateDelivery(db.Model):
    """One row per (update, signature), written in the same transaction as its outbox row.
    The unique constraint is what stops a second copy; message_id names that outbox row,
    so a send's progress is a join on it."""

    __tablename__ = "update_deliveries"
    __table_args__ = (
        UniqueConstraint("update_id", "signature_id", name="uq_update_deliveries_update_signature"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    update_id: Mapped[int] = mapped_column(
        ForeignKey("petition_updates.id", ondelete="CASCADE"), index=True)
    signature_id: Mapped[int] = mapped_column(ForeignKey("signatures.id", ondelete="CASCADE"))
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
