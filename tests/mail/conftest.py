"""Outbox rows for the mail tests: real confirmation emails, or plain rows written directly."""

from __future__ import annotations

from email.utils import make_msgid

import pytest

from petitions.extensions import db
from petitions.mail.models import OutboxMessage
from petitions.signing.email import send_signature_confirmation
from tests.factories import SignatureFactory


@pytest.fixture
def queue_confirmation(app):
    """Queue the real confirmation email for a new pending signature; return the outbox row."""

    def queue(**signature_fields) -> OutboxMessage:
        signature = SignatureFactory(**signature_fields)
        with app.test_request_context():  # the email's links are built with url_for
            send_signature_confirmation(signature)
            db.session.commit()
        return db.session.query(OutboxMessage).filter_by(signature_id=signature.id).one()

    return queue


@pytest.fixture
def add_outbox(app):
    """Write outbox rows directly (no templates): add_outbox("a@x", "b@x", state=...)."""

    def add(*addresses: str, **fields) -> list[OutboxMessage]:
        rows = [
            OutboxMessage(
                kind="test",
                to_address=address,
                subject=f"Test message for {address}",
                text_body=f"Hello {address}, see http://petitions.test/\n",
                html_body=f"<p>Hello {address}, see <a href='http://petitions.test/'>us</a></p>",
                headers={},
                message_id=make_msgid(domain="petitions.test"),
                **fields,
            )
            for address in addresses
        ]
        db.session.add_all(rows)
        db.session.commit()
        return rows

    return add

