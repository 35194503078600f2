"""Suppression: the bounce webhook and `flask mail suppress` / `unsuppress`."""

import pytest
from sqlalchemy import select

from petitions.extensions import db
from petitions.mail.models import Suppression
from petitions.mail.suppression import is_suppressed
from tests.factories import SubscriberFactory
from tests.newsletter.subscription_helpers import consents, subscribers

TOKEN = "bounce-token-" + "x" * 20


@pytest.fixture
def webhook(app):
    app.config["BOUNCE_WEBHOOK_TOKEN"] = TOKEN
    client = app.test_client(use_cookies=False)

    def post(body=None, token: str | None = TOKEN, **kwargs):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if body is not None:
            kwargs["json"] = body
        return client.post("/webhooks/bounce", headers=headers, **kwargs)

    return post


def suppressions() -> list[tuple[str, str]]:
    db.session.expire_all()
    rows = db.session.scalars(select(Suppression).order_by(Suppression.id))
    return [(row.canonical_email, row.reason) for row in rows]


def test_webhook_does_not_exist_without_its_setting(app):
    app.config["BOUNCE_WEBHOOK_TOKEN"] = None

    response = app.test_client().post(
        "/webhooks/bounce", json={"email": "a@example.org", "type": "hard_bounce"},
        headers={"Authorization": "Bearer anything"})

    assert response.status_code == 404
    assert suppressions() == []


@pytest.mark.parametrize("token", [None, "wrong-token-" + "y" * 20, TOKEN[:-1]])
def test_webhook_refuses_a_missing_or_wrong_token_with_401(webhook, token):
    response = webhook({"email": "a@example.org", "type": "hard_bounce"}, token=token)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert suppressions() == []


def test_hard_bounce_suppresses_the_canonical_address_and_keeps_the_subscription(webhook):
    SubscriberFactory(email="Jane.Doe@gmail.com")

    response = webhook({"email": "jane.doe+news@GoogleMail.com", "type": "hard_bounce",
                        "detail": "550 5.1.1 no such user"})

    assert response.status_code == 200
    assert response.get_json()["suppressed"] == 1
    assert suppressions() == [("janedoe@gmail.com", "hard_bounce")]
    assert is_suppressed("Jane.Doe@gmail.com")
    assert subscribers()[0].state == "active"  # delivery skips it; a new opt-in lifts it


def test_complaint_suppresses_and_unsubscribes(webhook):
    SubscriberFactory(email="reader@example.org")

    response = webhook({"email": "reader@example.org", "type": "complaint"})

    assert response.status_code == 200
    assert response.get_json()["unsubscribed"] == 1
    assert suppressions() == [("reader@example.org", "complaint")]
    assert subscribers()[0].state == "unsubscribed"
    assert [(r.action, r.source) for r in consents()] == [("unsubscribe", "complaint")]


def test_reports_are_idempotent_and_a_list_is_counted_including_soft_bounces(webhook):
    body = [
        {"email": "a@example.org", "type": "hard_bounce"},
        {"email": "A@example.org", "type": "complaint"},
        {"email": "b@example.org", "type": "soft_bounce", "detail": "mailbox full"},
    ]

    first = webhook(body).get_json()
    second = webhook(body).get_json()

    assert first == {"received": 3, "suppressed": 1, "already_suppressed": 1,
                     "unsubscribed": 0, "ignored": 1}
    assert second == {"received": 3, "suppressed": 0, "already_suppressed": 2,
                      "unsubscribed": 0, "ignored": 1}
    assert suppressions() == [("a@example.org", "hard_bounce")]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"data": "{not json", "content_type": "application/json"},
        {"data": "email=a@example.org", "content_type": "application/x-www-form-urlencoded"},
        {"body": "a@example.org"},
        {"body": {"email": "a@example.org"}},
        {"body": {"email": "a@example.org", "type": "bounced"}},
        {"body": {"email": "not-an-address", "type": "hard_bounce"}},
        {"body": {"email": ["a@example.org"], "type": "hard_bounce"}},
        {"body": {"email": "a\x00@example.org", "type": "hard_bounce"}},
        {"body": [{"email": "a@example.org", "type": "hard_bounce"}, 7]},
        {"body": {"email": "a@example.org", "type": "hard_bounce", "detail": {"x": 1}}},
    ],
)
def test_bad_bodies_are_a_400_and_store_nothing(webhook, kwargs):
    response = webhook(kwargs.pop("body", None), **kwargs)

    assert response.status_code == 400
    assert response.is_json and response.get_json()["error"]
    assert suppressions() == []


def test_detail_with_a_nul_character_is_stored_without_it(webhook):
    response = webhook({"email": "a@example.org", "type": "hard_bounce", "detail": "5.1.1\x00x"})

    assert response.status_code == 200
    assert db.session.scalar(select(Suppression.detail)) == "5.1.1x"


def test_flask_mail_suppress_and_unsuppress(runner):
    SubscriberFactory(email="reader@example.org")

    added = runner.invoke(args=["mail", "suppress", "Reader+x@example.org"])
    again = runner.invoke(args=["mail", "suppress", "reader@example.org", "--reason", "complaint"])

    assert added.exit_code == 0 and "Suppressed" in added.output
    assert again.exit_code == 0 and "already suppressed" in again.output
    assert suppressions() == [("reader@example.org", "manual")]
    assert subscribers()[0].state == "unsubscribed"  # a complaint also unsubscribes

    removed = runner.invoke(args=["mail", "unsuppress", "reader@example.org"])
    assert removed.exit_code == 0 and "can be mailed again" in removed.output
    assert suppressions() == []
    assert "was not suppressed" in runner.invoke(
        args=["mail", "unsuppress", "reader@example.org"]).output


def test_flask_mail_suppress_refuses_a_bad_address_or_reason(runner):
    bad_address = runner.invoke(args=["mail", "suppress", "nobody"])
    bad_reason = runner.invoke(args=["mail", "suppress", "a@example.org", "--reason", "spite"])

    assert bad_address.exit_code == 2 and bad_reason.exit_code == 2
    assert suppressions() == []
