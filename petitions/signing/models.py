from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from petitions.database import UTCDateTime, utcnow
from petitions.extensions import db
from petitions.newsletter.models import Article, Category


class PetitionState(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"
    ARCHIVED = "archived"


class SignatureState(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    # Set by a moderator: never counted, never emailed again.
    INVALIDATED = "invalidated"


class Petition(db.Model):
    __tablename__ = "petitions"
    __table_args__ = (
        CheckConstraint("state IN ('draft', 'open', 'closed', 'archived')", name="state_known"),
        CheckConstraint("goal > 0", name="goal_positive"),
        CheckConstraint("signature_count >= 0", name="count_not_negative"),
        CheckConstraint("slug <> ''", name="slug_not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text, default="")
    target: Mapped[str] = mapped_column(String(200))
    target_email: Mapped[str | None] = mapped_column(String(254))
    # Automatic update emails when the goal is reached and when the petition closes.
    milestone_emails: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false"))
    goal: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(10), default=PetitionState.DRAFT.value)
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("categories.id", ondelete="SET NULL"), index=True
    )
    # Folded in batches by signing.counting, never by the confirm request (see README).
    signature_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Hidden: left out of listings and answered as 404. Removed: answered as 410 Gone,
    # with the reason, whatever its state.
    hidden: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    removal_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    category: Mapped[Category | None] = relationship()
    articles: Mapped[list[Article]] = relationship(back_populates="petition")

    @property
    def is_open(self) -> bool:
        if self.state != PetitionState.OPEN or self.removed_at is not None:
            return False
        return self.closes_at is None or self.closes_at > utcnow()

    @property
    def is_public(self) -> bool:
        return self.state != PetitionState.DRAFT and not self.hidden and not self.is_removed

    @property
    def is_removed(self) -> bool:
        return self.removed_at is not None

    @property
    def progress_percent(self) -> int:
        return min(100, int(self.signature_count * 100 / self.goal)) if self.goal else 0

    def __repr__(self) -> str:
        return f"<Petition {self.slug}>"


class Signature(db.Model):
    __tablename__ = "signatures"
    __table_args__ = (
        # One signature per person per petition, enforced by the database under concurrency.
        UniqueConstraint("petition_id", "canonical_email", name="uq_signatures_petition_email"),
        CheckConstraint("state IN ('pending', 'confirmed', 'invalidated')", name="state_known"),
        CheckConstraint(
            "(state = 'confirmed' AND confirmed_at IS NOT NULL)"
            " OR (state = 'pending' AND confirmed_at IS NULL) OR state = 'invalidated'",
            name="confirmed_has_time",
        ),
        CheckConstraint(
            "(state = 'invalidated') = (invalidated_at IS NOT NULL)", name="invalidated_has_time"
        ),
        CheckConstraint("NOT counted OR state = 'confirmed'", name="only_confirmed_counted"),
        # Flagged (over a rate limit, or matching a block): stored, never counted.
        CheckConstraint("NOT (flagged AND counted)", name="flagged_never_counted"),
        CheckConstraint("length(country) = 2", name="country_iso_code"),
        CheckConstraint("confirmation_sends >= 0 AND notices_sent >= 0", name="sends_not_negative"),
        # The count fold scans only confirmed signatures it has not yet counted.
        Index(
            "ix_signatures_uncounted",
            "petition_id",
            sqlite_where=text("state = 'confirmed' AND NOT counted"),
            postgresql_where=text("state = 'confirmed' AND NOT counted"),
        ),
        Index("ix_signatures_pending_sent", "state", "confirmation_sent_at"),
        Index("ix_signatures_petition_confirmed_at", "petition_id", "confirmed_at"),
        # Counts by state (exports, dashboard); moderation's date and IP searches.
        Index("ix_signatures_petition_state", "petition_id", "state"),
        Index("ix_signatures_created_at", "created_at"),
        Index("ix_signatures_ip_address", "ip_address"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(254))
    canonical_email: Mapped[str] = mapped_column(String(254))
    postcode: Mapped[str] = mapped_column(String(12))
    country: Mapped[str] = mapped_column(String(2))
    comment: Mapped[str | None] = mapped_column(String(500))
    show_name_publicly: Mapped[bool] = mapped_column(Boolean, default=False)
    email_updates: Mapped[bool] = mapped_column(Boolean, default=False)
    # Set by the updates' one-click unsubscribe (email_updates goes False with it).
    updates_stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    subscribe_newsletter: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(12), default=SignatureState.PENDING.value)
    counted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    ip_address: Mapped[str | None] = mapped_column(String(45))
    # After IP_RETENTION_DAYS the address is replaced by a keyed hash (HMAC-SHA256, hex).
    ip_hash: Mapped[str | None] = mapped_column(String(64))
    flagged: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    flag_reason: Mapped[str | None] = mapped_column(String(40))
    # Personal fields erased in place (retention, or the signer's own request).
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    invalidated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    invalidation_reason: Mapped[str | None] = mapped_column(String(500))
    confirmation_sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmation_sends: Mapped[int] = mapped_column(Integer, default=0)
    notices_sent: Mapped[int] = mapped_column(Integer, default=0)
    # The language the supporter signed in: their emails go out in it.
    locale: Mapped[str] = mapped_column(String(10), default="en", server_default=text("'en'"))
    # The partner API key that submitted it (petitions/api/partner.py), if any.
    api_key_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL"), index=True)

    petition: Mapped[Petition] = relationship()

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.split() else ""

    def __repr__(self) -> str:
        return f"<Signature {self.id} petition={self.petition_id} {self.state}>"
