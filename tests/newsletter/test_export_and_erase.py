"""Downloading everything we hold, and erasing it, from the preference centre."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from petitions.database import utcnow
from petitions.extensions import db
from petitions.mail.delivery import deliver_due
from petitions.mail.models import OutboxMessage
from petitions.newsletter.digest_models import DigestDelivery, DigestRun
from petitions.newsletter.subscribers import ConsentRecord, Subscriber, subscriber_categories
from tests.factories import CategoryFactory
from tests.newsletter.subscription_helpers import (
    READER,
    manage_token_in,
    subscribe_and_confirm,
)
from tests.signing.helpers import csrf_token, form_actions


@pytest.fixture
def reader(client, mail):
    """A subscriber made through the real form, with one digest in the ledger."""
    category = CategoryFactory(name="Immigration", slug="immigration")
    subscriber = subscribe_and_confirm(client, mail, categories=[category], frequency="daily",
                                       ip="192.0.2.55")
    token = manage_token_in(mail.to(READER)[-1].part("plain"))
    run = DigestRun(frequency="daily", period_key="2026-11-29", cutoff=utcnow())
    db.session.add(run)
    db.session.flush()
    db.session.add(DigestDelivery(run_id=run.id, subscriber_id=subscriber.id,
                                  since=utcnow() - timedelta(days=1), article_count=4))
    db.session.commit()
    return subscriber, token


def test_export_is_a_json_attachment_of_everything_we_hold(client, reader):
    subscriber, token = reader

    response = client.get(f"/subscription/{token}/export.json")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "no-store" in response.headers["Cache-Control"]
    data = response.get_json()
    assert data["subscriber"] | {"created_at": None, "confirmed_at": None, "updated_at": None} == {
        "email": READER, "state": "active", "frequency": "daily", "all_categories": False,
        "paused": False, "locale": "en", "created_at": None, "confirmed_at": None,
        "unsubscribed_at": None, "updated_at": None,
    }
    assert data["subscriber"]["confirmed_at"].startswith(str(utcnow().year))
    assert data["categories"] == [{"slug": "immigration", "name": "Immigration"}]
    assert [(c["action"], c["source"], c["ip_address"]) for c in data["consent_records"]] == [
        ("subscribe", "subscribe-form", "192.0.2.55"), ("confirm", "subscribe-form", "127.0.0.1")]
    assert all(c["consent_text"] and c["created_at"] for c in data["consent_records"])
    [digest] = data["digests"]
    assert (digest["frequency"], digest["period"], digest["article_count"]) == (
        "daily", "2026-11-29", 4)
    assert digest["created_at"]
    assert [(e["kind"], e["state"]) for e in data["emails"]] == [
        ("subscription_confirmation", "sent"), ("subscription_welcome", "sent")]
    assert all(e["subject"] and e["created_at"] and e["sent_at"] for e in data["emails"])


def test_erase_asks_first_then_removes_everything_and_kills_the_token(client, reader, mail):
    subscriber, token = reader
    subscriber_id = subscriber.id

    ask = client.get(f"/subscription/{token}/erase")
    html = ask.get_data(as_text=True)
    assert ask.status_code == 200 and "This can't be undone" in html
    assert f"/subscription/{token}/erase" in form_actions(html)
    assert db.session.get(Subscriber, subscriber_id) is not None  # looking erased nothing

    erased = client.post(f"/subscription/{token}/erase", data={"csrf_token": csrf_token(html)})

    assert erased.status_code == 200
    assert "Your subscription is erased" in erased.get_data(as_text=True)
    db.session.expire_all()
    for model, column in ((Subscriber, Subscriber.id),
                          (ConsentRecord, ConsentRecord.subscriber_id),
                          (OutboxMessage, OutboxMessage.subscriber_id),
                          (DigestDelivery, DigestDelivery.subscriber_id)):
        count = db.session.scalar(select(func.count()).select_from(model).where(
            column == subscriber_id))
        assert count == 0, model
    assert db.session.scalar(select(func.count()).select_from(subscriber_categories)) == 0
    for path in ("", "/unsubscribe", "/erase", "/export.json"):
        assert client.get(f"/subscription/{token}{path}").status_code == 404, path
    assert client.post(f"/subscription/{token}/unsubscribe").status_code == 404
    assert deliver_due()["sent"] == 0
