"""Emailing the petition to its target from the admin: the cover message, the confirmation
page, one email per press of "Send" (even two at once), and what is refused."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from petitions.database import utcnow
from petitions.delivery import service
from petitions.delivery.models import PetitionDelivery
from petitions.extensions import db
from petitions.mail.models import OutboxMessage
from tests.delivery.helpers import COVER, base, confirmed, count, entries, post, text
from tests.factories import PetitionFactory


def review(client, petition, cover: str = COVER):
    return post(client, f"{base(petition)}/review", cover_message=cover)


def nonce_of(page: str) -> str:
    return re.search(r'name="nonce" type="hidden" value="([^"]+)"', page).group(1)


def send(client, petition, nonce: str, cover: str = COVER, to: str = "mayor@dc.example"):
    return post(client, f"{base(petition)}/send", cover_message=cover, target_email=to,
                nonce=nonce)


def test_review_shows_what_will_be_sent_and_sends_nothing(app, petition, admin_client):
    response = review(admin_client, petition)

    page = text(response)
    assert response.status_code == 200
    assert "It goes to mayor@dc.example now, with 4 signatures." in page
    assert "<p>Dear Mayor,</p>" in page and "<p>Please find our petition attached.</p>" in page
    assert re.fullmatch(r"[A-Za-z0-9_-]{24}", nonce_of(page))
    assert "already emailed" not in page
    assert count(PetitionDelivery) == 0 and count(OutboxMessage) == 0


@pytest.mark.parametrize(("cover", "message"), [
    ("", "Write a cover message to go with the petition."),
    ("   \n ", "Write a cover message to go with the petition."),
    ("x" * 5001, "Keep the cover message to 5000 characters or fewer."),
    ("Hello\x07there", "Please remove special characters."),
])
def test_a_missing_or_overlong_cover_message_is_refused(app, petition, admin_client, cover,
                                                         message):
    response = review(admin_client, petition, cover)

    assert response.status_code == 400
    assert message in text(response)


def test_without_the_targets_address_nothing_can_be_emailed(app, admin_client):
    petition = PetitionFactory(slug="no-address", target_email=None)
    confirmed(petition)

    response = review(admin_client, petition)

    assert response.status_code == 409
    assert "Add the target's email address first" in text(response)


def test_send_records_the_delivery_queues_one_email_and_audits_it(app, petition, admin_client):
    nonce = nonce_of(text(review(admin_client, petition)))

    response = send(admin_client, petition, nonce)

    assert response.status_code == 303
    [delivery] = db.session.scalars(select(PetitionDelivery)).all()
    assert (delivery.signature_count, delivery.target_name, delivery.target_email,
            delivery.cover_message, delivery.delivered_by_id) == (
        4, "Mayor of DC", "mayor@dc.example", COVER, admin_client.account.id)
    [row] = db.session.scalars(select(OutboxMessage)).all()
    assert (row.kind, row.to_address, row.payload, row.text_body, row.state) == (
        "petition_delivery", "mayor@dc.example", {"delivery_id": delivery.id}, None, "pending")
    assert row.subject == "Petition: Fund the library, with 4 signatures"
    assert row.message_id == delivery.message_id == f"<delivery.{nonce}@petitions.test>"
    [entry] = entries("petition_delivered")
    assert (entry.target_type, entry.target_id, entry.actor_id) == (
        "petitions", str(petition.id), admin_client.account.id)
    assert {k: entry.detail[k] for k in ("delivery_id", "to", "target_name", "signature_count")} == {
        "delivery_id": delivery.id, "to": "mayor@dc.example", "target_name": "Mayor of DC",
        "signature_count": 4}
    page = text(admin_client.get(f"{base(petition)}/"))
    assert "is on its way to mayor@dc.example" in page
    assert "Emailed to Mayor of DC (mayor@dc.example)" in page and "queued" in page


def test_pressing_send_twice_sends_one_email(app, petition, admin_client):
    nonce = nonce_of(text(review(admin_client, petition)))

    assert send(admin_client, petition, nonce).status_code == 303
    again = send(admin_client, petition, nonce)

    assert again.status_code == 303
    assert count(PetitionDelivery) == 1 and count(OutboxMessage) == 1
    assert len(entries("petition_delivered")) == 1
    page = text(admin_client.get(again.headers["Location"]))
    assert "This email was already sent (the button was pressed twice)" in page


def test_two_presses_at_once_commit_one_email(app, petition, admin_client, monkeypatch):
    """The second request did not see the first's delivery yet: the unique Message-ID
    stops it at the commit, and it answers with the first delivery."""
    nonce = nonce_of(text(review(admin_client, petition)))
    first, _ = service.email_delivery(petition, COVER, nonce, admin_client.account)
    looked_up = []

    def not_seen_first_time(value):
        looked_up.append(value)
        return None if len(looked_up) == 1 else original(value)

    original = service.delivery_by_nonce
    monkeypatch.setattr(service, "delivery_by_nonce", not_seen_first_time)

    delivery, queued = service.email_delivery(petition, COVER, nonce, admin_client.account)

    assert (delivery.id, queued) == (first.id, False)
    assert count(PetitionDelivery) == 1 and count(OutboxMessage) == 1
    assert len(entries("petition_delivered")) == 1


def test_a_second_delivery_to_the_same_address_is_warned_about(app, petition, admin_client):
    send(admin_client, petition, nonce_of(text(review(admin_client, petition))))

    page = text(review(admin_client, petition))

    assert "This petition was already emailed to this address:" in page


def test_an_address_changed_after_review_sends_nothing(app, petition, admin_client):
    nonce = nonce_of(text(review(admin_client, petition)))
    petition.target_email = "someone.else@dc.example"
    db.session.commit()

    response = send(admin_client, petition, nonce)

    assert response.status_code == 409
    assert "changed after you reviewed" in text(response)
    assert count(PetitionDelivery) == 0 and count(OutboxMessage) == 0


@pytest.mark.parametrize("nonce", ["", "short", "bad nonce with spaces!!", "x" * 65])
def test_a_send_without_a_proper_nonce_is_refused(app, petition, admin_client, nonce):
    response = send(admin_client, petition, nonce)

    assert response.status_code == 400
    assert count(PetitionDelivery) == 0 and count(OutboxMessage) == 0


def test_a_removed_petition_cannot_be_delivered(app, petition, admin_client):
    nonce = nonce_of(text(review(admin_client, petition)))
    petition.removed_at, petition.removal_reason = utcnow(), "Duplicate"
    db.session.commit()

    response = send(admin_client, petition, nonce)

    assert response.status_code == 409
    assert "has been removed" in text(response)
    assert count(OutboxMessage) == 0


def test_review_refuses_a_removed_or_empty_petition(app, petition, admin_client):
    empty = PetitionFactory(slug="empty", target_email="mayor@dc.example")
    petition.removed_at, petition.removal_reason = utcnow(), "Duplicate"
    db.session.commit()

    for refused, message in ((petition, "has been removed"), (empty, "no confirmed signatures")):
        response = review(admin_client, refused)
        assert response.status_code == 409
        assert message in text(response)
    assert count(PetitionDelivery) == 0
