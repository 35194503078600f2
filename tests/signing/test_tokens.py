"""Confirmation tokens: signed, expiring, bound to one signature and its address."""

import secrets

import pytest
from itsdangerous import URLSafeTimedSerializer

from petitions.extensions import db
from petitions.signing.service import ConfirmOutcome, confirm_signature, load_for_confirmation
from petitions.signing.tokens import (
    MAX_TOKEN_LENGTH,
    SALT,
    email_digest,
    make_confirmation_token,
    read_confirmation_token,
)
from tests.factories import SignatureFactory
from tests.signing.helpers import flip_first_character, old_token, signatures


def test_token_round_trip_gives_back_signature_id_and_address_digest(app):
    token = make_confirmation_token(42, "jane@example.org")

    result = read_confirmation_token(token)

    assert result.signature_id == 42
    assert result.email_digest == email_digest("jane@example.org")
    assert not result.expired
    assert result.valid


def test_token_for_a_pending_signature_lets_it_be_confirmed(app):
    signature = SignatureFactory()
    token = make_confirmation_token(signature.id, signature.canonical_email)

    assert load_for_confirmation(token).outcome == ConfirmOutcome.CONFIRMED
    assert confirm_signature(token).outcome == ConfirmOutcome.CONFIRMED
    assert signatures(id=signature.id)[0].state == "confirmed"


@pytest.mark.parametrize("where", ["payload", "signature"])
def test_tampered_token_is_invalid(app, where):
    token = make_confirmation_token(42, "jane@example.org")
    if where == "payload":
        tampered = flip_first_character(token)
    else:
        head, _, signature = token.rpartition(".")
        tampered = f"{head}.{flip_first_character(signature)}"
    assert tampered != token

    result = read_confirmation_token(tampered)

    assert result.signature_id is None
    assert not result.valid


def test_token_signed_for_another_purpose_is_invalid(app):
    # Same secret, another salt (e.g. a CSRF token): must not confirm anything.
    other = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="wtf-csrf-token")
    token = other.dumps([42, email_digest("jane@example.org")])

    assert not read_confirmation_token(token).valid


@pytest.mark.parametrize("payload", ["42", [42], [42, 7], ["42", "abc"], {"id": 42}])
def test_token_with_a_malformed_payload_is_invalid_even_when_signed(app, payload):
    serializer = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=SALT)

    result = read_confirmation_token(serializer.dumps(payload))

    assert result.signature_id is None


def test_expired_token_is_recognised_as_expired_for_its_signature(app):
    token = old_token(app.config["SECRET_KEY"], 42, "jane@example.org", days_old=8)

    result = read_confirmation_token(token)

    assert result.expired
    assert not result.valid
    # The id survives so the page can offer that petition's "sign again" link.
    assert result.signature_id == 42
    assert result.email_digest == email_digest("jane@example.org")


def test_token_lifetime_follows_confirmation_max_age_days(app):
    token = old_token(app.config["SECRET_KEY"], 42, "jane@example.org", days_old=3)
    assert read_confirmation_token(token).valid

    app.config["CONFIRMATION_MAX_AGE_DAYS"] = 2

    assert read_confirmation_token(token).expired


def test_expired_token_cannot_confirm_a_pending_signature(app):
    signature = SignatureFactory()
    token = old_token(app.config["SECRET_KEY"], signature.id, signature.canonical_email, 8)

    assert load_for_confirmation(token).outcome == ConfirmOutcome.EXPIRED
    assert confirm_signature(token).outcome == ConfirmOutcome.EXPIRED
    assert signatures(id=signature.id)[0].state == "pending"


def test_overlong_token_is_rejected_even_when_validly_signed(app):
    serializer = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=SALT)
    short = serializer.dumps([42, "a" * 12])
    long = serializer.dumps([42, secrets.token_hex(MAX_TOKEN_LENGTH)])  # incompressible
    assert read_confirmation_token(short).signature_id == 42  # the serializer is right

    assert len(long) > MAX_TOKEN_LENGTH
    assert read_confirmation_token(long).signature_id is None


def test_token_no_longer_confirms_once_the_signature_address_changed(app):
    signature = SignatureFactory(email="jane@example.org")
    token = make_confirmation_token(signature.id, signature.canonical_email)
    signature.email = signature.canonical_email = "mallory@example.org"
    db.session.commit()

    assert load_for_confirmation(token).outcome == ConfirmOutcome.INVALID
    assert confirm_signature(token).outcome == ConfirmOutcome.INVALID
    assert signatures(id=signature.id)[0].state == "pending"


def test_token_for_a_deleted_signature_confirms_nothing(app):
    signature = SignatureFactory()
    token = make_confirmation_token(signature.id, signature.canonical_email)
    db.session.delete(signature)
    db.session.commit()

    assert confirm_signature(token).outcome == ConfirmOutcome.INVALID
    assert signatures() == []


def test_token_naming_another_signatures_id_with_a_different_address_is_invalid(app):
    mine = SignatureFactory(email="jane@example.org")
    theirs = SignatureFactory(petition=mine.petition, email="bob@example.org")
    forged = make_confirmation_token(theirs.id, mine.canonical_email)

    assert confirm_signature(forged).outcome == ConfirmOutcome.INVALID
    assert {s.state for s in signatures()} == {"pending"}
