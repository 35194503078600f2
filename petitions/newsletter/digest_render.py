"""Rendering digest outbox rows at send time.

Subscribers who get the same articles and petitions get the same message except for
their own links. So each distinct content is rendered (Jinja, then css-inline) once
per worker process, with placeholders where the links go, and each subscriber's copy
is a string substitution. Rendering cost follows the number of distinct digests, not
the number of subscribers. The cache key holds each article's and petition's version
(updated_at, and the count), so an edit or a new count renders afresh.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import NamedTuple

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import select

from petitions.extensions import db
from petitions.mail.mime import quoted_printable
from petitions.mail.models import OutboxMessage
from petitions.mail.render import inline_css
from petitions.mail.rendering import Content, VariantCache
from petitions.newsletter.links import subscriber_links
from petitions.newsletter.models import Article
from petitions.newsletter.subscribers import Subscriber, SubscriberState
from petitions.signing.canonical import canonical_email
from petitions.signing.models import Petition
from petitions.signing.translations import texts_for

MANAGE = "__DIGEST_MANAGE_URL__"
UNSUBSCRIBE = "__DIGEST_UNSUBSCRIBE_URL__"
CACHED_VARIANTS = 256


def group_by_category(articles: list[Article]) -> list[tuple[str, list[Article]]]:
    """Categories in order of their newest article; articles newest first within each."""
    groups: dict[str, list[Article]] = {}
    for article in articles:
        groups.setdefault(article.category.name, []).append(article)
    return list(groups.items())


class DigestRenderer:
    def __init__(self) -> None:
        self._variants = VariantCache(CACHED_VARIANTS)
        self._articles: dict[int, Article] = {}
        self._petitions: dict[int, Petition] = {}
        self._texts: dict = {}

    def prepare(self, rows: list[OutboxMessage]) -> dict[int, str]:
        subscriber_ids = {row.subscriber_id for row in rows}
        still_wanted = set(db.session.scalars(
            select(Subscriber.id).where(
                Subscriber.id.in_(subscriber_ids),
                Subscriber.state == SubscriberState.ACTIVE,
                Subscriber.paused.is_(False),
            )
        ))
        article_ids = {i for row in rows for i in row.payload["articles"]}
        petition_ids = {i for row in rows for i in row.payload["petitions"]}
        # Plain copies: the delivery loop commits after every message, which would
        # expire ORM objects and reload each one from the database at the next access.
        self._articles = {
            a.id: SimpleNamespace(
                id=a.id, title=a.title, url=a.url, summary=a.summary,
                published_at=a.published_at, category=SimpleNamespace(name=a.category.name),
                version=(a.id, a.updated_at),
            )
            for a in db.session.scalars(select(Article).where(Article.id.in_(article_ids)))
        }
        self._petitions = {
            p.id: SimpleNamespace(
                id=p.id, slug=p.slug, title=p.title, summary=p.summary,
                signature_count=p.signature_count,
                version=(p.id, p.updated_at, p.signature_count),
            )
            for p in db.session.scalars(select(Petition).where(Petition.id.in_(petition_ids)))
        }
        # Petitions in each subscriber's language; articles stay as they came in.
        self._texts = texts_for((i, row.payload.get("locale") or "en")
                                for row in rows for i in row.payload["petitions"])
        return {
            row.id: "unsubscribed or paused since it was queued"
            for row in rows
            if row.subscriber_id not in still_wanted
        }

    def _petition_in(self, petition: SimpleNamespace, locale: str) -> SimpleNamespace:
        text = self._texts.get((petition.id, locale))
        if text is None:
            return petition
        return SimpleNamespace(**{**vars(petition), "title": text.title, "summary": text.summary,
                                  "version": (*petition.version, text.title, text.summary)})

    def _variant(self, payload: dict) -> Variant:
        articles = [self._articles[i] for i in payload["articles"] if i in self._articles]
        locale = payload.get("locale") or "en"
        petitions = [self._petition_in(self._petitions[i], locale)
                     for i in payload["petitions"] if i in self._petitions]
        key = (locale, payload["frequency"],
               tuple(a.version for a in articles), tuple(p.version for p in petitions))

        def make() -> Variant:
            context = {
                "groups": group_by_category(articles),
                "article_count": len(articles),
                "petitions": petitions,
                "frequency": payload["frequency"],
                "manage_url": MANAGE,
                "unsubscribe_url": UNSUBSCRIBE,
                "base_url": current_app.config["BASE_URL"],
            }
            with force_locale(locale):
                text = render_template("email/digest/body.txt", **context)
                html = inline_css(render_template("email/digest/body.html", subject="", **context))
            return Variant(PersonalBody(text), PersonalBody(html))

        return self._variants.get_or_make(key, make)

    def render(self, row: OutboxMessage) -> Content:
        variant = self._variant(row.payload)
        subscriber = SimpleNamespace(
            id=row.subscriber_id, email=row.to_address,
            canonical_email=canonical_email(row.to_address),
        )
        manage, one_click, headers = subscriber_links(subscriber, "digest")
        links = {MANAGE: manage, UNSUBSCRIBE: one_click}
        return Content(
            row.subject, variant.text.fill(links), variant.html.fill(links), headers,
            encoded_text=variant.text.encode(links), encoded_html=variant.html.encode(links),
        )


class PersonalBody:
    """A rendered body with link placeholders. Everything before the line holding the
    first placeholder is quoted-printable-encoded once; only the rest, a few hundred
    bytes, is encoded for each subscriber."""

    def __init__(self, body: str):
        self.body = body
        positions = [i for i in (body.find(MANAGE), body.find(UNSUBSCRIBE)) if i >= 0]
        cut = body.rfind("\n", 0, min(positions)) + 1 if positions else len(body)
        self.head = quoted_printable(body[:cut])
        self.tail = body[cut:]

    @staticmethod
    def _substitute(text: str, links: dict[str, str]) -> str:
        for placeholder, url in links.items():
            text = text.replace(placeholder, url)
        return text

    def fill(self, links: dict[str, str]) -> str:
        return self._substitute(self.body, links)

    def encode(self, links: dict[str, str]) -> bytes:
        return self.head + quoted_printable(self._substitute(self.tail, links))


class Variant(NamedTuple):
    text: PersonalBody
    html: PersonalBody
