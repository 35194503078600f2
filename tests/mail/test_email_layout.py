"""Every kind of email we send, queued by the app's own senders, delivered over SMTP to the
sink and read back: a table layout with its CSS inlined, a button, no images, a plain-text
part that reads well, lines SMTP accepts, and a sentence saying why the reader gets it.

Set EMAIL_PREVIEW_DIR to keep each kind there for review: <kind>.html and <kind>.txt, the
parts as a client decodes them, and <kind>.eml, the message as it arrived.
"""

from __future__ import annotations

import html
import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from flask import current_app

from petitions.abuse.alerts import check_after_signing
from petitions.database import utcnow
from petitions.delivery import service as deliveries
from petitions.extensions import db, limiter
from petitions.mail.delivery import deliver_due
from petitions.mail.models import OutboxMessage
from petitions.newsletter.email import (
    send_already_subscribed_notice,
    send_subscription_confirmation,
    send_welcome,
)
from petitions.privacy.emails import send_privacy_link
from petitions.privacy.rights import make_token
from petitions.signing.email import send_already_signed_notice, send_signature_confirmation
from petitions.updates import sending
from tests.factories import (
    AdminUserFactory,
    CategoryFactory,
    PetitionFactory,
    SignatureFactory,
    SubscriberFactory,
)
from tests.newsletter.digest_helpers import article, run_digest
from tests.updates.helpers import draft, signer

READER = "reader@example.org"
# Long enough to need wrapping, with what HTML must escape and text must not.
TITLE = "Keep every public library in the District open seven days a week, “Parks & <Rec>” too"
LONG_WORDS = ("The Council heard us. " * 60).strip()
KINDS = ["signature_confirmation", "signature_already_confirmed", "subscription_confirmation",
         "subscription_already_active", "subscription_welcome", "privacy_link", "abuse_alert",
         "digest", "petition_update", "petition_delivery"]
# Where each kind's button goes (the digest has none: every headline is a link).
BUTTON_PATHS = {
    "signature_confirmation": "/confirm/", "signature_already_confirmed": "/petitions/",
    "subscription_confirmation": "/subscribe/confirm/",
    "subscription_already_active": "/subscription/", "subscription_welcome": "/subscription/",
    "privacy_link": "/privacy/", "abuse_alert": "/admin/access-rules/",
    "petition_update": "/petitions/", "petition_delivery": "/deliveries/",
}
WHY = "You're getting this because"
URL = re.compile(r"https?://\S+")


def _petition(**fields):
    return PetitionFactory(title=TITLE, target="Mayor of DC", target_email=READER, **fields)


def _confirmed_signer(petition, email: str):
    return signer(petition, email)  # confirmed an hour ago, wants updates


def _queue(kind: str, cover: str, update_body: str) -> None:
    """Queue one email of `kind` to READER the way the app does."""
    if kind == "digest":
        category = CategoryFactory(name="Housing & Homes")
        article(category, utcnow() - timedelta(hours=3), title=TITLE, summary=LONG_WORDS)
        SubscriberFactory(email=READER, follows=[category])
        run_digest(now=utcnow())  # plans, queues and sends
        return
    if kind == "petition_update":
        petition = _petition()
        _confirmed_signer(petition, READER)
        update = draft(petition, title="We delivered it to the Mayor", body=update_body)
        sending.publish(update)
        db.session.commit()
        sending.fan_out(update.id)
        return
    if kind == "petition_delivery":
        petition = _petition()
        _confirmed_signer(petition, "someone@example.org")
        deliveries.email_delivery(petition, cover, "N0nce-for-the-layout-test-1",
                                  AdminUserFactory())
        return
    with current_app.test_request_context():  # the senders build links with url_for
        if kind == "signature_confirmation":
            send_signature_confirmation(SignatureFactory(petition=_petition(), email=READER))
        elif kind == "signature_already_confirmed":
            send_already_signed_notice(_confirmed_signer(_petition(), READER))
        elif kind.startswith("subscription"):
            subscriber = SubscriberFactory(
                email=READER, state="pending" if kind == "subscription_confirmation" else "active",
                follows=[CategoryFactory(name="Housing & Homes")])
            {"subscription_confirmation": send_subscription_confirmation,
             "subscription_already_active": send_already_subscribed_notice,
             "subscription_welcome": send_welcome}[kind](subscriber)
        elif kind == "privacy_link":
            send_privacy_link(READER, make_token(READER), 24)
        elif kind == "abuse_alert":
            current_app.config.update(ABUSE_ALERT_IP_PER_HOUR=1, ABUSE_ALERT_DOMAIN_PER_HOUR=0)
            limiter.reset()
            AdminUserFactory(email=READER, role="admin")
            petition = _petition()
            flooder = _confirmed_signer(petition, "flood@example.org")
            flooder.ip_address = "203.0.113.77"
            db.session.commit()
            assert check_after_signing(petition, flooder.canonical_email, "203.0.113.77")
    db.session.commit()


