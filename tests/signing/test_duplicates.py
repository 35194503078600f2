"""One signature per person: re-sends, notices, their caps, and what a stranger can learn."""

import pytest
from sqlalchemy import event

from petitions.database import utcnow
from petitions.extensions import db
from petitions.mail.delivery import deliver_due
from petitions.signing.models import Signature
from petitions.signing.service import SignatureDetails, SignOutcome, sign_petition
from tests.factories import PetitionFactory, SignatureFactory
from tests.signing.helpers import outbox, sign, signatures
from tests.support.concurrency import run_concurrently

CONFIRMATION, NOTICE = "signature_confirmation", "signature_already_confirmed"


def test_gmail_address_variants_make_one_signature(client, petition):
    first = sign(client, "sanctuary-city", email="Jane.Doe+x@GoogleMail.com")
    second = sign(client, "sanctuary-city", email="janedoe@gmail.com")

    assert first.status_code == second.status_code == 303
    [signature] = signatures()
    assert signature.canonical_email == "janedoe@gmail.com"
    # The re-sent link goes to the address that signed first, never to the newcomer.
    assert [row.to_address for row in outbox(kind=CONFIRMATION)] == [signature.email] * 2


def test_same_address_on_two_petitions_makes_two_signatures(client, petition):
    PetitionFactory(slug="second-petition")
    sign(client, "sanctuary-city")
    sign(client, "second-petition")

    assert len(signatures()) == 2
    assert len(outbox(kind=CONFIRMATION)) == 2


def test_pending_signer_signing_again_gets_at_most_three_resends(client, petition, mail):
    for _ in range(6):
        assert sign(client, "sanctuary-city").status_code == 303

    [signature] = signatures()
    assert signature.state == "pending"
    assert signature.confirmation_sends == 4
    assert len(outbox(kind=CONFIRMATION)) == 4  # the first email and three re-sends
    assert deliver_due()["sent"] == 4
    assert len(mail.to("jane@example.org")) == 4


def test_confirmed_signer_signing_again_gets_at_most_three_already_signed_notices(
    client, petition, mail
):
    SignatureFactory(petition=petition, email="jane@example.org", state="confirmed",
                     confirmed_at=utcnow())

    for _ in range(5):
        assert sign(client, "sanctuary-city").status_code == 303

    [signature] = signatures()
    assert (signature.state, signature.notices_sent) == ("confirmed", 3)
    assert outbox(kind=CONFIRMATION) == []
    assert len(outbox(kind=NOTICE)) == 3
    assert deliver_due()["sent"] == 3
    assert len(mail.to("jane@example.org")) == 3


def test_sign_response_is_identical_for_new_pending_and_confirmed_addresses(client, petition):
    SignatureFactory(petition=petition, email="pending@example.org")
    SignatureFactory(petition=petition, email="confirmed@example.org", state="confirmed",
                     confirmed_at=utcnow())

    seen = []
    for address in ("new@example.org", "pending@example.org", "confirmed@example.org"):
        response = sign(client, "sanctuary-city", email=address)
        landing = client.get(response.headers["Location"])
        seen.append((response.status_code, response.headers["Location"], response.get_data(),
                     landing.status_code, landing.get_data()))

    assert seen[0][0] == 303 and seen[0][3] == 200
    assert seen[0] == seen[1] == seen[2]
    # ...while behind the scenes each address took its own path.
    assert len(signatures()) == 3
    assert sorted(row.to_address for row in outbox(kind=CONFIRMATION)) == [
        "new@example.org", "pending@example.org"]
    assert [row.to_address for row in outbox(kind=NOTICE)] == ["confirmed@example.org"]


def test_concurrent_signing_of_one_address_makes_one_signature(app, no_csrf, petition):
    spellings = ["Race.Person@gmail.com", "raceperson@gmail.com", "race.person+a@googlemail.com",
                 "RACEPERSON+b@GMAIL.COM"] * 2

    def sign_in_own_browser(address):
        return app.test_client().post("/petitions/sanctuary-city/sign", data={
            "name": "Race Person", "email": address, "postcode": "20004", "country": "US"})

    responses = run_concurrently(sign_in_own_browser, [(a,) for a in spellings])

    assert [r.status_code for r in responses] == [303] * len(spellings)
    [signature] = signatures()
    assert signature.canonical_email == "raceperson@gmail.com"
    # One first email and exactly three re-sends, however the eight requests interleaved.
    assert signature.confirmation_sends == 4
    assert len(outbox(kind=CONFIRMATION, signature_id=signature.id)) == 4


def test_sign_that_loses_the_unique_constraint_race_resends_instead_of_failing(app, petition):
    if db.engine.dialect.name == "sqlite":
        pytest.skip("SQLite transactions begin IMMEDIATE: a rival insert cannot slip in")
    details = SignatureDetails(name="Jane Doe", email="jane@example.org", postcode="20004",
                               country="US")
    petition_id = petition.id
    rivals = [1]

    def rival_commits_first(conn, cursor, statement, parameters, context, executemany):
        # Another request commits the same address just before our INSERT reaches the
        # database: the unique constraint, not a lookup, must tell us it is known.
        if not (statement.startswith("INSERT INTO signatures") and rivals):
            return
        rivals.pop()
        with db.engine.begin() as other:
            other.execute(Signature.__table__.insert().values(
                petition_id=petition_id, name="Jane Doe", email="jane@example.org",
                canonical_email="jane@example.org", postcode="20004", country="US",
                state="pending", confirmation_sends=1, confirmation_sent_at=utcnow()))

    event.listen(db.engine, "before_cursor_execute", rival_commits_first)
    try:
        with app.test_request_context():
            outcome = sign_petition(petition, details, ip="127.0.0.1")
    finally:
        if event.contains(db.engine, "before_cursor_execute", rival_commits_first):
            event.remove(db.engine, "before_cursor_execute", rival_commits_first)

    assert outcome == SignOutcome.RESENT
    [signature] = signatures()
    assert signature.confirmation_sends == 2
    assert len(outbox(kind=CONFIRMATION, signature_id=signature.id)) == 1
