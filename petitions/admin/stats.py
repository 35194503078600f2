"""The dashboard's numbers: one GROUP BY query each, on SQLite and PostgreSQL alike.

Times are shown in the site's time zone (SITE_TIMEZONE). The charts count
confirmations in absolute hours that start on the site's wall-clock hours; a day is
the site's calendar day, folded from those hours, so a day is right even across a
daylight-saving change (23 or 25 hours).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, and_, case, cast, extract, func, literal_column, select

from petitions.admin.clock import site_zone
from petitions.database import utcnow
from petitions.extensions import db
from petitions.newsletter.models import Category
from petitions.newsletter.subscribers import Subscriber, subscriber_categories
from petitions.signing.models import Petition, Signature, SignatureState

# A signature younger than this may still be confirmed: the confirmation rate leaves it out.
RATE_SETTLE = timedelta(hours=24)
TOP_COUNTRIES = 3
HOURS_SHOWN = 48
DAYS_SHOWN = 30


# --- per petition ---------------------------------------------------------------------------

@dataclass
class PetitionStats:
    petition: Petition
    confirmed: int = 0
    pending: int = 0
    invalidated: int = 0
    settled_confirmed: int = 0   # created before the settle cut-off
    settled_pending: int = 0
    top_countries: list[tuple[str, int]] = field(default_factory=list)

    @property
    def confirmation_rate(self) -> float | None:
        """Share of settled signatures (made over RATE_SETTLE ago, not invalidated) that
        were confirmed; None when there are none yet."""
        settled = self.settled_confirmed + self.settled_pending
        return self.settled_confirmed / settled if settled else None


def petition_overview(now: datetime | None = None) -> list[PetitionStats]:
    """Every petition that has not been removed, newest first, with its numbers."""
    petitions = db.session.scalars(
        select(Petition).where(Petition.removed_at.is_(None))
        .order_by(Petition.created_at.desc(), Petition.id.desc())
    ).all()
    return petition_numbers(petitions, now)


def petition_numbers(petitions: list[Petition], now: datetime | None = None
                     ) -> list[PetitionStats]:
    """The numbers of the given petitions, in the order given."""
    now = now or utcnow()
    stats = {p.id: PetitionStats(p) for p in petitions}
    if not stats:
        return []
    settled = Signature.created_at <= now - RATE_SETTLE
    confirmed = Signature.state == SignatureState.CONFIRMED
    pending = Signature.state == SignatureState.PENDING

    def how_many(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    rows = db.session.execute(
        select(
            Signature.petition_id,
            how_many(confirmed),
            how_many(pending),
            how_many(Signature.state == SignatureState.INVALIDATED),
            how_many(and_(confirmed, settled)),
            how_many(and_(pending, settled)),
        )
        .where(Signature.petition_id.in_(stats))
        .group_by(Signature.petition_id)
    )
    for petition_id, *numbers in rows:
        entry = stats[petition_id]
        (entry.confirmed, entry.pending, entry.invalidated, entry.settled_confirmed,
         entry.settled_pending) = (int(n) for n in numbers)
    for petition_id, countries in top_countries(list(stats)).items():
        stats[petition_id].top_countries = countries
    return list(stats.values())


def top_countries(petition_ids: list[int], limit: int = TOP_COUNTRIES) -> dict[int, list]:
    """{petition id: [(country, confirmed signatures), ...]}, largest first, ties by code."""
    signatures = func.count(Signature.id)
    ranked = (
        select(
            Signature.petition_id,
            Signature.country,
            signatures.label("signatures"),
            func.row_number().over(
                partition_by=Signature.petition_id,
                order_by=(signatures.desc(), Signature.country),
            ).label("rank"),
        )
        .where(Signature.petition_id.in_(petition_ids))
        .where(Signature.state == SignatureState.CONFIRMED)
        .group_by(Signature.petition_id, Signature.country)
        .subquery()
    )
    result: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for petition_id, country, count in db.session.execute(
        select(ranked.c.petition_id, ranked.c.country, ranked.c.signatures)
        .where(ranked.c.rank <= limit)
        .order_by(ranked.c.petition_id, ranked.c.rank)
    ):
        result[petition_id].append((country, int(count)))
    return result


# --- confirmations over time ------------------------------------------------------------------

def _epoch_seconds(column):
    """Whole seconds since 1970 (UTC) of a stored time: the one dialect-specific piece."""
    if db.engine.dialect.name == "sqlite":
        # SQLite stores naive UTC text, which strftime reads as UTC.
        return cast(func.strftime("%s", column), BigInteger)
    return cast(func.floor(extract("epoch", column)), BigInteger)  # past 2038


def confirmations_per_hour(petition_id: int, start: datetime, hours: int) -> list[int]:
    """Confirmed signatures in each of `hours` hours from `start` (index 0 first).

    Grouped in SQL by hour number since `start`; `start` is inlined as an integer so the
    SELECT and GROUP BY expressions are identical text on PostgreSQL.
    """
    start_epoch = int(start.timestamp())
    # Integer floor division ("//" renders as "/" between integers on both dialects); the
    # WHERE clause keeps every value non-negative, where truncation and floor agree.
    since_start = (_epoch_seconds(Signature.confirmed_at)
                   - literal_column(str(start_epoch), BigInteger))
    bucket = (since_start // literal_column("3600", BigInteger)).label("bucket")
    counts = [0] * hours
    for index, count in db.session.execute(
        select(bucket, func.count(Signature.id))
        .where(Signature.petition_id == petition_id)
        .where(Signature.state == SignatureState.CONFIRMED)
        .where(Signature.confirmed_at >= start)
        .where(Signature.confirmed_at < start + timedelta(hours=hours))
        .group_by(bucket)
    ):
        if 0 <= index < hours:
            counts[index] += int(count)
    return counts


def _hour_start(moment: datetime, zone: ZoneInfo) -> datetime:
    """The start of the site's wall-clock hour holding `moment`, as UTC."""
    local = moment.astimezone(zone)
    # Subtracted from the UTC instant: wall-clock arithmetic would lose the "fold" of a
    # repeated hour (01:30 EST would become 01:00 EDT, an hour too early).
    return moment.astimezone(UTC) - timedelta(minutes=local.minute, seconds=local.second,
                                              microseconds=local.microsecond)


