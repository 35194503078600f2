"""No CR or LF from a name, an address, a title or a subject ever reaches an email's headers."""

from __future__ import annotations

import email
import email.policy

import pytest
from sqlalchemy import func, select

from petitions.extensions import db
from petitions.mail import outbox
from petitions.mail.delivery import deliver_due
from petitions.mail.mime import compose, header_value
from petitions.mail.models import OutboxMessage
from petitions.signing.models import Signature
from tests.factories import PetitionFactory
from tests.signing.helpers import sign, signatures

INJECTIONS = [
    "Bob\r\nBcc: x@evil.test",
    "Bob\nBcc: x@evil.test",
    "Bob\rBcc: x@evil.test",
    "Bob\r\n\r\n<html>body takeover</html>",
    "Bob\x0bBcc: x@evil.test",
    "Bob\x0cBcc: x@evil.test",
    "Bob\x00Bcc: x@evil.test",
    "Bob\u2028Bcc: x@evil.test",
    "Bob\x85Bcc: x@evil.test",
    "Böb\r\nBcc: x@evil.test",  # non-ASCII: the RFC 2047 path
]


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    monkeypatch.setattr(outbox, "nudge_worker", lambda: True)


def header_lines(raw: bytes) -> list[bytes]:
    head = raw.split(b"\r\n\r\n", 1)[0]
    return head.split(b"\r\n")


def assert_one_clean_head(raw: bytes):
    assert b"\n" not in raw.replace(b"\r\n", b"")  # no bare CR or LF anywhere
    lines = header_lines(raw)
    names = [line.split(b":", 1)[0].lower() for line in lines if not line[:1].isspace()]
    assert b"bcc" not in names and names.count(b"to") <= 1 and names.count(b"subject") <= 1
    assert all(0x20 <= byte < 0x7f or byte == 0x09 for line in lines for byte in line)
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["Bcc"] is None and message.defects == []
    return message


@pytest.mark.parametrize("payload", INJECTIONS)
def test_compose_keeps_every_header_on_its_own_line(payload):
    raw = compose([("From", "Petitions <p@example.org>"), ("To", "ana@example.org"),
                   ("Subject", payload), ("X-Signer", payload)], "text", "<p>html</p>")

    message = assert_one_clean_head(raw)
    assert message["To"] == "ana@example.org"
    assert message["Subject"] == header_value(payload)
    assert message["Subject"].startswith(("Bob ", "Böb ")) and "\n" not in message["Subject"]


@pytest.mark.parametrize("name", ["Bcc", "X-Bad\r\nBcc", "X Bad", "", "Subject:"])
def test_compose_refuses_a_header_name_that_is_not_one(name):
    with pytest.raises(ValueError):
        compose([(name if name != "Bcc" else "B\ncc", "x")], "t", "h")


@pytest.mark.parametrize("to", ["jane@example.org\r\nBcc: x@evil.test", "jane@example.org\n",
                                "jane@example.org, x@evil.test", "Jane <jane@example.org>",
                                "jane@example.org>\r\nRCPT TO:<x@evil.test", ""])
def test_queue_email_refuses_a_recipient_that_is_not_one_address(app, to):
    petition = PetitionFactory()
    with pytest.raises(ValueError):
        outbox.queue_email("signature_already_confirmed", to,
                           {"petition": petition, "signature": None, "petition_url": "/"})
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_queue_email_cleans_extra_header_values_and_refuses_bad_names(app):
    petition = PetitionFactory()
    context = {"petition": petition, "signature": None, "petition_url": "/"}
    row = outbox.queue_email("signature_already_confirmed", "jane@example.org", context,
                             headers={"List-Id": "Updates\r\nBcc: x@evil.test <1.example.org>"})
    assert row.headers["List-Id"] == "Updates Bcc: x@evil.test <1.example.org>"
    with pytest.raises(ValueError):
        outbox.queue_email("signature_already_confirmed", "jane@example.org", context,
                           headers={"Bcc\r\nX": "x@evil.test"})
    db.session.rollback()


@pytest.mark.parametrize("payload", INJECTIONS[:4])
def test_a_signers_name_with_line_breaks_is_cleaned_and_the_email_has_no_bcc(
        client, mail, payload):
    petition = PetitionFactory(slug="sanctuary-city")

    response = sign(client, petition.slug, name=payload)

    assert response.status_code == 303
    [signature] = signatures()
    assert "\r" not in signature.name and "\n" not in signature.name
    assert signature.name.startswith("Bob")
    assert deliver_due()["sent"] == 1
    [message] = mail.messages
    assert message.to == "jane@example.org" and message.message["Bcc"] is None
    assert signature.name in message.part("plain")


@pytest.mark.parametrize("address", ["jane@example.org\r\nBcc: x@evil.test",
                                     "jane@example.org\nBcc: x@evil.test",
                                     "jane@example.org%0d%0aBcc:x@evil.test",
                                     "jane@example.org\r\nx"])
def test_an_email_address_with_line_breaks_is_refused_and_nothing_is_stored(
        client, mail, address):
    petition = PetitionFactory(slug="sanctuary-city")

    response = sign(client, petition.slug, email=address)

    assert response.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(Signature)) == 0
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_a_petition_title_with_line_breaks_cannot_add_headers_to_the_confirmation(client, mail):
    petition = PetitionFactory(slug="sanctuary-city", title="Act now\r\nBcc: x@evil.test")

    assert sign(client, petition.slug).status_code == 303
    [row] = db.session.scalars(select(OutboxMessage)).all()
    assert "\n" not in row.subject and "\r" not in row.subject
    assert deliver_due()["sent"] == 1
    [message] = mail.messages
    assert message.message["Bcc"] is None
    assert message.subject == "Please confirm your signature: Act now Bcc: x@evil.test"
