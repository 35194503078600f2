"""One-click unsubscribe (RFC 8058): a bare POST works, a GET never unsubscribes."""

import pytest

from petitions.newsletter.links import manage_token
from tests.factories import CategoryFactory, SubscriberFactory
from tests.newsletter.subscription_helpers import consents, subscribers
from tests.signing.helpers import form_actions

MAIL_CLIENT_IP = "203.0.113.99"


@pytest.fixture
def reader(app):
    subscriber = SubscriberFactory(email="reader@example.org", follows=[CategoryFactory()])
    return subscriber, manage_token(subscriber)


def test_one_click_post_without_cookies_or_csrf_unsubscribes_at_once(app, reader):
    subscriber, token = reader
    mail_client = app.test_client(use_cookies=False)

    response = mail_client.post(
        f"/subscription/{token}/unsubscribe",
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
        environ_base={"REMOTE_ADDR": MAIL_CLIENT_IP},
    )

    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert len(response.get_data()) < 200
    [subscriber] = subscribers()
    assert subscriber.state == "unsubscribed" and subscriber.unsubscribed_at is not None
    assert not subscriber.receives_digests
    [record] = consents()
    assert (record.action, record.source, record.ip_address) == (
        "unsubscribe", "one-click", MAIL_CLIENT_IP)
    assert record.consent_text


def test_one_click_twice_is_harmless(app, reader):
    subscriber, token = reader
    mail_client = app.test_client(use_cookies=False)

    for _ in range(2):
        response = mail_client.post(f"/subscription/{token}/unsubscribe",
                                    data={"List-Unsubscribe": "One-Click"})
        assert response.status_code == 200

    assert subscribers()[0].state == "unsubscribed"
    assert len(consents()) == 1


def test_get_shows_an_unsubscribe_button_and_unsubscribes_nobody(client, reader):
    subscriber, token = reader

    for _ in range(3):  # link scanners, previews, a curious click
        response = client.get(f"/subscription/{token}/unsubscribe")
        assert response.status_code == 200

    html = response.get_data(as_text=True)
    assert "Unsubscribe" in html and "reader@example.org" in html
    assert f"http://petitions.test/subscription/{token}/unsubscribe" in form_actions(html)
    assert subscribers()[0].state == "active" and consents() == []


def test_button_on_the_page_unsubscribes_and_shows_a_page(client, reader):
    subscriber, token = reader
    client.get(f"/subscription/{token}/unsubscribe")

    response = client.post(f"/subscription/{token}/unsubscribe", data={"from": "page"})

    assert response.status_code == 200
    assert "You're unsubscribed" in response.get_data(as_text=True)
    assert subscribers()[0].state == "unsubscribed"
    assert [(r.source, r.consent_text) for r in consents()] == [
        ("unsubscribe-page", "Stop sending me newsletter emails.")]


def test_unsubscribing_a_reader_who_never_confirmed_deletes_them(app):
    pending = SubscriberFactory(state="pending")
    token = manage_token(pending)

    response = app.test_client().post(f"/subscription/{token}/unsubscribe")

    assert response.status_code == 200
    assert subscribers() == []


def test_one_click_with_a_broken_token_is_a_404(app, reader):
    subscriber, token = reader

    response = app.test_client(use_cookies=False).post(f"/subscription/{token[:-2]}/unsubscribe")

    assert response.status_code == 404
    assert subscribers()[0].state == "active"
