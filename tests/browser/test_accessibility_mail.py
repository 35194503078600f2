"""axe-core and our rules on the dev mail catcher's pages and on the emails' HTML parts.

The emails are queued by the app's own senders (as a request would), delivered over
SMTP to the sink, and opened as /dev/mail shows their HTML part.
"""

from __future__ import annotations

import pytest
from flask import current_app

from petitions.extensions import db
from petitions.newsletter.email import send_subscription_confirmation, send_welcome
from petitions.privacy.emails import send_privacy_link
from petitions.privacy.rights import make_token
from petitions.signing.email import send_already_signed_notice, send_signature_confirmation
from tests.browser.accessibility import assert_accessible
from tests.browser.support import deliver_mail
from tests.factories import CategoryFactory, PetitionFactory, SignatureFactory, SubscriberFactory

READER = "reader@example.org"


def queue(kind: str) -> None:
    with current_app.test_request_context():  # some senders build URLs with url_for
        _queue(kind)
    db.session.commit()
    assert deliver_mail() == 1


def _queue(kind: str) -> None:
    if kind.startswith("signature"):
        signature = SignatureFactory(petition=PetitionFactory(title="Clean air for every school"),
                                     email=READER)
        sender = {"signature_confirmation": send_signature_confirmation,
                  "signature_already_confirmed": send_already_signed_notice}[kind]
        sender(signature)
    elif kind.startswith("subscription"):
        subscriber = SubscriberFactory(email=READER, state="pending",
                                       follows=[CategoryFactory(name="Housing")])
        {"subscription_confirmation": send_subscription_confirmation,
         "subscription_welcome": send_welcome}[kind](subscriber)
    else:
        send_privacy_link(READER, make_token(READER), 24)


@pytest.mark.parametrize("kind", ["signature_confirmation", "signature_already_confirmed",
                                  "subscription_confirmation", "subscription_welcome",
                                  "privacy_link"])
def test_email_html_part_is_accessible(kind, axe_page, mail):
    queue(kind)
    [message] = mail.messages
    axe_page.goto(f"/dev/mail/{message.id}/html")
    assert_accessible(axe_page, f"email-{kind.replace('_', '-')}")


def test_dev_mail_pages_are_accessible(axe_page, mail):
    queue("signature_confirmation")
    axe_page.goto("/dev/mail")
    assert_accessible(axe_page, "dev-mail-index")
    axe_page.get_by_role("link", name="Please confirm your signature").click()
    axe_page.get_by_role("heading", level=2, name="Plain text").wait_for()
    assert_accessible(axe_page, "dev-mail-message")
