"""Rendering update outbox rows at send time (DEFERRED_KINDS["petition_update"]).

Every recipient of an update gets the same message except for their own stop link. So
each update is rendered once per worker process (Jinja, Markdown, css-inline) with a
placeholder where the link goes, as the digest does, and each copy is a substitution.
prepare() also checks each row's signature again: a signer who stopped updates, or
whose signature was invalidated, after the row was queued gets nothing.
"""

from __future__ import annotations

from types import SimpleNamespace

from flask_babel import force_locale
from sqlalchemy import select

from petitions.extensions import db
from petitions.mail.models import OutboxMessage
from petitions.mail.rendering import Content, VariantCache
from petitions.newsletter.digest_render import UNSUBSCRIBE, PersonalBody, Variant
from petitions.signing.models import Petition, Signature
from petitions.signing.translations import texts_for
from petitions.updates.content import render_bodies
from petitions.updates.links import stop_token, stop_url, update_headers
from petitions.updates.milestones import words_for_reader
from petitions.updates.models import PetitionUpdate, UpdateKind
from petitions.updates.recipients import wants_updates

CACHED_VARIANTS = 64


class UpdateRenderer:
    def __init__(self) -> None:
        self._variants = VariantCache(CACHED_VARIANTS)
        self._updates: dict[int, SimpleNamespace] = {}
        self._addresses: dict[int, str] = {}  # signature id -> canonical address
        self._texts: dict = {}

    def prepare(self, rows: list[OutboxMessage]) -> dict[int, str]:
        signature_ids = {row.signature_id for row in rows if row.signature_id is not None}
        self._addresses = dict(db.session.execute(
            select(Signature.id, Signature.canonical_email)
            .where(Signature.id.in_(signature_ids), wants_updates())
        ).all())
        update_ids = {row.payload.get("update") for row in rows}
        # Plain copies: the delivery loop commits after every message.
        self._updates = {
            u.id: SimpleNamespace(
                id=u.id, title=u.title, body=u.body, kind=u.kind, petition_id=p.id,
                petition_title=p.title, slug=p.slug, target=p.target,
                signature_count=p.signature_count, goal=p.goal,
            )
            for u, p in db.session.execute(
                select(PetitionUpdate, Petition).join(Petition)
                .where(PetitionUpdate.id.in_(update_ids))
            ).all()
        }
        # The petition's title in each row's language, where it has a translation.
        self._texts = texts_for((update.petition_id, row.payload.get("locale") or "en")
                                for row in rows
                                if (update := self._updates.get(row.payload.get("update"))))
        cancelled = {}
        for row in rows:
            if row.payload.get("update") not in self._updates:
                cancelled[row.id] = "the update was deleted"
            elif row.signature_id not in self._addresses:
                cancelled[row.id] = "stopped updates or invalidated since it was queued"
        return cancelled

    def _variant(self, update: SimpleNamespace, locale: str) -> Variant:
        translated = self._texts.get((update.petition_id, locale))
        petition_title = translated.title if translated else update.petition_title

        def make() -> Variant:
            title, body = words_for_reader(update, update, petition_title, locale)
            with force_locale(locale):
                text, html = render_bodies(
                    title=title, body=body, kind=update.kind,
                    petition_title=petition_title, slug=update.slug, stop_url=UNSUBSCRIBE,
                )
            return Variant(PersonalBody(text), PersonalBody(html))

        return self._variants.get_or_make(
            (update.id, locale, update.title, update.body, petition_title), make)

    def render(self, row: OutboxMessage) -> Content:
        update = self._updates[row.payload["update"]]
        variant = self._variant(update, row.payload.get("locale") or "en")
        token = stop_token(row.signature_id, self._addresses[row.signature_id])
        links = {UNSUBSCRIBE: stop_url(token)}
        headers = update_headers(token, update.petition_id, update.slug,
                                 automatic=update.kind != UpdateKind.MANUAL)
        return Content(
            row.subject, variant.text.fill(links), variant.html.fill(links), headers,
            encoded_text=variant.text.encode(links), encoded_html=variant.html.encode(links),
        )
