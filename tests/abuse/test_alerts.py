"""An alert when one IP or email domain floods a petition: a warning in the log and one
email to every active admin, once per (petition, IP or domain, hour)."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from petitions.abuse.models import AbuseAlert
from petitions.database import utcnow
from petitions.extensions import db, limiter
from petitions.mail.delivery import deliver_due
from tests.abuse.helpers import sign, stored
from tests.factories import AdminUserFactory, PetitionFactory, SignatureFactory
from tests.signing.helpers import outbox


@pytest.fixture(autouse=True)
def fresh_counters(app):
    """Alerts count in the rate limiter's storage (memory in the tests): start from zero."""
    limiter.reset()
    yield
    limiter.reset()


def _alerts() -> list[tuple]:
    rows = db.session.scalars(select(AbuseAlert).order_by(AbuseAlert.id))
    return [(a.kind, a.value, a.count) for a in rows]


def test_one_ip_reaching_the_threshold_alerts_the_admins_once(app, client, mail, caplog):
    app.config.update(ABUSE_ALERT_IP_PER_HOUR=3, ABUSE_ALERT_DOMAIN_PER_HOUR=100)
    petition = PetitionFactory(title="Keep DC a sanctuary city")
    AdminUserFactory(email="boss@example.org", role="admin")
    AdminUserFactory(email="gone@example.org", role="admin", active=False)
    AdminUserFactory(email="mod@example.org", role="moderator")
    caplog.set_level(logging.WARNING, logger="petitions.abuse")

    for n in range(2):
        sign(client, petition.slug, ip="203.0.113.9", email=f"s{n}@one.example")
    assert _alerts() == [] and outbox(kind="abuse_alert") == []
    for n in range(2, 5):
        assert sign(client, petition.slug, ip="203.0.113.9",
                    email=f"s{n}@two.example").status_code == 303

    assert len(stored(petition)) == 5  # alerting loses no signature
    assert _alerts() == [("ip", "203.0.113.9", 3)]
    [message] = outbox(kind="abuse_alert")
    assert message.to_address == "boss@example.org"
    warnings = [r.getMessage() for r in caplog.records if r.name == "petitions.abuse"]
    assert len(warnings) == 1 and "203.0.113.9" in warnings[0]

    assert deliver_due()["sent"] >= 1
    [email] = [m for m in mail.store.all() if m.to == "boss@example.org"]
    assert "3 signatures from one IP address" in email.subject
    assert "Keep DC a sanctuary city" in email.subject
    assert "203.0.113.9" in email.part("plain")
    assert "http://petitions.test/admin/access-rules/" in email.part("plain")


def test_an_email_domain_reaching_the_threshold_alerts(app, client):
    app.config.update(ABUSE_ALERT_IP_PER_HOUR=100, ABUSE_ALERT_DOMAIN_PER_HOUR=3)
    petition = PetitionFactory()
    AdminUserFactory(role="admin")
    for n in range(4):
        sign(client, petition.slug, ip=f"198.51.100.{n + 1}", email=f"bot{n}@Spam.Example")
    assert _alerts() == [("email_domain", "spam.example", 3)]
    assert len(outbox(kind="abuse_alert")) == 1


def test_signatures_older_than_an_hour_or_on_another_petition_do_not_count(app, client):
    app.config.update(ABUSE_ALERT_IP_PER_HOUR=3, ABUSE_ALERT_DOMAIN_PER_HOUR=100)
    petition, other = PetitionFactory(), PetitionFactory()
    AdminUserFactory(role="admin")
    SignatureFactory(petition=petition, ip_address="203.0.113.9",
                     created_at=utcnow() - timedelta(minutes=61))
    SignatureFactory(petition=other, ip_address="203.0.113.9")
    db.session.commit()
    for n in range(2):
        sign(client, petition.slug, ip="203.0.113.9", email=f"s{n}@example.org")
    assert _alerts() == []


def test_the_same_key_in_a_new_hour_alerts_again(app, client):
    app.config.update(ABUSE_ALERT_IP_PER_HOUR=1, ABUSE_ALERT_DOMAIN_PER_HOUR=100)
    petition = PetitionFactory()
    AdminUserFactory(role="admin")
    sign(client, petition.slug, ip="203.0.113.9", email="a@example.org")
    alert = db.session.scalar(select(AbuseAlert))
    alert.hour -= timedelta(hours=1)  # as if raised last hour
    db.session.commit()
    sign(client, petition.slug, ip="203.0.113.9", email="b@example.org")
    sign(client, petition.slug, ip="203.0.113.9", email="c@example.org")
    assert [a[0] for a in _alerts()] == ["ip", "ip"]
    assert len(outbox(kind="abuse_alert")) == 2


def test_a_flood_past_the_threshold_is_counted_in_the_database_once_not_per_signature(
        app, client):
    """The exact count reads the database only when the hour's counters say the threshold
    may be reached, and once the alert is raised no more: a viral petition's thousandth
    signature from gmail.com costs what its first did."""
    app.config.update(ABUSE_ALERT_IP_PER_HOUR=100, ABUSE_ALERT_DOMAIN_PER_HOUR=3)
    petition = PetitionFactory()
    AdminUserFactory(role="admin")
    counts = []

    def count_queries(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT COUNT"):
            counts.append(statement)

    event.listen(db.engine, "before_cursor_execute", count_queries)
    try:
        for n in range(8):
            sign(client, petition.slug, ip=f"198.51.100.{n + 1}", email=f"s{n}@gmail.com")
    finally:
        event.remove(db.engine, "before_cursor_execute", count_queries)
    assert _alerts() == [("email_domain", "gmail.com", 3)]
    assert len(counts) == 1  # at the third signature; none before, none after
