from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, String, text
from sqlalchemy.orm import Mapped, mapped_column

from petitions.database import UTCDateTime, utcnow
from petitions.extensions import db

DEFAULT_RATE_LIMIT = "60/minute"


class KeyScope(StrEnum):
    """What a key may do: post articles (the news site), or sign for people (a partner)."""

    ARTICLES = "articles"
    PARTNER = "partner"


class ApiKey(db.Model):
    """A bearer token for the API. Only its SHA-256 is stored; the prefix identifies it."""

    __tablename__ = "api_keys"
    __table_args__ = (
        CheckConstraint("scope IN ('articles', 'partner')", name="scope_known"),
        CheckConstraint("rate_limit <> ''", name="rate_limit_not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(12))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Keys made before scopes existed were article-ingest keys, and stay so.
    scope: Mapped[str] = mapped_column(
        String(20), default=KeyScope.ARTICLES.value, server_default=text("'articles'"))
    # Flask-Limiter notation ("60/minute;1000/day"), counted per key (partner API).
    rate_limit: Mapped[str] = mapped_column(
        String(100), default=DEFAULT_RATE_LIMIT, server_default=text(f"'{DEFAULT_RATE_LIMIT}'"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def active(self) -> bool:
        return self.revoked_at is None
