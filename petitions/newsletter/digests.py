"""Digest runs: one per period, fanned out in chunks of subscribers, exactly once each.

A run ("daily 2026-11-29") is created once per period. Its subscribers are walked in
id order (keyset pagination) and split into chunks. A chunk writes, in ONE
transaction, a ledger row per subscriber (unique per subscriber and run) and the
digest's outbox row. A chunk that crashes before its commit left nothing behind and
is simply done again; one that committed is skipped on a rerun because its ledger rows
exist, and its outbox rows are sent by the ordinary outbox machinery, which claims
each row once. So a run that crashes, is killed, or is started twice reaches every
subscriber exactly once, and skips nobody.

"Since the previous digest" is the cutoff of the subscriber's last digest run (or
their confirmation time); an article belongs to the first run whose cutoff follows its
ingestion, so an article ingested late is never missed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import make_msgid
from functools import lru_cache
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import Row, func, insert, select
from sqlalchemy.exc import IntegrityError

from petitions.database import insert_ignoring_duplicates, utcnow
from petitions.extensions import db
from petitions.mail.models import OutboxMessage, Suppression
from petitions.newsletter.digest_models import DigestDelivery, DigestRun
from petitions.newsletter.models import Article
from petitions.newsletter.subscribers import Subscriber, SubscriberState, subscriber_categories
from petitions.signing.models import Petition, PetitionState, Signature

MAX_ARTICLES = 30
MAX_PETITIONS = 3
# However long since someone's last digest, a digest covers at most this much.
LONGEST_WINDOW = timedelta(days=31)


def period_key(frequency: str, moment: datetime, timezone: str) -> str:
    local = moment.astimezone(ZoneInfo(timezone))
    if frequency == "daily":
        return local.date().isoformat()
    year, week, _ = local.isocalendar()
    return f"{year}-W{week:02d}"


def get_or_start_run(frequency: str, now: datetime | None = None) -> DigestRun:
    now = now or utcnow()
    key = period_key(frequency, now, current_app.config["SITE_TIMEZONE"])
    run = _find_run(frequency, key)
    if run is None:
        db.session.add(DigestRun(frequency=frequency, period_key=key, cutoff=now))
        try:
            db.session.commit()
        except IntegrityError:  # another process started the same period first
            db.session.rollback()
        run = _find_run(frequency, key)
    return run


def peek_run(frequency: str, now: datetime | None = None) -> DigestRun:
    """This period's run, or an unsaved stand-in: a dry run must not fix the cutoff."""
    now = now or utcnow()
    key = period_key(frequency, now, current_app.config["SITE_TIMEZONE"])
    return _find_run(frequency, key) or DigestRun(id=0, frequency=frequency, period_key=key, cutoff=now)


def _find_run(frequency: str, key: str) -> DigestRun | None:
    return db.session.scalar(
        select(DigestRun).where(DigestRun.frequency == frequency, DigestRun.period_key == key)
    )


def eligible_subscribers(run: DigestRun):
    """Active, unpaused subscribers of the run's frequency, not suppressed."""
    return (
        select(Subscriber.id)
        .where(Subscriber.state == SubscriberState.ACTIVE, Subscriber.paused.is_(False))
        .where(Subscriber.frequency == run.frequency)
        .where(~select(Suppression.id).where(
            Suppression.canonical_email == Subscriber.canonical_email).exists())
    )


def chunk_bounds(run: DigestRun, chunk_size: int | None = None) -> Iterator[tuple[int, int]]:
    """(first id, last id) of each chunk, by keyset pagination: no OFFSET, no big list."""
    chunk_size = chunk_size or current_app.config["DIGEST_CHUNK_SIZE"]
    after = 0
    while True:
        ids = db.session.scalars(
            eligible_subscribers(run).where(Subscriber.id > after)
            .order_by(Subscriber.id).limit(chunk_size)
        ).all()
        if not ids:
            return
        yield ids[0], ids[-1]
        after = ids[-1]


@dataclass
class PlannedDigest:
    """Rows, not ORM objects: subscriber (id, email, canonical_email, locale, ...),
    articles (id, title, ...) and petitions (id, ...)."""

    subscriber: Row
    since: datetime
    articles: list[Row]
    petitions: list[Row]


