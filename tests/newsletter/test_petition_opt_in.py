"""Ticking "Subscribe me to the newsletter" when signing: one email, one click."""

import pytest

from petitions.database import utcnow
from petitions.mail.delivery import deliver_due
from petitions.newsletter import opt_in
from tests.factories import CategoryFactory, PetitionFactory, SubscriberFactory
from tests.newsletter.subscription_helpers import consents, manage_token_in, subscribers
from tests.signing.helpers import (
    confirm_token_in,
    csrf_token,
    outbox,
    signatures,
)

SIGNER_IP = "198.51.100.23"
CLICK_IP = "203.0.113.40"


@pytest.fixture
def petition(app):
    return PetitionFactory(slug="sanctuary-city", title="Keep DC a sanctuary city",
                           category=CategoryFactory(name="Immigration", slug="immigration"))


def _sign_and_confirm(client, mail, **fields):
    response = client.get("/petitions/sanctuary-city")
    data = {"name": "Jane Doe", "email": "jane@example.org", "postcode": "20004",
            "country": "US", "csrf_token": csrf_token(response.get_data(as_text=True)),
            **fields}
    assert client.post("/petitions/sanctuary-city/sign", data=data,
                       environ_base={"REMOTE_ADDR": SIGNER_IP}).status_code == 303
    assert deliver_due()["sent"] == 1
    assert consents() == []  # nothing about the newsletter until the click
    assert [row.kind for row in outbox()] == ["signature_confirmation"]
    token = confirm_token_in(mail.messages[-1].part("plain"))
    page = client.get(f"/confirm/{token}").get_data(as_text=True)
    confirmed = client.post(f"/confirm/{token}", data={"csrf_token": csrf_token(page)},
                            environ_base={"REMOTE_ADDR": CLICK_IP})
    assert confirmed.status_code == 200
    return token, page


def test_ticked_box_gives_one_email_then_one_click_makes_an_active_subscriber(
    client, petition, mail
):
    _sign_and_confirm(client, mail, subscribe_newsletter="y")

    assert [m.subject for m in mail.messages] == [
        "Please confirm your signature: Keep DC a sanctuary city"]
    assert signatures()[0].state == "confirmed"
    [subscriber] = subscribers()
    assert (subscriber.email, subscriber.state, subscriber.frequency) == (
        "jane@example.org", "active", "weekly")
    assert [c.slug for c in subscriber.categories] == ["immigration"]
    assert subscriber.all_categories is False and subscriber.confirmed_at is not None

    assert deliver_due()["sent"] == 1
    welcome = mail.messages[-1]
    assert [m.message["Subject"] for m in mail.messages].count(welcome.subject) == 1
    assert "subscribed" in welcome.subject and welcome.to == "jane@example.org"
    # The text part is wrapped at 72 columns: compare the words.
    assert ("weekly email with new articles and petitions about Immigration"
            in " ".join(welcome.part("plain").split()))
    assert welcome.message["List-Id"].endswith("<newsletter.petitions.test>")
    assert client.get(f"/subscription/{manage_token_in(welcome.part('plain'))}").status_code == 200
    assert [row.kind for row in outbox()] == ["signature_confirmation", "subscription_welcome"]


def test_petition_opt_in_records_the_checkbox_text_source_and_ips(client, petition, mail):
    before = utcnow()
    _sign_and_confirm(client, mail, subscribe_newsletter="y")

    ticked, clicked = consents()
    signature = signatures()[0]
    assert (ticked.action, ticked.source, ticked.ip_address) == (
        "subscribe", "petition:sanctuary-city", SIGNER_IP)
    assert ticked.consent_text == "Subscribe me to the newsletter"
    assert ticked.created_at == signature.created_at
    assert (clicked.action, clicked.source, clicked.ip_address) == (
        "confirm", "petition:sanctuary-city", CLICK_IP)
    assert clicked.consent_text == "Subscribe me to the newsletter"
    assert before <= clicked.created_at <= utcnow()


def test_unticked_box_subscribes_nobody(client, petition, mail):
    _sign_and_confirm(client, mail)

    assert subscribers() == []
    assert [row.kind for row in outbox()] == ["signature_confirmation"]


def test_active_subscriber_gains_the_category_and_keeps_their_frequency(client, petition, mail):
    policing = CategoryFactory(name="Policing")
    SubscriberFactory(email="jane@example.org", frequency="daily", follows=[policing])

    _sign_and_confirm(client, mail, subscribe_newsletter="y")

    [subscriber] = subscribers()
    assert subscriber.frequency == "daily"
    assert [c.name for c in subscriber.categories] == ["Immigration", "Policing"]


def test_unsubscribed_supporter_is_subscribed_again_by_their_click(client, petition, mail):
    SubscriberFactory(email="jane@example.org", state="unsubscribed", frequency="daily",
                      follows=[CategoryFactory(name="Policing")], unsubscribed_at=utcnow())

    _sign_and_confirm(client, mail, subscribe_newsletter="y")

    [subscriber] = subscribers()
    assert (subscriber.state, subscriber.frequency) == ("active", "daily")
    assert [c.name for c in subscriber.categories] == ["Immigration"]


def test_confirming_the_signature_twice_sends_one_welcome(client, petition, mail):
    token, page = _sign_and_confirm(client, mail, subscribe_newsletter="y")

    client.post(f"/confirm/{token}", data={"csrf_token": csrf_token(page)})

    assert [row.kind for row in outbox()].count("subscription_welcome") == 1
    assert len(consents()) == 2


def test_a_newsletter_failure_never_breaks_the_signature_confirmation(
    client, petition, mail, monkeypatch
):
    def broken(signature):
        raise RuntimeError("newsletter is down")

    monkeypatch.setattr(opt_in, "_subscribe_from_signature", broken)

    _sign_and_confirm(client, mail, subscribe_newsletter="y")

    assert signatures()[0].state == "confirmed"
    assert subscribers() == []
