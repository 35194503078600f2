"""A petition's delivery to its target: when, to whom, with how many signatures."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from petitions.database import UTCDateTime, utcnow
from petitions.extensions import db
from petitions.signing.models import Petition


class PetitionDelivery(db.Model):
    __tablename__ = "petition_deliveries"
    __table_args__ = (CheckConstraint("signature_count >= 0", name="count_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(
        ForeignKey("petitions.id", ondelete="CASCADE"), index=True)
    # The pack is the confirmed, valid signatures up to this moment.
    delivered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    signature_count: Mapped[int] = mapped_column(Integer)
    target_name: Mapped[str] = mapped_column(String(200))
    target_email: Mapped[str | None] = mapped_column(String(254))  # None: downloaded, not emailed
    cover_message: Mapped[str | None] = mapped_column(Text)
    delivered_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("admin_users.id", ondelete="SET NULL"))
    message_id: Mapped[str | None] = mapped_column(String(200))  # the delivery email's outbox row

    petition: Mapped[Petition] = relationship()
