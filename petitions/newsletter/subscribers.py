"""Subscribers, the categories they follow, and the record of what they agreed to."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from petitions.database import UTCDateTime, utcnow
from petitions.extensions import db
from petitions.newsletter.models import Category


class SubscriberState(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    UNSUBSCRIBED = "unsubscribed"


class Frequency(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"


subscriber_categories = Table(
    "subscriber_categories",
    db.metadata,
    Column("subscriber_id", ForeignKey("subscribers.id", ondelete="CASCADE"), primary_key=True),
    Column("category_id", ForeignKey("categories.id", ondelete="CASCADE"), primary_key=True),
)


class Subscriber(db.Model):
    __tablename__ = "subscribers"
    __table_args__ = (
        CheckConstraint("state IN ('pending', 'active', 'unsubscribed')", name="state_known"),
        CheckConstraint("frequency IN ('daily', 'weekly')", name="frequency_known"),
        CheckConstraint("(state = 'pending') = (confirmed_at IS NULL)", name="confirmed_has_time"),
        CheckConstraint("confirmation_sends >= 0", name="sends_not_negative"),
        # Digest fan-out walks active subscribers of one frequency in id order.
        Index("ix_subscribers_digest", "state", "frequency", "paused", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    canonical_email: Mapped[str] = mapped_column(String(254), unique=True)
    state: Mapped[str] = mapped_column(String(12), default=SubscriberState.PENDING.value)
    frequency: Mapped[str] = mapped_column(String(10), default=Frequency.WEEKLY.value)
    all_categories: Mapped[bool] = mapped_column(Boolean, default=False)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    # The language they subscribed in: their emails and digests go out in it.
    locale: Mapped[str] = mapped_column(String(10), default="en", server_default=text("'en'"))
    confirmation_sends: Mapped[int] = mapped_column(Integer, default=0)
    confirmation_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    categories: Mapped[list[Category]] = relationship(
        secondary=subscriber_categories, order_by=Category.name
    )
    consents: Mapped[list[ConsentRecord]] = relationship(
        back_populates="subscriber", cascade="all, delete-orphan", passive_deletes=True,
        order_by="ConsentRecord.id",
    )

    @property
    def receives_digests(self) -> bool:
        return self.state == SubscriberState.ACTIVE and not self.paused

    def __repr__(self) -> str:
        return f"<Subscriber {self.id} {self.state}>"


class ConsentRecord(db.Model):
    """What a subscriber agreed to, when, from where and through which form."""

    __tablename__ = "consent_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(120))
    consent_text: Mapped[str] = mapped_column(Text)
    ip_address: Mapped[str | None] = mapped_column(String(45))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    subscriber: Mapped[Subscriber] = relationship(back_populates="consents")
