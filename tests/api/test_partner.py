"""The partner signature API: key auth, per-key limits, the double opt-in, validations."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from petitions.abuse.models import AccessRule
from petitions.api.keys import create_key
from petitions.api.models import ApiKey
from petitions.database import utcnow
from petitions.extensions import db, limiter
from petitions.mail.delivery import deliver_due
from petitions.signing.models import Signature
from tests.factories import PetitionFactory, SignatureFactory
from tests.signing.helpers import confirm_token_in, csrf_token, signatures

SIGNER = {"name": "Jane Doe", "email": "jane@example.org", "postcode": "20004", "country": "US"}
SINCE = "2000-01-01T00:00:00Z"


def make_key(scope: str = "partner", rate_limit: str | None = None) -> tuple[ApiKey, str]:
    key, secret = create_key("Partner site", scope, rate_limit)
    db.session.commit()
    return key, secret


@pytest.fixture
def partner(app):
    key, secret = make_key()
    key.secret = secret
    return key


@pytest.fixture
def petition(app):
    return PetitionFactory(slug="sanctuary-city")


def auth(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def submit(client, secret: str, slug: str = "sanctuary-city", **fields):
    body = {**SIGNER, **fields}
    return client.post(f"/api/v1/petitions/{slug}/signatures", json=body, headers=auth(secret))


def validations(client, secret: str, since: str = SINCE, **params):
    return client.get("/api/v1/signatures/validations",
                      query_string={"since": since, **params}, headers=auth(secret))


def confirm(client, mail) -> None:
    assert deliver_due()["sent"] >= 1
    token = confirm_token_in(mail.messages[-1].part("plain"))
    page = client.get(f"/confirm/{token}").get_data(as_text=True)
    assert client.post(f"/confirm/{token}", data={"csrf_token": csrf_token(page)}).status_code == 200


# --- keys ---------------------------------------------------------------------------------

@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Bearer wrong", "Basic abc"],
                         ids=repr)
def test_missing_or_wrong_key_is_401_json_with_www_authenticate(client, petition, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    for response in (client.post("/api/v1/petitions/sanctuary-city/signatures", json=SIGNER,
                                 headers=headers),
                     client.get(f"/api/v1/signatures/validations?since={SINCE}", headers=headers)):
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert response.get_json()["error"]["code"] == "unauthorized"
    assert signatures() == []


def test_revoked_key_is_401(client, petition, partner):
    partner.revoked_at = utcnow()
    db.session.commit()

    response = submit(client, partner.secret)

    assert response.status_code == 401 and response.get_json()["error"]["code"] == "unauthorized"
    assert signatures() == []


def test_articles_key_is_403_on_the_partner_api_and_partner_key_403_on_articles(client, petition):
    _, articles_secret = make_key("articles")
    _, partner_secret = make_key("partner")

    response = submit(client, articles_secret)
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "forbidden"
    assert client.post("/api/articles", json={}, headers=auth(partner_secret)).status_code == 403
    assert signatures() == []


# --- signing ------------------------------------------------------------------------------

def test_partner_signature_goes_through_double_opt_in_and_shows_in_validations(
        client, petition, partner, mail):
    response = submit(client, partner.secret, show_name_publicly=True, email_updates=True)

    assert response.status_code == 202
    body = response.get_json()
    assert body["status"] == "pending_confirmation" and body["id"].startswith("sub_")
    [signature] = signatures()
    assert (signature.state, signature.api_key_id, signature.email_updates) == (
        "pending", partner.id, True)
    assert signature.ip_address == "127.0.0.1"
    assert validations(client, partner.secret).get_json() == {"validations": [],
                                                              "next_cursor": None}

    confirm(client, mail)

    listed = validations(client, partner.secret)
    assert listed.status_code == 200
    [entry] = listed.get_json()["validations"]
    assert entry["id"] == body["id"] and entry["petition"] == "sanctuary-city"
    assert set(entry) == {"id", "petition", "confirmed_at"}
    text = listed.get_data(as_text=True)
    for personal in ("jane", "Jane", "20004", "127.0.0.1", str(signature.id) + ","):
        assert personal not in text
    later = (utcnow() + timedelta(minutes=1)).isoformat()
    assert validations(client, partner.secret, since=later).get_json()["validations"] == []


def test_same_answer_whether_or_not_the_address_had_signed(client, petition, partner):
    SignatureFactory(petition=petition, email="known@example.org", state="confirmed",
                     confirmed_at=utcnow())

    known = submit(client, partner.secret, email="known@example.org")
    new = submit(client, partner.secret, email="new@example.org")
    again = submit(client, partner.secret, email="new@example.org")

    assert known.status_code == new.status_code == 202
    assert set(known.get_json()) == set(new.get_json()) == {"status", "id"}
    assert known.get_json()["status"] == new.get_json()["status"] == "pending_confirmation"
    assert again.get_json()["id"] == new.get_json()["id"]
    # The known signature is not claimed by the key, so it never shows in its validations.
    assert db.session.scalar(select(Signature.api_key_id).where(
        Signature.email == "known@example.org")) is None
    assert validations(client, partner.secret).get_json()["validations"] == []


def test_ids_differ_between_keys_and_reveal_nothing_sequential(client, petition, partner):
    _, other = make_key()
    first = submit(client, partner.secret, email="a@example.org").get_json()["id"]
    second = submit(client, partner.secret, email="b@example.org").get_json()["id"]
    seen_by_other = submit(client, other, email="a@example.org").get_json()["id"]

    assert len({first, second, seen_by_other}) == 3


def test_invalid_fields_are_listed_each(client, petition, partner):
    response = submit(client, partner.secret, name="", email="not-an-email", postcode="??",
                      country="XX", show_name_publicly="yes", comment=5)

    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid_request"
    assert set(error["fields"]) == {"name", "email", "postcode", "country",
                                    "show_name_publicly", "comment"}
    assert all(isinstance(m, str) for ms in error["fields"].values() for m in ms)
    assert signatures() == []


@pytest.mark.parametrize("body", [b"", b"{", b"[]", b'"text"', b"[" * 5000])
def test_malformed_body_is_400(client, petition, partner, body):
    response = client.post("/api/v1/petitions/sanctuary-city/signatures", data=body,
                           content_type="application/json", headers=auth(partner.secret))

    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_request"


def test_unknown_hidden_removed_and_closed_petitions(client, partner):
    PetitionFactory(slug="hidden", hidden=True)
    PetitionFactory(slug="draft", state="draft")
    PetitionFactory(slug="removed", removed_at=utcnow(), removal_reason="Duplicate petition")
    PetitionFactory(slug="closed", state="closed")
    PetitionFactory(slug="past", closes_at=utcnow() - timedelta(days=1))

    for slug in ("nope", "hidden", "draft"):
        response = submit(client, partner.secret, slug=slug)
        assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"
    gone = submit(client, partner.secret, slug="removed")
    assert gone.status_code == 410 and gone.get_json()["error"]["code"] == "gone"
    assert "Duplicate petition" in gone.get_json()["error"]["message"]
    for slug in ("closed", "past"):
        response = submit(client, partner.secret, slug=slug)
        assert response.status_code == 409 and response.get_json()["error"]["code"] == "conflict"
    assert signatures() == []


def test_blocked_addresses_are_stored_flagged_with_the_same_answer(client, petition, partner):
    db.session.add(AccessRule(kind="email_domain", pattern="spam.example", action="block"))
    db.session.commit()

    response = submit(client, partner.secret, email="bot@spam.example")

    assert response.status_code == 202 and response.get_json()["status"] == "pending_confirmation"
    [signature] = signatures()
    assert (signature.flagged, signature.flag_reason) == (True, "blocked")


# --- validations --------------------------------------------------------------------------

def test_validations_only_list_this_keys_confirmed_signatures_paginated(client, petition, partner):
    other, _ = make_key()
    now = utcnow()
    mine = [SignatureFactory(petition=petition, api_key_id=partner.id, state="confirmed",
                             confirmed_at=now - timedelta(minutes=n)) for n in range(5)]
    SignatureFactory(petition=petition, api_key_id=partner.id)  # pending
    SignatureFactory(petition=petition, api_key_id=partner.id, state="confirmed",
                     confirmed_at=now, flagged=True, flag_reason="blocked")
    SignatureFactory(petition=petition, api_key_id=other.id, state="confirmed", confirmed_at=now)
    SignatureFactory(petition=petition, state="confirmed", confirmed_at=now)

    ids, cursor = [], None
    for _page in range(3):
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = validations(client, partner.secret, **params).get_json()
        ids += [entry["id"] for entry in body["validations"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break

    from petitions.api.partner import submission_id

    assert ids == [submission_id(partner, s.id) for s in reversed(mine)]
    assert cursor is None


@pytest.mark.parametrize("params", [{}, {"since": "yesterday"}, {"since": SINCE, "limit": 0},
                                    {"since": SINCE, "limit": 1001},
                                    {"since": SINCE, "limit": "x"},
                                    {"since": SINCE, "cursor": "!!"},
                                    {"since": "2025-01-01T00:00:00\x00"},
                                    {"since": "0001-01-01T00:00:00+01:00"}], ids=repr)
def test_bad_validation_parameters_are_400_naming_the_parameter(client, partner, params):
    response = client.get("/api/v1/signatures/validations", query_string=params,
                          headers=auth(partner.secret))

    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid_request" and error["fields"]


# --- rate limits --------------------------------------------------------------------------

@pytest.fixture
def limits_on(app):
    app.config.update(RATELIMIT_ENABLED=True, MIN_FILL_SECONDS=0)
    limiter.reset()
    yield app
    limiter.reset()


def test_each_key_has_its_own_rate_limit_counted_per_key_not_per_ip(client, petition, limits_on):
    _, slow = make_key(rate_limit="2/minute")
    _, other = make_key(rate_limit="2/minute")

    answers = [submit(client, slow, email=f"s{n}@example.org").status_code for n in range(3)]
    # The same address, another key: its own allowance.
    other_answers = [validations(client, other).status_code for _n in range(2)]
    from_elsewhere = client.get(f"/api/v1/signatures/validations?since={SINCE}",
                                headers=auth(slow), environ_base={"REMOTE_ADDR": "203.0.113.9"})

    assert answers == [202, 202, 429]
    assert other_answers == [200, 200]
    assert from_elsewhere.status_code == 429
    assert from_elsewhere.get_json()["error"]["code"] == "rate_limited"
    assert 1 <= int(from_elsewhere.headers["Retry-After"]) <= 61
    assert len(signatures()) == 2


def test_wrong_keys_are_limited_per_ip(client, petition, limits_on):
    limits_on.config["RATELIMIT_API"] = "3/minute"

    codes = [submit(client, "wrong-key").status_code for _n in range(4)]

    assert codes == [401, 401, 401, 429]
