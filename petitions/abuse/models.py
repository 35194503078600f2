"""Allow and block rules that admins edit, and the alerts already raised."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from petitions.database import UTCDateTime, utcnow
from petitions.extensions import db


class RuleKind(StrEnum):
    EMAIL_DOMAIN = "email_domain"  # a glob: "*.example.com", "mailinator.com"
    IP = "ip"                      # an address or a CIDR network, IPv4 or IPv6
    EMAIL = "email"                # one canonical address


class RuleAction(StrEnum):
    BLOCK = "block"  # signatures are stored, flagged and never counted
    ALLOW = "allow"  # exempt from rate limits and from blocks (a newsroom's office IP)


class AccessRule(db.Model):
    __tablename__ = "access_rules"
    __table_args__ = (
        UniqueConstraint("kind", "pattern", name="uq_access_rules_kind_pattern"),
        CheckConstraint("kind IN ('email_domain', 'ip', 'email')", name="kind_known"),
        CheckConstraint("action IN ('block', 'allow')", name="action_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    pattern: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(10))
    note: Mapped[str | None] = mapped_column(String(500))
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("admin_users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AbuseAlert(db.Model):
    """One alert per (petition, IP or domain, hour): the unique key stops repeats."""

    __tablename__ = "abuse_alerts"
    __table_args__ = (
        UniqueConstraint("petition_id", "kind", "value", "hour", name="uq_abuse_alerts_key"),
        CheckConstraint("kind IN ('ip', 'email_domain')", name="kind_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(254))
    hour: Mapped[datetime] = mapped_column(UTCDateTime)
    count: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
