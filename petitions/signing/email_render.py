"""Rendering confirmation emails at send time (DEFERRED_KINDS["signature_confirmation"]).

The signing request stores a small row (petitions/signing/email.py); the worker renders
the message as it sends it, and the supporter gets what the request used to render: the
same templates, and the same link, signed with the same keys and dated when the request
made the row, so it expires as it always did. Every signer of a petition gets the same
email but for their name and their link, so each petition's email is rendered (Jinja,
then css-inline) once per worker process with placeholders, and each copy is one
substitution pass. The bytes are those of a full render: the values are escaped as
css-inline's serializer escapes the text and attributes they stand in.
"""

from __future__ import annotations

import re
import secrets
from types import SimpleNamespace
from typing import NamedTuple

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import select

from petitions.extensions import db
from petitions.mail.models import OutboxMessage
from petitions.mail.render import inline_css
from petitions.mail.rendering import Content, VariantCache
from petitions.signing.models import Petition, Signature
from petitions.signing.tokens import make_confirmation_token
from petitions.signing.translations import texts_for

KIND = "signature_confirmation"
CACHED_VARIANTS = 64
# How css-inline's serializer escapes text; a link without <, >, " or a no-break space
# (every link, but for a strange BASE_URL) escapes the same in text and in attributes.
HTML_TEXT = {"&": "&amp;", "\xa0": "&nbsp;", "<": "&lt;", ">": "&gt;"}


def _escaped(value: str, table: dict[str, str]) -> str:
    return "".join(table.get(character, character) for character in value)


class Variant(NamedTuple):
    text: str
    html: str


class ConfirmationRenderer:
    def __init__(self) -> None:
        # Random, so that no petition title or name can contain them by design or chance.
        self.name_mark = f"signer{secrets.token_hex(8)}name"
        self.link_mark = f"https://link{secrets.token_hex(8)}.invalid/confirm"
        self._fill = re.compile(f"{re.escape(self.name_mark)}|{re.escape(self.link_mark)}")
        self._variants = VariantCache(CACHED_VARIANTS)
        self._signers: dict[int, SimpleNamespace] = {}
        self._texts: dict = {}
        self._paths = current_app.url_map.bind("localhost")

    def prepare(self, rows: list[OutboxMessage]) -> dict[int, str]:
        ids = {row.signature_id for row in rows if row.signature_id is not None}
        # Plain copies: the delivery loop commits after every message.
        self._signers = {
            found.id: SimpleNamespace(
                name=found.name, canonical_email=found.canonical_email,
                anonymised=found.anonymised_at is not None,
                petition=SimpleNamespace(id=found.petition_id, slug=found.slug,
                                         title=found.title),
            )
            for found in db.session.execute(
                select(Signature.id, Signature.name, Signature.canonical_email,
                       Signature.anonymised_at, Signature.petition_id, Petition.slug,
                       Petition.title)
                .join(Petition, Petition.id == Signature.petition_id)
                .where(Signature.id.in_(sorted(ids)))
            )
        }
        # The petition's title in each row's language, where it has a translation.
        self._texts = texts_for((signer.petition.id, self._locale(row))
                                for row in rows
                                if (signer := self._signers.get(row.signature_id)))
        cancelled = {}
        for row in rows:
            signer = self._signers.get(row.signature_id)
            if signer is None:
                cancelled[row.id] = "the signature was deleted"
            elif signer.anonymised:
                cancelled[row.id] = "the signature was anonymised"
        return cancelled

    @staticmethod
    def _locale(row: OutboxMessage) -> str:
        return (row.payload or {}).get("locale") or "en"

    def _petition_in(self, petition: SimpleNamespace, locale: str) -> SimpleNamespace:
        text = self._texts.get((petition.id, locale))
        if text is None:
            return petition
        return SimpleNamespace(id=petition.id, slug=petition.slug, title=text.title)

    def _url(self, endpoint: str, **values) -> str:
        return current_app.config["BASE_URL"] + self._paths.build(endpoint, values)

    def _render(self, petition: SimpleNamespace, name: str, link: str, locale: str) -> Variant:
        context = {
            "signature": SimpleNamespace(name=name),
            "petition": petition,
            "petition_url": self._url("signing.petition", slug=petition.slug),
            "confirm_url": link,
            "base_url": current_app.config["BASE_URL"],
        }
        with force_locale(locale):
            subject = render_template(f"email/{KIND}/subject.txt", **context).strip()
            text = render_template(f"email/{KIND}/body.txt", **context)
            html = inline_css(render_template(f"email/{KIND}/body.html", subject=subject,
                                              **context))
        return Variant(text, html)

    def render(self, row: OutboxMessage) -> Content:
        signer = self._signers[row.signature_id]
        locale = self._locale(row)
        petition = self._petition_in(signer.petition, locale)
        token = make_confirmation_token(row.signature_id, signer.canonical_email,
                                        issued_at=row.payload["issued_at"])
        link = self._url("signing.confirm", token=token)
        if any(character in link for character in '<>"\xa0'):
            # Escaped differently in text and in attributes: no shared variant for it.
            variant = self._render(petition, signer.name, link, locale)
        else:
            variant = self._variants.get_or_make(
                (petition.id, petition.slug, petition.title, locale),
                lambda: self._render(petition, self.name_mark, self.link_mark, locale))
            values = {self.name_mark: signer.name, self.link_mark: link}
            html_values = {self.name_mark: _escaped(signer.name, HTML_TEXT),
                           self.link_mark: _escaped(link, HTML_TEXT)}
            variant = Variant(self._fill.sub(lambda mark: values[mark.group()], variant.text),
                              self._fill.sub(lambda mark: html_values[mark.group()], variant.html))
        return Content(row.subject, variant.text, variant.html, dict(row.headers or {}))
