from __future__ import annotations

from datetime import timedelta

from petitions.database import utcnow
from petitions.extensions import db
from petitions.newsletter.digest_models import DigestRun
from tests.factories import CategoryFactory, SubscriberFactory
from tests.newsletter.digest_helpers import article, digest_outbox, ledger_rows


def test_digests_send_runs_the_period_now_and_a_second_call_sends_nothing(app, mail, runner):
    category = CategoryFactory()
    article(category, utcnow() - timedelta(hours=1), title="DC police chief order")
    subscribers = [SubscriberFactory(follows=[category]) for _ in range(3)]

    first = runner.invoke(args=["digests", "send", "--frequency", "daily"])
    second = runner.invoke(args=["digests", "send", "--frequency", "daily"])

    assert first.exit_code == 0, first.output
    assert "Queued 3 digest(s)" in first.output
    assert "Queued 0 digest(s)" in second.output
    assert sorted(m.to for m in mail.messages) == sorted(s.email for s in subscribers)


def test_dry_run_sends_and_records_nothing(app, mail, runner):
    category = CategoryFactory()
    article(category, utcnow() - timedelta(hours=1))
    SubscriberFactory(follows=[category])

    result = runner.invoke(args=["digests", "send", "--frequency", "daily", "--dry-run"])

    assert result.exit_code == 0, result.output
    assert "1 subscriber(s) would get a digest" in result.output
    assert mail.messages == [] and ledger_rows() == [] and digest_outbox() == []
    assert db.session.query(DigestRun).count() == 0  # the period's cutoff is not fixed yet


def test_to_with_dry_run_previews_one_subscribers_digest(app, mail, runner):
    category = CategoryFactory()
    article(category, utcnow() - timedelta(hours=1), title="Detention space to double")
    subscriber = SubscriberFactory(follows=[category])

    result = runner.invoke(
        args=["digests", "send", "--frequency", "daily", "--dry-run", "--to", subscriber.email]
    )

    assert result.exit_code == 0, result.output
    assert "Subject: 1 new article: Detention space to double" in result.output
    assert "http://petitions.test/subscription/" in result.output
    assert mail.messages == [] and ledger_rows() == []


def test_to_an_unknown_address_is_a_clear_error(app, runner):
    result = runner.invoke(
        args=["digests", "send", "--frequency", "weekly", "--to", "nobody@example.org"]
    )
    assert result.exit_code != 0
    assert "No subscriber with the address nobody@example.org" in result.output
