"""Every kind of message we send, as the SMTP server received it, is standards-clean:
Date, Message-ID on our domain, MIME-Version, text and HTML parts, lines within 998
characters, RFC 2047 words for UTF-8 names and subjects, and the headers that say what
kind of mail it is (Auto-Submitted, Precedence, List-Id, List-Unsubscribe)."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from sqlalchemy import select

from petitions.extensions import db
from petitions.mail.delivery import deliver_due
from petitions.mail.mime import compose, quoted_printable
from petitions.mail.models import OutboxMessage
from tests.mail.every_kind import ADDRESSES, LIST_MAIL, TRANSACTIONAL, send_every_kind

SENDER = "Peticiones Ñandú <petitions@petitions.test>"
OUR_DOMAIN = "petitions.test"


def received(mail) -> dict[str, bytes]:
    return {m.to: (mail.store.folder / f"{m.id}.eml").read_bytes() for m in mail.messages}


def header_block(raw: bytes) -> bytes:
    return raw.split(b"\r\n\r\n", 1)[0]


def test_every_kind_of_message_is_standards_clean(app, mail):
    app.config["MAIL_FROM"] = SENDER
    send_every_kind(app)
    messages = received(mail)

    for kind, address in ADDRESSES.items():
        raw = messages[address]
        message = email.message_from_bytes(raw, policy=email.policy.default)
        # Only CRLF line ends, every line within RFC 5321's limit, headers in ASCII.
        assert b"\n" not in raw.replace(b"\r\n", b""), kind
        assert b"\r" not in raw.replace(b"\r\n", b""), kind
        assert max(len(line) for line in raw.split(b"\r\n")) <= 998, kind
        assert header_block(raw).isascii(), kind
        assert message.defects == [], (kind, message.defects)

        sent_at = parsedate_to_datetime(message["Date"])
        assert abs(sent_at - datetime.now(UTC)) < timedelta(minutes=5), kind
        assert re.search(r"[+-]\d{4}$", message["Date"]) and "-0000" not in message["Date"]
        assert re.fullmatch(rf"<[^<>@\s]+@{re.escape(OUR_DOMAIN)}>", message["Message-ID"]), (
            kind, message["Message-ID"])
        assert message["MIME-Version"] == "1.0", kind
        assert message.get_body(("plain",)) is not None, kind
        assert message.get_body(("html",)) is not None, kind

        [sender] = message["From"].addresses
        assert (sender.display_name, sender.addr_spec) == ("Peticiones Ñandú",
                                                            "petitions@petitions.test"), kind
        assert message["To"].addresses[0].addr_spec == address, kind

        if kind in TRANSACTIONAL:
            assert message["Auto-Submitted"] == "auto-generated", kind
            assert message["Precedence"] is None or kind == "subscription_welcome", kind
        if kind in LIST_MAIL:
            assert message["Precedence"] == "bulk", kind
            assert re.search(r"<[\w.-]+\.petitions\.test>$", message["List-Id"]), kind
            assert message["List-Unsubscribe"].startswith("<http://petitions.test/"), kind
            assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click", kind


def test_utf8_subjects_and_names_are_encoded_words_that_decode_back(app, mail):
    app.config["MAIL_FROM"] = SENDER
    send_every_kind(app)
    raw = received(mail)[ADDRESSES["signature_confirmation"]]
    message = email.message_from_bytes(raw, policy=email.policy.default)

    head = header_block(raw).decode("ascii")
    assert "=?utf-8?" in head
    assert "From: =?utf-8?" in head and "<petitions@petitions.test>" in head
    assert "Ñandú" in message["Subject"]


def test_no_tracking_pixels_or_rewritten_links(app, mail):
    send_every_kind(app)
    for raw in received(mail).values():
        html = email.message_from_bytes(raw, policy=email.policy.default) \
            .get_body(("html",)).get_content()
        assert not re.search(r"<img[^>]+(width|height)=[\"']?1[\"'\s>]", html, re.IGNORECASE)
        for link in re.findall(r'href="([^"]+)"', html):
            assert not re.search(r"/(track|click|open)\b", link), link


def test_long_lines_are_kept_within_the_limit_and_decode_unchanged():
    html = "<table style=\"" + "color: red; " * 800 + "\"><tr><td>é</td></tr></table>"
    long_header = " ".join(f"<https://petitions.test/u/{n:04}>," for n in range(60))
    raw = compose([("From", "a@petitions.test"), ("List-Unsubscribe", long_header)],
                  "text", quoted_printable(html))

    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message.get_body(("html",)).get_content().replace("\r\n", "\n") == html
    assert " ".join(str(message["List-Unsubscribe"]).split()) == long_header


def test_a_non_ascii_recipient_goes_out_with_smtputf8(app, mail, add_outbox):
    add_outbox("josé@example.net")

    assert deliver_due()["sent"] == 1
    assert mail.envelopes[0][1] == ["josé@example.net"]


def test_without_smtputf8_a_non_ascii_recipient_fails_alone_with_a_clear_reason(
        app, add_outbox, tmp_path):
    from aiosmtpd.controller import Controller

    from petitions.config import parse_smtp_url
    from tests.support.processes import free_port
    from tests.support.smtp import SmtpSink, _Handler

    sink = SmtpSink(tmp_path, port=free_port())
    controller = Controller(_Handler(sink), hostname="127.0.0.1", port=sink.port,
                            enable_SMTPUTF8=False)
    controller.start()
    app.config["SMTP"] = parse_smtp_url(sink.url)
    bad, good = add_outbox("josé@example.net", "jose@example.net")
    try:
        totals = deliver_due()
    finally:
        controller.stop()

    assert (totals["sent"], totals["failed"]) == (1, 1)
    db.session.expire_all()
    row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.id == bad.id))
    assert row.state == "failed" and "SMTPUTF8" in row.last_error
    assert [m.to for m in sink.messages] == ["jose@example.net"]
