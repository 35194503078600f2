"""Helpers for the subscription tests: subscribe through the real form, find links in mail."""

from __future__ import annotations

import re
import time

from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select

from petitions.extensions import db
from petitions.newsletter.subscribers import ConsentRecord, Subscriber
from petitions.newsletter.tokens import SALT
from petitions.signing.tokens import email_digest
from tests.signing.helpers import csrf_token

READER = "reader@example.org"
CONFIRM_LINK = re.compile(r"http://petitions\.test/subscribe/confirm/([A-Za-z0-9_.\-]+)")
MANAGE_LINK = re.compile(r"http://petitions\.test/subscription/([A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+)")


def subscribe(client, email: str = READER, categories=(), all_categories: bool = False,
              frequency: str | None = "weekly", ip: str = "127.0.0.1", **fields):
    """GET /subscribe, then POST its form with its CSRF token from the same client."""
    page = client.get("/subscribe")
    assert page.status_code == 200
    data = {
        "email": email,
        "categories": [str(getattr(c, "id", c)) for c in categories],  # or raw values
        "csrf_token": csrf_token(page.get_data(as_text=True)),
        **fields,
    }
    if frequency is not None:
        data["frequency"] = frequency
    if all_categories:
        data["all_categories"] = "y"
    return client.post("/subscribe", data=data, environ_base={"REMOTE_ADDR": ip})


def confirm_token_in(text: str) -> str:
    match = CONFIRM_LINK.search(text)
    assert match, "no absolute subscription confirmation link in the text"
    return match.group(1)


def manage_token_in(text: str) -> str:
    match = MANAGE_LINK.search(text)
    assert match, "no absolute preference-centre link in the text"
    return match.group(1)


def confirm(client, token: str, ip: str = "127.0.0.1"):
    """Open the confirmation page (changes nothing), then press its button."""
    page = client.get(f"/subscribe/confirm/{token}")
    assert page.status_code == 200, page.status_code
    return client.post(
        f"/subscribe/confirm/{token}",
        data={"csrf_token": csrf_token(page.get_data(as_text=True))},
        environ_base={"REMOTE_ADDR": ip},
    )


def subscribe_and_confirm(client, mail, **fields) -> Subscriber:
    from petitions.mail.delivery import deliver_due

    assert subscribe(client, **fields).status_code == 303
    deliver_due()
    email = fields.get("email", READER)
    token = confirm_token_in(mail.to(email)[-1].part("plain"))
    assert confirm(client, token).status_code == 200
    deliver_due()
    return subscribers()[0]


def old_confirmation_token(secret_key: str, subscriber: Subscriber, days_old: float) -> str:
    """A confirmation token signed with the app's secret and salt, `days_old` days ago."""

    class PastSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time() - days_old * 86400)

    serializer = URLSafeTimedSerializer(secret_key, salt=SALT, signer=PastSigner)
    return serializer.dumps([subscriber.id, email_digest(subscriber.canonical_email)])


def subscribers(**where) -> list[Subscriber]:
    db.session.expire_all()
    query = select(Subscriber).filter_by(**where).order_by(Subscriber.id)
    return list(db.session.scalars(query.execution_options(populate_existing=True)))


def consents(**where) -> list[ConsentRecord]:
    query = select(ConsentRecord).filter_by(**where).order_by(ConsentRecord.id)
    return list(db.session.scalars(query.execution_options(populate_existing=True)))