def plan_chunk(run: DigestRun, first_id: int, last_id: int) -> list[PlannedDigest]:
    """What each subscriber in the chunk would get, in a handful of queries.

    Plain rows, not ORM objects, and one article choice per distinct (topics, since):
    most subscribers share both, and this runs for every subscriber of every run.
    """
    already = select(DigestDelivery.subscriber_id).where(DigestDelivery.run_id == run.id)
    subscribers = db.session.execute(
        select(Subscriber.id, Subscriber.email, Subscriber.canonical_email, Subscriber.locale,
               Subscriber.all_categories, Subscriber.confirmed_at)
        .where(Subscriber.id.in_(
            eligible_subscribers(run).where(Subscriber.id.between(first_id, last_id))))
        .where(Subscriber.id.not_in(already))
        .order_by(Subscriber.id)
    ).all()
    if not subscribers:
        return []
    ids = [s.id for s in subscribers]
    follows: dict[int, set[int]] = {}
    for subscriber_id, category_id in db.session.execute(
        select(subscriber_categories.c.subscriber_id, subscriber_categories.c.category_id)
        .where(subscriber_categories.c.subscriber_id.in_(ids))
    ):
        follows.setdefault(subscriber_id, set()).add(category_id)
    previous_cutoff = dict(db.session.execute(
        select(DigestDelivery.subscriber_id, func.max(DigestRun.cutoff))
        .join(DigestRun, DigestRun.id == DigestDelivery.run_id)
        .where(DigestDelivery.subscriber_id.in_(ids), DigestRun.cutoff < run.cutoff)
        .group_by(DigestDelivery.subscriber_id)
    ).all())
    earliest = run.cutoff - LONGEST_WINDOW
    since = {
        s.id: max(previous_cutoff.get(s.id) or s.confirmed_at or earliest, earliest)
        for s in subscribers
    }
    articles = db.session.execute(
        select(Article.id, Article.title, Article.category_id, Article.created_at)
        .where(Article.created_at > min(since.values()), Article.created_at <= run.cutoff)
        .order_by(Article.published_at.desc(), Article.id.desc())
    ).all()
    now = utcnow()
    petitions = [
        p for p in db.session.execute(
            select(Petition.id, Petition.category_id, Petition.closes_at)
            .where(Petition.state == PetitionState.OPEN, Petition.category_id.is_not(None))
            .where(Petition.hidden.is_(False), Petition.removed_at.is_(None))
            .order_by(Petition.signature_count.desc(), Petition.id)
        )
        if p.closes_at is None or p.closes_at > now
    ]
    signed: dict[str, set[int]] = {}
    for email, petition_id in db.session.execute(
        select(Signature.canonical_email, Signature.petition_id)
        .where(Signature.canonical_email.in_([s.canonical_email for s in subscribers]))
    ):
        signed.setdefault(email, set()).add(petition_id)

    choices: dict[tuple, tuple[list, list]] = {}
    planned = []
    for subscriber in subscribers:
        topics = None if subscriber.all_categories else frozenset(follows.get(subscriber.id, ()))
        key = (topics, since[subscriber.id])
        if key not in choices:
            choices[key] = (
                [a for a in articles if (topics is None or a.category_id in topics)
                 and a.created_at > key[1]][:MAX_ARTICLES],
                [p for p in petitions if topics is None or p.category_id in topics],
            )
        chosen, candidates = choices[key]
        if not chosen:
            continue  # nobody gets an empty digest
        already_signed = signed.get(subscriber.canonical_email, set())
        unsigned = [p for p in candidates if p.id not in already_signed][:MAX_PETITIONS]
        planned.append(PlannedDigest(subscriber, since[subscriber.id], chosen, unsigned))
    return planned


def digest_subject(planned: PlannedDigest) -> str:
    return _subject(planned.subscriber.locale or "en", len(planned.articles),
                    planned.articles[0].title)


@lru_cache(maxsize=1024)
def _subject(locale: str, count: int, headline: str) -> str:
    """Many subscribers share a subject; render each distinct one once."""
    with force_locale(locale):
        subject = render_template("email/digest/subject.txt", count=count, headline=headline)
    return " ".join(subject.split())[:300]


def payload_for(run: DigestRun, planned: PlannedDigest) -> dict:
    """What the renderer needs at send time: small, and fixed when the digest is queued."""
    return {
        "run": run.id,
        "frequency": run.frequency,
        "articles": [a.id for a in planned.articles],
        "petitions": [p.id for p in planned.petitions],
        "locale": planned.subscriber.locale or "en",
    }


def queue_chunk(run: DigestRun, planned: list[PlannedDigest]) -> int:
    """Ledger rows, then outbox rows for those that were new, in one transaction.

    A ledger row that already exists (a duplicate chunk at the same moment, or a rerun)
    is skipped by the unique constraint and gets no outbox row, so only one copy per
    subscriber and run can ever be committed. Returns how many were queued.
    """
    if not planned:
        return 0
    now = utcnow()
    inserted = set(db.session.scalars(
        insert_ignoring_duplicates(DigestDelivery.__table__, db.engine).returning(
            DigestDelivery.__table__.c.subscriber_id
        ),
        [
            {"run_id": run.id, "subscriber_id": p.subscriber.id, "since": p.since,
             "article_count": len(p.articles), "created_at": now}
            for p in planned
        ],
    ))
    if inserted:
        domain = urlsplit(current_app.config["BASE_URL"]).hostname or "localhost"
        # One statement text for every row: the driver parses it once, not per chunk.
        db.session.execute(insert(OutboxMessage), [
            {
                "kind": "digest",
                "to_address": p.subscriber.email,
                "subject": digest_subject(p),
                "headers": {},
                "payload": payload_for(run, p),
                "message_id": make_msgid(domain=domain),
                "subscriber_id": p.subscriber.id,
                "state": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for p in planned if p.subscriber.id in inserted
        ])
    db.session.commit()
    return len(inserted)


def build_chunk(run_id: int, first_id: int, last_id: int) -> int:
    run = db.session.get(DigestRun, run_id)
    if run is None:
        return 0
    return queue_chunk(run, plan_chunk(run, first_id, last_id))


def mark_fanned_out(run: DigestRun) -> None:
    run.fanned_out_at = run.fanned_out_at or utcnow()
    db.session.commit()
