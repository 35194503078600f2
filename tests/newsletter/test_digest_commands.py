"""`flask digests send`: a run now, a dry run, a preview; progress and a summary on stderr."""

from __future__ import annotations

import re
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
    assert ": 3 subscribers, 3 queued, 0 skipped" in first.stderr
    assert ": 3 subscribers, 0 queued, 3 skipped (3 already had it" in second.stderr
    assert sorted(m.to for m in mail.messages) == sorted(s.email for s in subscribers)


def test_dry_run_sends_and_records_nothing(app, mail, runner):
    category = CategoryFactory()
    article(category, utcnow() - timedelta(hours=1))
    SubscriberFactory(follows=[category])

    result = runner.invoke(args=["digests", "send", "--frequency", "daily", "--dry-run"])

    assert result.exit_code == 0, result.output
    assert ": 1 subscriber, 1 would get a digest, 0 skipped" in result.stderr
    assert result.stderr.rstrip().endswith("; nothing was sent.")
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


def test_a_run_ends_with_one_summary_line_on_stderr_and_nothing_on_stdout(app, mail, runner):
    app.config["DIGEST_CHUNK_SIZE"] = 2  # three chunks, so progress goes chunk by chunk
    news, sport = CategoryFactory(), CategoryFactory()
    article(news, utcnow() - timedelta(hours=1))
    for _ in range(4):
        SubscriberFactory(follows=[news])
    SubscriberFactory(follows=[sport])  # nothing new in their topics
    SubscriberFactory(follows=[news], paused=True)  # not in this run at all

    result = runner.invoke(args=["digests", "send", "--frequency", "daily"])

    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert re.fullmatch(
        r"Digest run daily \d{4}-\d\d-\d\d: 5 subscribers, 4 queued, 1 skipped "
        r"\(0 already had it, 1 with nothing new\) in \d+\.\d s; "
        r"the outbox sent 4, 0 to retry, 0 failed\.\n", result.stderr)
    assert len(mail.messages) == 4


def test_a_dry_run_summary_counts_who_already_had_this_periods_digest(app, mail, runner):
    category = CategoryFactory()
    article(category, utcnow() - timedelta(hours=1))
    for _ in range(2):
        SubscriberFactory(follows=[category])
    runner.invoke(args=["digests", "send", "--frequency", "daily"])
    SubscriberFactory(follows=[category])  # joined after the run: still to get it

    result = runner.invoke(args=["digests", "send", "--frequency", "daily", "--dry-run"])

    assert re.fullmatch(
        r"Digest run daily \S+ \(dry run\): 3 subscribers, 1 would get a digest, 2 skipped "
        r"\(2 already had it, 0 with nothing new\) in \d+\.\d s; nothing was sent\.\n",
        result.stderr)
