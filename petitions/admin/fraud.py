"""The fraud view's numbers: signatures per petition, per hour, per IP address and per
email domain, over a recent window, with anything at or over a threshold flagged.

Hours are whole UTC hours, grouped in SQL (strftime on SQLite, date_trunc on
PostgreSQL) and shown in the site's time zone. Invalidated signatures are left out, so
a flag clears once a moderator has dealt with it. The domain is the canonical address's
(googlemail.com is counted as gmail.com), which the signature search also matches.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, func, select

from petitions.admin.clock import site_zone
from petitions.admin.moderation_forms import FraudForm
from petitions.database import utcnow
from petitions.extensions import db
from petitions.signing.models import Petition, Signature, SignatureState

WINDOWS = (1, 6, 24, 72, 168)  # hours
THRESHOLD_BOUNDS = (2, 100_000)
DEFAULTS = {"hours": 24, "ip_threshold": 20, "domain_threshold": 50}
ROW_LIMIT = 200  # per table, busiest first: flagged rows always come before the others


@dataclass(frozen=True)
class Settings:
    hours: int
    ip_threshold: int
    domain_threshold: int


@dataclass(frozen=True)
class Row:
    petition: Petition
    hour: datetime  # UTC start of the hour
    key: str  # the IP address or the email domain
    count: int
    flagged: bool

    @property
    def local_date(self) -> date:
        return self.hour.astimezone(site_zone()).date()


def parse_settings(form: FraudForm) -> Settings | None:
    """The window and thresholds, or None with messages on the form's fields."""
    form.validate()  # no validators of its own; it readies each field's error list
    values: dict[str, int] = {}
    text = form.hours.data or str(DEFAULTS["hours"])
    if text.isascii() and text.isdigit() and int(text) in WINDOWS:
        values["hours"] = int(text)
    else:
        form.hours.errors.append(_("Choose one of the windows in the list."))
    low, high = THRESHOLD_BOUNDS
    for name in ("ip_threshold", "domain_threshold"):
        text = form[name].data or str(DEFAULTS[name])
        if text.isascii() and text.isdigit() and low <= int(text) <= high:
            values[name] = int(text)
        else:
            form[name].errors.append(_("Enter a whole number from %(low)d to %(high)d.",
                                       low=low, high=high))
    return Settings(**values) if len(values) == 3 else None


def _hour(column) -> ColumnElement:
    """The start of the UTC hour: a naive timestamp (PostgreSQL) or text (SQLite, which
    stores UTC as text). The grouping is done on a subquery's columns, so PostgreSQL
    never has to match this expression's parameters between SELECT and GROUP BY."""
    if db.engine.dialect.name == "postgresql":
        return func.date_trunc("hour", func.timezone("UTC", column))
    return func.strftime("%Y-%m-%d %H:00:00", column)


def _domain(column) -> ColumnElement:
    at = func.strpos(column, "@") if db.engine.dialect.name == "postgresql" else \
        func.instr(column, "@")
    return func.substr(column, at + 1)


def _as_utc(value) -> datetime:
    if isinstance(value, str):  # SQLite's strftime
        value = datetime.strptime(value, "%Y-%m-%d %H:%M:%S")
    return value.replace(tzinfo=UTC)


def busiest(by: str, settings: Settings, now: datetime | None = None) -> list[Row]:
    """Rows per (petition, hour, IP or domain), busiest first, at most ROW_LIMIT."""
    since = (now or utcnow()) - timedelta(hours=settings.hours)
    key = Signature.ip_address if by == "ip" else _domain(Signature.canonical_email)
    threshold = settings.ip_threshold if by == "ip" else settings.domain_threshold
    recent = (
        select(Signature.petition_id.label("petition_id"),
               _hour(Signature.created_at).label("hour"),
               key.label("key"))
        .where(Signature.created_at >= since,
               Signature.state != SignatureState.INVALIDATED)
        .subquery()
    )
    n = func.count().label("n")
    grouped = db.session.execute(
        select(recent.c.petition_id, recent.c.hour, recent.c.key, n)
        .where(recent.c.key.is_not(None))
        .group_by(recent.c.petition_id, recent.c.hour, recent.c.key)
        .order_by(n.desc(), recent.c.hour.desc(), recent.c.key)
        .limit(ROW_LIMIT)
    ).all()
    petitions = {p.id: p for p in db.session.scalars(
        select(Petition).where(Petition.id.in_(sorted({row.petition_id for row in grouped}))))}
    return [Row(petitions[row.petition_id], _as_utc(row.hour), row.key, row.n,
                row.n >= threshold)
            for row in grouped]
