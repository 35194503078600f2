"""Subscribing again, in every state, reveals nothing and floods nobody; broken links."""

from datetime import timedelta

import pytest

from petitions.database import utcnow
from petitions.extensions import db
from petitions.mail.delivery import deliver_due
from petitions.mail.models import Suppression
from petitions.mail.suppression import is_suppressed, suppress
from petitions.newsletter.service import MAX_NOTICES, MAX_RESENDS
from petitions.newsletter.tokens import make_confirmation_token
from tests.factories import CategoryFactory, SubscriberFactory
from tests.newsletter.subscription_helpers import (
    READER,
    confirm,
    confirm_token_in,
    manage_token_in,
    old_confirmation_token,
    subscribe,
    subscribers,
)
from tests.signing.helpers import csrf_token, flip_first_character, outbox


@pytest.fixture
def category(app):
    return CategoryFactory(name="Immigration", slug="immigration")


def _make(state: str, category) -> None:
    if state == "new":
        return
    if state == "suppressed":
        suppress(READER, "hard_bounce")
        db.session.commit()
        return
    subscriber = SubscriberFactory(email=READER, state=state, follows=[category])
    if state == "unsubscribed":
        subscriber.unsubscribed_at = utcnow() - timedelta(days=1)
        subscriber.confirmation_sends = 0
        db.session.commit()


@pytest.mark.parametrize("state", ["new", "pending", "active", "unsubscribed", "suppressed"])
def test_every_address_state_gets_the_same_answer(client, category, state):
    _make(state, category)

    response = subscribe(client, categories=[category])
    page = client.get(response.headers["Location"])

    assert (response.status_code, response.headers["Location"]) == (303, "/subscribe/check-email")
    assert page.status_code == 200 and "Check your email" in page.get_data(as_text=True)
    assert len(outbox()) == 1  # each state gets exactly one email, of its own kind


def test_pending_address_is_resent_its_confirmation_at_most_three_times(client, category, mail):
    for _ in range(1 + MAX_RESENDS + 3):
        assert subscribe(client, categories=[category]).status_code == 303

    assert [row.kind for row in outbox()] == ["subscription_confirmation"] * (1 + MAX_RESENDS)
    assert subscribers()[0].confirmation_sends == 1 + MAX_RESENDS
    deliver_due()
    tokens = {confirm_token_in(m.part("plain")) for m in mail.to(READER)}
    assert confirm(client, sorted(tokens)[0]).status_code == 200  # any of them works
    assert subscribers()[0].state == "active"


def test_active_address_gets_a_capped_manage_link_notice_and_nothing_changes(
    client, category, mail
):
    SubscriberFactory(email=READER, follows=[category], frequency="daily", confirmation_sends=0)
    other = CategoryFactory(name="Policing")

    for _ in range(MAX_NOTICES + 2):
        subscribe(client, categories=[other], frequency="weekly")

    assert [row.kind for row in outbox()] == ["subscription_already_active"] * MAX_NOTICES
    [subscriber] = subscribers()
    assert (subscriber.frequency, [c.name for c in subscriber.categories]) == (
        "daily", ["Immigration"])
    deliver_due()
    notice = mail.to(READER)[0]
    assert "already subscribed" in notice.subject
    assert client.get(f"/subscription/{manage_token_in(notice.part('plain'))}").status_code == 200


def test_unsubscribed_address_comes_back_only_through_double_opt_in(client, category, mail):
    _make("unsubscribed", category)
    other = CategoryFactory(name="Policing")

    subscribe(client, categories=[other], frequency="weekly")

    [subscriber] = subscribers()
    assert subscriber.state == "unsubscribed"  # nothing is sent until they confirm
    assert [row.kind for row in outbox()] == ["subscription_confirmation"]
    deliver_due()
    assert confirm(client, confirm_token_in(mail.to(READER)[0].part("plain"))).status_code == 200
    [subscriber] = subscribers()
    assert (subscriber.state, subscriber.frequency) == ("active", "weekly")
    assert [c.name for c in subscriber.categories] == ["Policing"]
    assert subscriber.unsubscribed_at is None


def test_link_sent_before_unsubscribing_cannot_subscribe_again(app, client, category):
    subscriber = SubscriberFactory(email=READER, state="pending", follows=[category])
    token = old_confirmation_token(app.config["SECRET_KEY"], subscriber, days_old=1)
    subscriber.state, subscriber.confirmed_at = "unsubscribed", utcnow() - timedelta(hours=2)
    subscriber.unsubscribed_at = utcnow() - timedelta(hours=1)
    db.session.commit()

    response = client.get(f"/subscribe/confirm/{token}")

    assert response.status_code == 410
    assert "Subscribe again" in response.get_data(as_text=True)
    assert subscribers()[0].state == "unsubscribed"


def test_suppressed_address_gets_its_confirmation_and_confirming_lifts_the_suppression(
    client, category, mail
):
    _make("suppressed", category)

    subscribe(client, categories=[category])

    assert deliver_due()["sent"] == 1  # the new opt-in's confirmation gets through
    assert confirm(client, confirm_token_in(mail.to(READER)[0].part("plain"))).status_code == 200
    assert db.session.query(Suppression).count() == 0 and not is_suppressed(READER)
    assert deliver_due()["sent"] == 1
    assert "subscribed" in mail.messages[-1].subject


def test_active_but_bounced_address_can_prove_its_mailbox_works_again(client, category, mail):
    SubscriberFactory(email=READER, follows=[category], confirmation_sends=0)
    _make("suppressed", category)

    subscribe(client, categories=[category])
    deliver_due()

    assert confirm(client, confirm_token_in(mail.to(READER)[0].part("plain"))).status_code == 200
    assert not is_suppressed(READER)
    assert subscribers()[0].state == "active"


def test_expired_link_gets_friendly_410_on_get_and_post_and_confirms_nothing(
    app, client, category
):
    subscriber = SubscriberFactory(email=READER, state="pending", follows=[category])
    token = old_confirmation_token(app.config["SECRET_KEY"], subscriber, days_old=8)
    csrf = csrf_token(client.get("/subscribe").get_data(as_text=True))

    for response in (client.get(f"/subscribe/confirm/{token}"),
                     client.post(f"/subscribe/confirm/{token}", data={"csrf_token": csrf})):
        page = response.get_data(as_text=True)
        assert response.status_code == 410
        assert "This link has expired" in page and "/subscribe" in page
    assert subscribers()[0].state == "pending"


def test_tampered_or_garbage_link_gets_friendly_404_and_confirms_nothing(client, category):
    subscriber = SubscriberFactory(email=READER, state="pending", follows=[category])
    good = make_confirmation_token(subscriber.id, subscriber.canonical_email)
    csrf = csrf_token(client.get("/subscribe").get_data(as_text=True))

    for token in (flip_first_character(good), good[:-3], "not-a-token", "a.b.c", "x" * 500):
        for response in (client.get(f"/subscribe/confirm/{token}"),
                         client.post(f"/subscribe/confirm/{token}", data={"csrf_token": csrf})):
            page = response.get_data(as_text=True)
            assert response.status_code == 404, token
            assert "This link doesn't work" in page and "Get a new link" in page
    assert subscribers()[0].state == "pending"