def hourly_series(petition: Petition, now: datetime | None = None,
                  hours: int = HOURS_SHOWN) -> list[tuple[datetime, int]]:
    """[(start of the hour in the site zone, confirmations)] for the last `hours` hours,
    the current (partial) hour last."""
    zone = site_zone()
    now = now or utcnow()
    start = _hour_start(now, zone) - timedelta(hours=hours - 1)
    counts = confirmations_per_hour(petition.id, start, hours)
    return [((start + timedelta(hours=i)).astimezone(zone), n) for i, n in enumerate(counts)]


def daily_series(petition: Petition, now: datetime | None = None,
                 days: int = DAYS_SHOWN) -> list[tuple[date, int]]:
    """[(site calendar day, confirmations)] for the last `days` days, or since the day
    the petition was created if that is more recent; today (so far) last."""
    zone = site_zone()
    now = now or utcnow()
    today = now.astimezone(zone).date()
    first = max(today - timedelta(days=days - 1), petition.created_at.astimezone(zone).date())
    first = min(first, today)
    start = datetime.combine(first, datetime.min.time(), zone).astimezone(UTC)
    end = _hour_start(now, zone) + timedelta(hours=1)
    hours = round((end - start).total_seconds() / 3600)
    per_day = {first + timedelta(days=i): 0 for i in range((today - first).days + 1)}
    for i, count in enumerate(confirmations_per_hour(petition.id, start, hours)):
        if count:
            per_day[(start + timedelta(hours=i)).astimezone(zone).date()] += count
    return list(per_day.items())


# --- subscribers ----------------------------------------------------------------------------

def subscribers_per_frequency() -> dict[str, dict[str, int]]:
    """{frequency: {state: subscribers}}, where a paused active subscriber counts as
    "paused" rather than "active"."""
    state = case((and_(Subscriber.state == "active", Subscriber.paused.is_(True)), "paused"),
                 else_=Subscriber.state).label("shown_state")
    result: dict[str, dict[str, int]] = {}
    for frequency, shown_state, count in db.session.execute(
        select(Subscriber.frequency, state, func.count(Subscriber.id))
        .group_by(Subscriber.frequency, state)
    ):
        result.setdefault(frequency, {})[shown_state] = int(count)
    return result


def subscribers_per_category() -> list[tuple[str, int]]:
    """[(category name, subscribers getting digests who chose it)], by name: active and
    not paused. Those who follow every category are counted by everything_subscribers()."""
    rows = db.session.execute(
        select(Category.name, func.count(Subscriber.id))
        .select_from(Category)
        .outerjoin(subscriber_categories, subscriber_categories.c.category_id == Category.id)
        .outerjoin(Subscriber, and_(Subscriber.id == subscriber_categories.c.subscriber_id,
                                    Subscriber.state == "active",
                                    Subscriber.paused.is_(False),
                                    Subscriber.all_categories.is_(False)))
        .group_by(Category.id, Category.name)
        .order_by(Category.name)
    )
    return [(name, int(count)) for name, count in rows]


def everything_subscribers() -> int:
    """Subscribers getting digests (active, not paused) who follow every category."""
    return db.session.scalar(
        select(func.count(Subscriber.id))
        .where(Subscriber.state == "active", Subscriber.paused.is_(False),
               Subscriber.all_categories.is_(True))
    ) or 0