def sent(mail, kind: str, cover: str = "Dear Mayor,\n\nHere is our petition.\n\nThe campaign",
         update_body: str = "The **Mayor** has it.\n\nThank you, all of you.") -> tuple[str, str]:
    """(text, html) of the one `kind` email READER received, as a mail client decodes them."""
    _queue(kind, cover, update_body)
    deliver_due()
    [message] = mail.to(READER)
    text = message.part("plain").replace("\r\n", "\n")
    rich = message.part("html").replace("\r\n", "\n")
    if folder := os.environ.get("EMAIL_PREVIEW_DIR"):
        Path(folder).mkdir(parents=True, exist_ok=True)
        Path(folder, f"{kind}.txt").write_text(f"Subject: {message.subject}\n\n{text}")
        Path(folder, f"{kind}.html").write_text(rich)
        Path(folder, f"{kind}.eml").write_bytes(message.message.as_bytes())
    return text, rich


@pytest.mark.parametrize("kind", KINDS)
def test_the_html_part_is_a_table_layout_with_its_css_inlined_and_nothing_fetched(app, mail, kind):
    _, rich = sent(mail, kind)

    assert "<style" not in rich.lower()
    assert rich.startswith("<!DOCTYPE html><html lang=\"en\"")
    card = re.search(r'<table class="card" role="presentation"[^>]* width="100%"[^>]*style="([^"]*)"',
                     rich)
    assert card and "max-width: 600px" in card.group(1)
    # Styles live on the elements, and the fonts are the reader's own.
    assert re.search(r'<h1 style="[^"]*font-family: Georgia', rich)
    assert "@import" not in rich and "@font-face" not in rich and "fonts.g" not in rich
    # No images at all, so no tracking pixel; links go straight to us, unrewritten.
    assert "<img" not in rich.lower()
    hosts = {re.match(r"https?://([^/]+)", link).group(1)
             for link in re.findall(r'href="([^"]+)"', rich)}
    assert hosts <= {"petitions.test", "news.example"}, hosts
    # A preview line for the inbox list, hidden in the message itself.
    preheader = re.search(r'<div class="preheader" style="([^"]*)">([^<]+)</div>', rich)
    assert preheader and "display: none" in preheader.group(1)
    # Outlook's fixed-width frame survives the inlining.
    assert '<!--[if mso]><table role="presentation" width="600"' in rich


@pytest.mark.parametrize("kind", sorted(BUTTON_PATHS))
def test_the_button_is_a_coloured_cell_whose_link_the_text_part_also_gives(app, mail, kind):
    text, rich = sent(mail, kind)

    button = re.search(r'<td class="button-cell" bgcolor="#8c1c13" style="[^"]*background-color'
                       r'[^>]*><a class="button-link" href="([^"]+)" style="([^"]*)">', rich)
    assert button, rich
    link = html.unescape(button.group(1))
    assert BUTTON_PATHS[kind] in link
    assert "display: inline-block" in button.group(2) and "color: #ffffff" in button.group(2)
    assert link in text.splitlines()  # on a line of its own


@pytest.mark.parametrize("kind", KINDS)
def test_every_email_says_why_the_reader_gets_it_in_both_parts(app, mail, kind):
    text, rich = sent(mail, kind)
    host = "petitions.test"

    signature_block = text[text.index("\n-- \n"):]
    # The sentence, wrapped over lines that end at its full stop.
    why_text = " ".join(re.search(rf"{WHY}.*?\.(?=\n|$)", signature_block, re.S).group(0).split())
    assert host in why_text
    why_html = re.search(rf"<p[^>]*>({WHY}.*?)</p>", rich)
    assert why_html and host in why_html.group(1)
    assert why_text == html.unescape(why_html.group(1))


@pytest.mark.parametrize("kind", KINDS)
def test_the_text_part_reads_well(app, mail, kind):
    text, _ = sent(mail, kind)

    for line in text.splitlines():
        # Wrapped near 72 columns; a link is never broken, so only a link goes past.
        assert len(line) <= 72 or URL.fullmatch(line.strip()), line
        assert not re.search(r"\S\s*https?://", line), f"link not on its own line: {line}"
        assert line == line.rstrip() or line == "-- ", repr(line)
    assert not re.search(r"&(#\d+|#x[0-9a-f]+|[a-z]+);", text, re.IGNORECASE), text
    assert "<" not in text.replace("<Rec>", "").replace("<team>", "")
    assert "\n-- \n" in text  # a signature block mail clients recognise
    assert "\n\n\n" not in text.strip()


@pytest.mark.parametrize("kind", ["petition_update", "petition_delivery", "digest"])
def test_no_line_reaches_smtp_limit_however_long_a_paragraph(app, mail, kind):
    """An admin's paragraph, or a cover letter, can be one line of thousands of characters."""
    long_paragraph = " ".join(f"word{n}" for n in range(1500))
    text, rich = sent(mail, kind, cover=f"Dear Mayor,\n\n{long_paragraph}",
                      update_body=long_paragraph)

    for body in (text, rich):
        assert max(len(line) for line in body.splitlines()) <= 998
    assert long_paragraph in " ".join(html.unescape(rich).split()) or kind == "digest"
    assert long_paragraph in " ".join(text.split()) or kind == "digest"


def test_the_language_of_an_email_rendered_by_the_worker_is_the_one_it_was_queued_in(
        app, mail):
    with current_app.test_request_context():
        send_signature_confirmation(SignatureFactory(petition=_petition(), email=READER))
    row = db.session.query(OutboxMessage).one()
    row.payload = {**row.payload, "locale": "es"}
    db.session.commit()

    deliver_due()

    [message] = mail.to(READER)
    assert message.part("html").startswith('<!DOCTYPE html><html lang="es"')
