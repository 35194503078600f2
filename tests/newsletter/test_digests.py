from __future__ import annotations

import re
from datetime import timedelta

from petitions.database import utcnow
from petitions.extensions import db
from petitions.mail import delivery
from petitions.mail.models import Suppression
from petitions.newsletter import digests
from tests.factories import CategoryFactory, PetitionFactory, SignatureFactory, SubscriberFactory
from tests.newsletter.digest_helpers import (
    article,
    digest_outbox,
    digests_to,
    ledger_rows,
    run_digest,
)

NOW = utcnow()
HTTP_LINK = re.compile(r"<(https?://[^>]+)>")
YESTERDAY = NOW - timedelta(days=1)


def test_a_subscriber_gets_only_the_categories_they_follow(app, mail):
    immigration, courts = CategoryFactory(name="Immigration"), CategoryFactory(name="Courts")
    article(immigration, YESTERDAY, title="ICE detention space to double")
    article(courts, YESTERDAY, title="Ninth Circuit weighs layoffs")
    follower = SubscriberFactory(follows=[immigration])
    everything = SubscriberFactory(all_categories=True)

    assert run_digest(now=NOW) == 2

    [one] = digests_to(mail, follower.email)
    text = one.part("plain")
    assert "ICE detention space to double" in text and "Ninth Circuit" not in text
    assert one.subject == "1 new article: ICE detention space to double"
    [both] = digests_to(mail, everything.email)
    assert "ICE detention" in both.part("plain") and "Ninth Circuit" in both.part("plain")
    assert both.subject.startswith("2 new articles: ")


def test_articles_are_grouped_by_category_newest_first(app, mail):
    immigration = CategoryFactory(name="Immigration")
    article(immigration, YESTERDAY, title="Older story", published_at=YESTERDAY - timedelta(hours=5))
    article(immigration, YESTERDAY, title="Newer story", published_at=YESTERDAY)
    subscriber = SubscriberFactory(follows=[immigration])

    run_digest(now=NOW)

    [message] = digests_to(mail, subscriber.email)
    text = message.part("plain")
    assert "== Immigration ==" in text, text
    assert text.index("Newer story") < text.index("Older story")
    assert message.subject == "2 new articles: Newer story"


def test_the_next_digest_holds_only_what_came_in_since_the_previous_one(app, mail):
    category = CategoryFactory()
    article(category, YESTERDAY - timedelta(days=1), title="First story")
    subscriber = SubscriberFactory(follows=[category])
    first_run = NOW - timedelta(days=1)
    run_digest(now=first_run)
    # Ingested after the first run's cutoff, however old its publication date.
    article(category, first_run + timedelta(hours=2), title="Second story",
            published_at=first_run - timedelta(days=3))

    run_digest(now=NOW)

    first, second = digests_to(mail, subscriber.email)
    assert "First story" in first.part("plain") and "Second story" not in first.part("plain")
    assert "Second story" in second.part("plain") and "First story" not in second.part("plain")
    assert [row.article_count for row in ledger_rows()] == [1, 1]


def test_paused_unsubscribed_pending_suppressed_and_weekly_subscribers_get_no_daily_digest(
    app, mail
):
    category = CategoryFactory()
    article(category, YESTERDAY)
    skipped = [
        SubscriberFactory(follows=[category], paused=True),
        SubscriberFactory(follows=[category], state="unsubscribed"),
        SubscriberFactory(follows=[category], state="pending"),
        SubscriberFactory(follows=[category], frequency="weekly"),
        SubscriberFactory(follows=[category], email="bounced@example.org"),
    ]
    db.session.add(Suppression(canonical_email="bounced@example.org", reason="hard_bounce"))
    db.session.commit()
    active = SubscriberFactory(follows=[category])

    assert run_digest(now=NOW) == 1

    assert [m.to for m in mail.messages] == [active.email]
    assert {row.subscriber_id for row in ledger_rows()} == {active.id}
    assert all(not digests_to(mail, s.email) for s in skipped)


def test_nobody_gets_an_empty_digest(app, mail):
    followed, other = CategoryFactory(), CategoryFactory()
    article(other, YESTERDAY)
    SubscriberFactory(follows=[followed])

    assert run_digest(now=NOW) == 0
    assert mail.messages == [] and ledger_rows() == []


def test_running_the_same_period_twice_sends_nobody_a_second_copy(app, mail):
    category = CategoryFactory()
    article(category, YESTERDAY)
    subscribers = [SubscriberFactory(follows=[category]) for _ in range(5)]

    assert run_digest(now=NOW) == 5
    assert run_digest(now=NOW + timedelta(minutes=30)) == 0  # same day: same run

    assert sorted(m.to for m in mail.messages) == sorted(s.email for s in subscribers)
    assert len(ledger_rows()) == 5


