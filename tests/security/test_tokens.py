"""Tokens are single-purpose, expire where they should, resist tampering and replay, and
survive a SECRET_KEY rotation through SECRET_KEY_FALLBACKS."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from itsdangerous import Signer, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select

from petitions.delivery import links as delivery_links
from petitions.delivery.models import PetitionDelivery
from petitions.extensions import db
from petitions.newsletter import links as newsletter_links
from petitions.newsletter import tokens as subscription_tokens
from petitions.newsletter.subscribers import Subscriber
from petitions.signing import tokens as signature_tokens
from petitions.signing.models import Signature
from petitions.tokens import email_digest, secret_keys
from petitions.updates import links as update_links
from tests.factories import PetitionFactory, SignatureFactory, SubscriberFactory
from tests.signing.helpers import flip_first_character

OLD_KEY = "the-key-we-used-before-rotation-" + "o" * 16
EMAIL = "jane@example.org"


@dataclass
class Purpose:
    name: str
    path: Callable[[str], str]
    make: Callable[[], str]
    read_ok: Callable[[str], bool]


@pytest.fixture
def rows(app):
    """One row per purpose; the signature and the subscriber share an id and an address,
    so only the salt tells their tokens apart."""
    petition = PetitionFactory(slug="sanctuary-city")
    signature = SignatureFactory(petition=petition, email=EMAIL)
    subscriber = SubscriberFactory(email=EMAIL, state="pending", confirmed_at=None)
    delivery = PetitionDelivery(petition=petition, signature_count=0, target_name="Mayor")
    db.session.add(delivery)
    db.session.commit()
    return signature, subscriber, delivery


def purposes(signature, subscriber, delivery) -> list[Purpose]:
    return [
        Purpose("signature confirmation", lambda t: f"/confirm/{t}",
                lambda: signature_tokens.make_confirmation_token(signature.id, EMAIL),
                lambda t: signature_tokens.read_confirmation_token(t).signature_id == signature.id),
        Purpose("subscription confirmation", lambda t: f"/subscribe/confirm/{t}",
                lambda: subscription_tokens.make_confirmation_token(subscriber.id, EMAIL),
                lambda t: subscription_tokens.read_confirmation_token(t).subscriber_id
                == subscriber.id),
        Purpose("preference centre", lambda t: f"/subscription/{t}",
                lambda: newsletter_links.manage_token(subscriber),
                lambda t: newsletter_links.read_manage_token(t) is not None),
        Purpose("updates stop", lambda t: f"/updates/stop/{t}",
                lambda: update_links.stop_token(signature.id, EMAIL),
                lambda t: update_links.read_stop_token(t) is not None),
        Purpose("delivery pack", lambda t: f"/deliveries/{t}.pdf",
                lambda: delivery_links.pack_token(delivery),
                lambda t: delivery_links.read_pack_token(t).delivery is not None),
    ]


def snapshot() -> list[tuple]:
    db.session.expire_all()
    return ([(s.id, s.state, s.confirmed_at) for s in db.session.scalars(select(Signature))]
            + [(s.id, s.state, s.confirmed_at) for s in db.session.scalars(select(Subscriber))])


def test_a_token_works_for_its_own_purpose_and_no_other(app, client, rows):
    kinds = purposes(*rows)
    before = snapshot()
    for maker in kinds:
        token = maker.make()
        assert maker.read_ok(token), maker.name
        for reader in kinds:
            if reader is maker:
                continue
            assert not reader.read_ok(token), f"a {maker.name} token opened {reader.name}"
            response = client.get(reader.path(token))
            assert response.status_code == 404, (maker.name, reader.name, response.status_code)
            assert client.post(reader.path(token)).status_code in (400, 404, 405)
    assert snapshot() == before


def test_the_same_payload_under_another_salt_is_refused(app, rows):
    signature, subscriber, _ = rows
    # A subscription token carries exactly what a signature token carries (same id, same
    # address); only the salt differs.
    forged = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="subscription-confirmation")
    token = forged.dumps([signature.id, email_digest(EMAIL)])

    assert not signature_tokens.read_confirmation_token(token).valid
    value = f"{subscriber.id}-{email_digest(EMAIL)}"
    as_stop_link = Signer(app.config["SECRET_KEY"], salt=update_links.SALT)
    assert newsletter_links.read_manage_token(as_stop_link.sign(value).decode()) is None


@pytest.mark.parametrize("mangle", [
    flip_first_character,
    lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
    lambda t: t + "x",
    lambda t: t[: len(t) // 2],
    lambda t: "x" * 5000,
    lambda t: t.replace(".", "%00."),
    lambda t: "é" + t,
])
def test_tampered_tokens_give_404_and_change_nothing(app, client, rows, mangle):
    before = snapshot()
    for purpose in purposes(*rows):
        token = mangle(purpose.make())
        assert not purpose.read_ok(token), purpose.name
        # 404 ("this link is broken"); 400 for a NUL, refused before any page sees it.
        assert client.get(purpose.path(token)).status_code in (400, 404), purpose.name
        assert client.post(purpose.path(token)).status_code in (400, 404, 405), purpose.name
    assert snapshot() == before


def _signed_days_ago(secret_key, salt: str, payload, days: float) -> str:
    class PastSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time() - days * 86400)

    return URLSafeTimedSerializer(secret_key, salt=salt, signer=PastSigner).dumps(payload)


def test_expired_confirmation_and_delivery_links_give_410_and_change_nothing(app, client, rows):
    signature, subscriber, delivery = rows
    key = app.config["SECRET_KEY"]
    before = snapshot()
    expired = {
        "/confirm/{}": _signed_days_ago(key, signature_tokens.SALT,
                                          [signature.id, email_digest(EMAIL)], 8),
        "/subscribe/confirm/{}": _signed_days_ago(key, subscription_tokens.SALT,
                                                  [subscriber.id, email_digest(EMAIL)], 8),
        "/deliveries/{}.pdf": _signed_days_ago(
            key, delivery_links.SALT,
            [delivery.id, delivery.delivered_at.strftime("%Y%m%d%H%M%S%f")], 91),
    }
    for path, token in expired.items():
        assert client.get(path.format(token)).status_code == 410, path
    assert client.post(f"/confirm/{expired['/confirm/{}']}").status_code in (400, 410)
    assert snapshot() == before


def test_a_confirmation_link_replayed_confirms_once(app, client, no_csrf, rows):
    signature, *_ = rows
    token = signature_tokens.make_confirmation_token(signature.id, EMAIL)

    first = client.post(f"/confirm/{token}")
    db.session.expire_all()
    confirmed_at = db.session.get(Signature, signature.id).confirmed_at
    second = client.post(f"/confirm/{token}")

    assert (first.status_code, second.status_code) == (200, 200)
    db.session.expire_all()
    again = db.session.get(Signature, signature.id)
    assert again.state == "confirmed" and again.confirmed_at == confirmed_at


def test_secret_keys_put_the_current_key_last(app):
    app.config["SECRET_KEY_FALLBACKS"] = [OLD_KEY, " "]
    assert secret_keys() == (OLD_KEY, app.config["SECRET_KEY"])
    app.config["SECRET_KEY_FALLBACKS"] = f"{OLD_KEY}, other-old-key"
    assert secret_keys() == (OLD_KEY, "other-old-key", app.config["SECRET_KEY"])


ROTATING = ["signature confirmation", "subscription confirmation", "preference centre",
            "updates stop", "delivery pack"]


@pytest.mark.parametrize("name", ROTATING)
def test_a_token_signed_with_the_old_key_still_works_after_rotation(app, client, rows, name):
    new_key = app.config["SECRET_KEY"]
    app.config["SECRET_KEY"] = OLD_KEY
    purpose = next(p for p in purposes(*rows) if p.name == name)
    old_token = purpose.make()
    app.config["SECRET_KEY"] = new_key

    assert not purpose.read_ok(old_token)  # rotated without a fallback: refused

    app.config["SECRET_KEY_FALLBACKS"] = [OLD_KEY]
    assert purpose.read_ok(old_token)
    new_token = purpose.make()
    assert new_token != old_token  # new tokens are signed with the new key
    app.config["SECRET_KEY_FALLBACKS"] = []
    assert purpose.read_ok(new_token) and not purpose.read_ok(old_token)
