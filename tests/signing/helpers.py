"""Helpers for the signing tests: read real HTML, sign through the real form, run threads."""

from __future__ import annotations

import re
import time
from html.parser import HTMLParser

from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select

from petitions.extensions import db
from petitions.mail.models import OutboxMessage
from petitions.signing.models import Signature
from petitions.signing.tokens import SALT, email_digest

SIGNER = {"name": "Jane Doe", "email": "jane@example.org", "postcode": "20004", "country": "US"}
CONFIRM_LINK = re.compile(r"http://petitions\.test/confirm/([A-Za-z0-9_.\-]+)")


class _Page(HTMLParser):
    def __init__(self, html: str):
        super().__init__()
        self.inputs: dict[str, dict] = {}
        self.forms: list[dict] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "input" and "name" in attributes:
            self.inputs[attributes["name"]] = attributes
        elif tag == "form":
            self.forms.append(attributes)


def inputs(html: str) -> dict[str, dict]:
    """Every named <input> on the page: name -> its attributes."""
    return _Page(html).inputs


def form_actions(html: str) -> list[str]:
    return [form.get("action", "") for form in _Page(html).forms]


def csrf_token(html: str) -> str:
    field = inputs(html).get("csrf_token")
    assert field and field.get("value"), "the page has no csrf_token hidden input"
    return field["value"]


def sign(client, slug: str, **fields):
    """GET the petition page, then POST its form (with its CSRF token) from the same client.

    `fields` override SIGNER; a value of None leaves the field out of the POST.
    """
    page = client.get(f"/petitions/{slug}")
    assert page.status_code == 200
    data = {**SIGNER, **fields, "csrf_token": csrf_token(page.get_data(as_text=True))}
    return client.post(
        f"/petitions/{slug}/sign", data={k: v for k, v in data.items() if v is not None}
    )


def confirm_token_in(text: str) -> str:
    match = CONFIRM_LINK.search(text)
    assert match, "no absolute confirmation link in the text"
    return match.group(1)


def old_token(secret_key: str, signature_id: int, canonical_email: str, days_old: float) -> str:
    """A confirmation token signed with the app's secret and salt, but `days_old` days ago."""

    class PastSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time() - days_old * 86400)

    serializer = URLSafeTimedSerializer(secret_key, salt=SALT, signer=PastSigner)
    return serializer.dumps([signature_id, email_digest(canonical_email)])


def flip_first_character(token: str) -> str:
    # Not the last character: base64's final character can carry unused bits.
    return ("B" if token[0] != "B" else "C") + token[1:]


def signatures(**where) -> list[Signature]:
    query = select(Signature).filter_by(**where).order_by(Signature.id)
    return list(db.session.scalars(query.execution_options(populate_existing=True)))


def outbox(**where) -> list[OutboxMessage]:
    query = select(OutboxMessage).filter_by(**where).order_by(OutboxMessage.id)
    return list(db.session.scalars(query.execution_options(populate_existing=True)))