def test_a_chunk_built_twice_at_once_queues_each_subscriber_once(app, mail):
    category = CategoryFactory()
    article(category, YESTERDAY)
    subscribers = [SubscriberFactory(follows=[category]) for _ in range(6)]
    run = digests.get_or_start_run("daily", NOW)
    first, last = subscribers[0].id, subscribers[-1].id
    planned_twice = [digests.plan_chunk(run, first, last), digests.plan_chunk(run, first, last)]

    queued = [digests.queue_chunk(run, planned) for planned in planned_twice]

    assert queued == [6, 0]
    assert len(digest_outbox()) == 6


def test_unsigned_open_petitions_in_followed_categories_follow_the_articles(app, mail):
    category = CategoryFactory()
    article(category, YESTERDAY)
    unsigned = PetitionFactory(category=category, title="Keep DC police out of ICE work")
    signed = PetitionFactory(category=category, title="Already signed petition")
    PetitionFactory(title="A petition in another category")
    PetitionFactory(category=category, title="A hidden petition", hidden=True)
    PetitionFactory(category=category, title="A removed petition", removed_at=NOW,
                    removal_reason="Duplicate")
    subscriber = SubscriberFactory(follows=[category])
    SignatureFactory(petition=signed, email=subscriber.email.upper())

    run_digest(now=NOW)

    [message] = digests_to(mail, subscriber.email)
    text, html = message.part("plain"), message.part("html")
    assert "Keep DC police out of ICE work" in text
    assert f"http://petitions.test/petitions/{unsigned.slug}" in html
    assert "Already signed petition" not in text and "another category" not in text
    assert "hidden petition" not in text and "removed petition" not in text


def test_digest_has_list_headers_and_personal_links_in_both_parts(app, mail, client):
    category = CategoryFactory()
    article(category, YESTERDAY)
    subscriber = SubscriberFactory(follows=[category])

    run_digest(now=NOW)

    [message] = digests_to(mail, subscriber.email)
    headers = message.message
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "<mailto:" in headers["List-Unsubscribe"]
    one_click = one_click_link(message)
    assert one_click.startswith("http://petitions.test/subscription/")
    assert headers["List-Id"] and headers["Precedence"] == "bulk"
    assert one_click in message.part("plain") and one_click in message.part("html")
    assert "__DIGEST_" not in message.part("plain") + message.part("html")

    response = client.post(one_click.removeprefix("http://petitions.test"))
    assert response.status_code == 200
    db.session.refresh(subscriber)
    assert subscriber.state == "unsubscribed"


def test_each_subscriber_gets_their_own_links_when_content_is_shared(app, mail):
    category = CategoryFactory()
    article(category, YESTERDAY)
    first, second = SubscriberFactory(follows=[category]), SubscriberFactory(follows=[category])

    run_digest(now=NOW)

    [one], [two] = digests_to(mail, first.email), digests_to(mail, second.email)
    link_one, link_two = one_click_link(one), one_click_link(two)
    assert link_one != link_two
    assert link_one in one.part("html") and link_one not in two.part("html")


def test_a_digest_queued_before_an_unsubscribe_is_not_sent(app, mail):
    category = CategoryFactory()
    article(category, YESTERDAY)
    subscriber = SubscriberFactory(follows=[category])
    run = digests.get_or_start_run("daily", NOW)
    digests.build_chunk(run.id, subscriber.id, subscriber.id)
    subscriber.state, subscriber.unsubscribed_at = "unsubscribed", utcnow()
    db.session.commit()

    totals = delivery.deliver_due()

    assert totals["sent"] == 0 and totals["cancelled"] == 1
    assert mail.messages == []
    [row] = digest_outbox()
    assert row.state == "failed" and "unsubscribed" in row.last_error


def test_throttling_replies_slow_the_run_down_and_lose_nothing(app, mail):
    category = CategoryFactory()
    article(category, YESTERDAY)
    subscribers = [SubscriberFactory(follows=[category]) for _ in range(4)]
    mail.rules[subscribers[1].email] = "451 4.7.1 Slow down please"

    run_digest(now=NOW)
    assert len(mail.messages) == 3
    mail.rules.clear()
    for row in digest_outbox():
        row.next_attempt_at = utcnow()
    db.session.commit()
    delivery.deliver_due()

    assert sorted(m.to for m in mail.messages) == sorted(s.email for s in subscribers)
    assert [row.state for row in digest_outbox()] == ["sent"] * 4


def test_period_keys_follow_the_site_clock(app):
    late_evening_in_dc = NOW.replace(hour=3, minute=30)  # 22:30 or 23:30 the day before
    key = digests.period_key("daily", late_evening_in_dc, "America/New_York")
    assert key == (late_evening_in_dc - timedelta(hours=5)).date().isoformat()
    assert digests.period_key("weekly", NOW, "UTC").startswith(f"{NOW.isocalendar()[0]}-W")


def one_click_link(message) -> str:
    return HTTP_LINK.search(str(message.message["List-Unsubscribe"])).group(1)
