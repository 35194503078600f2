"""Rows rendered at send time (petitions.mail.rendering.queue_deferred): one INSERT with the
payload and no bodies, the same checks on the recipient and headers as queue_email, and
only for kinds that have a renderer."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from petitions.extensions import db
from petitions.mail.models import OutboxMessage
from petitions.mail.rendering import DEFERRED_KINDS, is_deferred, queue_deferred
from tests.factories import SignatureFactory


def test_a_deferred_row_carries_its_payload_and_no_bodies(app):
    signature = SignatureFactory()
    queue_deferred("signature_confirmation", signature.email, "Please confirm\r\nBcc: x",
                   {"issued_at": 1_700_000_000, "locale": "en"},
                   headers={"Auto-Submitted": "auto-generated"}, signature_id=signature.id)
    db.session.commit()

    [row] = db.session.scalars(select(OutboxMessage)).all()
    assert (row.kind, row.to_address, row.signature_id) == (
        "signature_confirmation", signature.email, signature.id)
    assert (row.text_body, row.html_body) == (None, None)
    assert row.payload == {"issued_at": 1_700_000_000, "locale": "en"}
    assert row.subject == "Please confirm Bcc: x"  # one line, whatever the caller gave
    assert (row.state, row.attempts) == ("pending", 0)
    assert row.message_id.endswith("@petitions.test>")
    assert is_deferred(row)


def test_only_kinds_with_a_renderer_can_be_deferred(app):
    assert "signature_already_confirmed" not in DEFERRED_KINDS
    with pytest.raises(ValueError, match="not rendered at send time"):
        queue_deferred("signature_already_confirmed", "jane@example.org", "Hello", {})


@pytest.mark.parametrize("address", ["jane@example.org\r\nBcc: x@evil.test", "a@b.c, d@e.f",
                                     "<jane@example.org>", ""])
def test_a_recipient_that_could_break_a_header_or_a_command_is_refused(app, address):
    with pytest.raises(ValueError):
        queue_deferred("signature_confirmation", address, "Hello", {"issued_at": 0})
    db.session.rollback()
    assert db.session.scalars(select(OutboxMessage)).all() == []
