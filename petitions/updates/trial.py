"""The admin's "Send a test to myself": one ordinary outbox row, marked TEST, no ledger."""

from __future__ import annotations

from email.utils import make_msgid
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _

from petitions.extensions import db
from petitions.mail.models import OutboxMessage
from petitions.mail.outbox import NUDGE_FLAG
from petitions.updates.content import MAX_SUBJECT, render_bodies, update_subject
from petitions.updates.links import list_id, stop_url
from petitions.updates.models import PetitionUpdate

KIND = "petition_update_test"
# The test copy's stop link leads to the "this link doesn't work" page: it names nobody.
EXAMPLE_TOKEN = "test"


def queue_test(update: PetitionUpdate, address: str) -> OutboxMessage:
    """Render the update now, as a signer would get it, and add one outbox row for
    `address` to the transaction. The caller commits; the worker is nudged then."""
    petition = update.petition
    text, html = render_bodies(
        title=update.title, body=update.body, kind=update.kind, petition_title=petition.title,
        slug=petition.slug, stop_url=stop_url(EXAMPLE_TOKEN), test=True,
    )
    subject = _("[TEST] %(subject)s", subject=update_subject(update.title, petition.title))
    domain = urlsplit(current_app.config["BASE_URL"]).hostname or "localhost"
    message = OutboxMessage(
        kind=KIND,
        to_address=address,
        subject=subject[:MAX_SUBJECT],
        text_body=text,
        html_body=html,
        headers={"List-Id": list_id(petition.id, petition.slug),
                 "Auto-Submitted": "auto-generated"},
        message_id=make_msgid(domain=domain),
    )
    db.session.add(message)
    db.session.info[NUDGE_FLAG] = True
    return message
