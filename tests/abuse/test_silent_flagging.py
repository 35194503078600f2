"""Over a limit, blocked, or caught by a bot trap: the same answer as an accepted
signature, the signature stored flagged with its email, and never counted."""

from __future__ import annotations

import time

import pytest

from petitions.abuse.traps import started_token
from petitions.mail.models import OutboxMessage
from tests.abuse.helpers import confirm_all_and_fold, sign, stored
from tests.factories import PetitionFactory
from tests.signing.helpers import outbox


@pytest.fixture
def petition(app):
    return PetitionFactory(slug="sanctuary-city")


def _answer(response) -> tuple:
    return response.status_code, response.headers["Location"]


def test_over_the_limit_answers_exactly_like_an_accepted_signature(limits_on, client, petition):
    limits_on.config["RATELIMIT_SIGN"] = "1/minute;5/5 minutes"
    accepted = sign(client, petition.slug, email="first@example.org")
    over = sign(client, petition.slug, email="second@example.org")

    assert _answer(accepted) == _answer(over) == (303, "/petitions/sanctuary-city/check-email")
    first_page = client.get(accepted.headers["Location"]).get_data(as_text=True)
    assert client.get(over.headers["Location"]).get_data(as_text=True) == first_page
    first, second = stored(petition)
    assert (first.email, first.flagged, first.flag_reason) == ("first@example.org", False, None)
    assert (second.email, second.flagged, second.flag_reason) == (
        "second@example.org", True, "rate_limit")
    # Both get the normal confirmation email: the person over the limit may be real.
    assert [m.signature_id for m in outbox(kind="signature_confirmation")] == [first.id, second.id]
    assert confirm_all_and_fold(petition) == 1
    assert [(s.state, s.counted) for s in stored(petition)] == [
        ("confirmed", True), ("confirmed", False)]


def test_five_in_five_minutes_flags_the_sixth(limits_on, client, petition):
    limits_on.config.update(RATELIMIT_SIGN="10/minute;5/5 minutes", RATELIMIT_SIGN_IP="100/minute")
    for n in range(6):
        assert sign(client, petition.slug, email=f"s{n}@example.org").status_code == 303
    assert [s.flagged for s in stored(petition)] == [False] * 5 + [True]
    assert confirm_all_and_fold(petition) == 5


def test_the_limit_is_per_ip(limits_on, client, petition):
    sign(client, petition.slug, ip="198.51.100.1", email="a@example.org")
    sign(client, petition.slug, ip="198.51.100.2", email="b@example.org")
    sign(client, petition.slug, ip="198.51.100.1", email="c@example.org")
    assert [(s.ip_address, s.flagged) for s in stored(petition)] == [
        ("198.51.100.1", False), ("198.51.100.2", False), ("198.51.100.1", True)]


def test_one_ip_over_many_petitions_hits_the_per_ip_limit(limits_on, client):
    limits_on.config.update(RATELIMIT_SIGN="5/minute", RATELIMIT_SIGN_IP="2/minute")
    petitions = [PetitionFactory() for _ in range(3)]
    for petition in petitions:
        sign(client, petition.slug)
    assert [stored(p)[0].flag_reason for p in petitions] == [None, None, "rate_limit"]


def test_switched_off_nothing_is_flagged_not_even_without_a_timestamp(app, client, petition):
    app.config.update(RATELIMIT_ENABLED=False, MIN_FILL_SECONDS=3)
    for n in range(4):
        response = sign(client, petition.slug, drop=("form_started",), email=f"s{n}@example.org")
        assert response.status_code == 303
    assert [s.flagged for s in stored(petition)] == [False] * 4
    assert confirm_all_and_fold(petition) == 4


@pytest.mark.parametrize(("change", "reason"), [
    ({"website": "http://cheap-pills.example"}, "bot_trap"),
    ({"drop": ("form_started",)}, "bot_trap"),
    ({"form_started": "not-a-real-token"}, "bot_trap"),
    ({"min_fill": 60}, "too_fast"),
    ({"other_petition": True}, "bot_trap"),
])
def test_bot_traps_flag_silently(limits_on, client, petition, change, reason):
    change = dict(change)  # the parameter is shared by every database's run
    limits_on.config["MIN_FILL_SECONDS"] = change.pop("min_fill", 0)
    if change.pop("other_petition", False):
        change["form_started"] = started_token(petition.id + 1000)
    response = sign(client, petition.slug, **change)
    assert _answer(response) == (303, "/petitions/sanctuary-city/check-email")
    [signature] = stored(petition)
    assert (signature.flagged, signature.flag_reason) == (True, reason)
    assert len(outbox(kind="signature_confirmation")) == 1
    assert confirm_all_and_fold(petition) == 0


def test_a_person_who_takes_their_time_is_not_flagged(limits_on, client, petition, monkeypatch):
    limits_on.config["MIN_FILL_SECONDS"] = 3
    fields = {"form_started": started_token(petition.id)}
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 5)
    sign(client, petition.slug, **fields)
    assert [s.flagged for s in stored(petition)] == [False]


def test_a_later_flagged_attempt_never_flags_an_existing_signature(limits_on, client, petition):
    limits_on.config["RATELIMIT_SIGN"] = "1/minute"
    sign(client, petition.slug, email="jane@example.org")
    assert sign(client, petition.slug, email="jane@example.org").status_code == 303
    [signature] = stored(petition)
    assert (signature.flagged, signature.confirmation_sends) == (False, 2)
    assert OutboxMessage.query.filter_by(signature_id=signature.id).count() == 2
    assert confirm_all_and_fold(petition) == 1
