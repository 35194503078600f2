"""Manage tokens, preference-centre URLs and list headers, built without a request."""

from flask import has_request_context
from itsdangerous import URLSafeSerializer

from petitions.extensions import db
from petitions.newsletter.links import (
    SALT,
    list_headers,
    manage_token,
    manage_url,
    one_click_unsubscribe_url,
    read_manage_token,
)
from petitions.newsletter.tokens import make_confirmation_token
from tests.factories import SubscriberFactory
from tests.signing.helpers import flip_first_character


def test_manage_token_names_its_subscriber_and_needs_no_request(app):
    subscriber = SubscriberFactory()

    assert not has_request_context()
    assert read_manage_token(manage_token(subscriber)) == subscriber


def test_manage_and_unsubscribe_urls_are_absolute_from_base_url(app):
    subscriber = SubscriberFactory()
    token = manage_token(subscriber)

    assert manage_url(subscriber) == f"http://petitions.test/subscription/{token}"
    assert one_click_unsubscribe_url(subscriber) == (
        f"http://petitions.test/subscription/{token}/unsubscribe")


def test_list_headers_offer_one_click_and_mailto_unsubscribe_and_name_the_list(app):
    subscriber = SubscriberFactory()
    token = manage_token(subscriber)

    headers = list_headers(subscriber)

    assert headers["List-Unsubscribe"] == (
        f"<http://petitions.test/subscription/{token}/unsubscribe>, "
        f"<mailto:{app.config['UNSUBSCRIBE_MAILTO']}?subject=unsubscribe%20{token}>"
    )
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert headers["List-Id"].endswith(" <digest.petitions.test>")
    assert headers["Precedence"] == "bulk"
    assert list_headers(subscriber, "newsletter")["List-Id"].endswith(
        " <newsletter.petitions.test>")


def test_tampered_overlong_foreign_or_malformed_tokens_name_nobody(app):
    subscriber = SubscriberFactory()
    good = manage_token(subscriber)
    other_salt = make_confirmation_token(subscriber.id, subscriber.canonical_email)
    malformed = URLSafeSerializer(app.config["SECRET_KEY"], salt=SALT).dumps(
        {"id": subscriber.id})
    as_bool = URLSafeSerializer(app.config["SECRET_KEY"], salt=SALT).dumps([True, "x"])

    for token in (flip_first_character(good), good[:-2], good + "x" * 300, "", "a.b",
                  other_salt, malformed, as_bool):
        assert read_manage_token(token) is None, token


def test_token_dies_when_the_subscriber_is_erased_or_the_id_names_someone_else(app):
    subscriber = SubscriberFactory(email="first@example.org")
    token = manage_token(subscriber)
    subscriber_id = subscriber.id

    db.session.delete(subscriber)
    db.session.commit()
    assert read_manage_token(token) is None

    SubscriberFactory(id=subscriber_id, email="someone-else@example.org")
    assert read_manage_token(token) is None
