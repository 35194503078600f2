"""Delivering outbox rows to a real SMTP server (the aiosmtpd sink): what arrives, exactly
once, and what happens when the server is down, busy (4xx) or refuses an address (5xx)."""

from __future__ import annotations

import re
from datetime import timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from sqlalchemy import update

from petitions.database import utcnow
from petitions.extensions import db
from petitions.mail import delivery, outcomes
from petitions.mail.models import OutboxMessage

NOTHING = {"sent": 0, "retry": 0, "failed": 0, "cancelled": 0}


def reload(row: OutboxMessage) -> OutboxMessage:
    db.session.expire_all()
    return db.session.get(OutboxMessage, row.id)


def make_due(*rows: OutboxMessage) -> None:
    """Let the back-off elapse, as if the clock had moved on."""
    statement = update(OutboxMessage).values(next_attempt_at=utcnow() - timedelta(seconds=1))
    if rows:
        statement = statement.where(OutboxMessage.id.in_([r.id for r in rows]))
    db.session.execute(statement)
    db.session.commit()


# --- what arrives ------------------------------------------------------------------------

def test_confirmation_email_arrives_with_sender_headers_and_text_and_html_parts(
    app, mail, queue_confirmation
):
    row = queue_confirmation(email="ada@example.org", name="Ada Lovelace")

    assert delivery.deliver_due() == {"sent": 1, "retry": 0, "failed": 0, "cancelled": 0}

    [caught] = mail.messages
    message = caught.message
    assert message["From"] == app.config["MAIL_FROM"] == "Petitions <petitions@petitions.test>"
    assert message["To"] == "ada@example.org"
    assert caught.subject == row.subject
    assert caught.subject.startswith("Please confirm your signature")
    assert abs(parsedate_to_datetime(message["Date"]) - utcnow()) < timedelta(minutes=1)
    assert message["Message-ID"] == row.message_id
    assert re.fullmatch(r"<[^<>@\s]+@petitions\.test>", message["Message-ID"])
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert "Hello Ada Lovelace," in caught.part("plain")
    assert "Ada Lovelace" in caught.part("html")
    # Mail clients drop <style>: the CSS must have been inlined.
    assert "<style" not in caught.part("html") and 'style="' in caught.part("html")


def test_every_link_in_the_email_is_absolute_on_base_url_and_opens_a_real_page(
    client, mail, queue_confirmation
):
    queue_confirmation()
    delivery.deliver_due()
    [caught] = mail.messages

    text_links = re.findall(r"https?://\S+", caught.part("plain"))
    html_links = re.findall(r'href="([^"]*)"', caught.part("html"))
    assert text_links and html_links
    for link in text_links + html_links:
        assert link.startswith("http://petitions.test/"), link
    confirm_links = {link for link in text_links if "/confirm/" in link}
    assert len(confirm_links) == 1 and confirm_links <= set(html_links)
    for link in set(text_links + html_links):
        assert client.get(urlsplit(link).path).status_code == 200, link


# --- exactly once --------------------------------------------------------------------------

def test_delivered_row_is_marked_sent_and_a_second_run_sends_nothing(mail, queue_confirmation):
    row = queue_confirmation()
    before = utcnow()

    delivery.deliver_due()
    row = reload(row)
    assert row.state == "sent"
    assert before <= row.sent_at <= utcnow()
    assert row.claimed_at is None and row.last_error is None

    assert delivery.deliver_due() == NOTHING
    assert len(mail.messages) == 1


# --- the server is down --------------------------------------------------------------------

def test_server_down_keeps_rows_pending_with_the_error_and_a_retry_time(mail, add_outbox):
    rows = add_outbox("a@example.org", "b@example.org", "c@example.org")
    mail.stop()

    assert delivery.deliver_due() == {"sent": 0, "retry": 1, "failed": 0, "cancelled": 0}

    rows = [reload(r) for r in rows]
    for row in rows:
        assert row.state == "pending" and row.claimed_at is None
        assert "cannot reach SMTP server" in row.last_error
        assert row.next_attempt_at > utcnow() + timedelta(seconds=20)
    # One connection attempt was charged to the first row; the rest of the batch was handed
    # back untried, so an outage does not use up every row's attempts at once.
    assert [r.attempts for r in rows] == [1, 0, 0]
    # Nothing is due until the back-off has passed: the next run does not even try.
    assert delivery.deliver_due() == NOTHING


def test_after_the_server_comes_back_each_waiting_message_arrives_exactly_once(
    mail, add_outbox
):
    rows = add_outbox("a@example.org", "b@example.org", "c@example.org")
    mail.stop()
    delivery.deliver_due()
    mail.start()
    make_due()

    assert delivery.deliver_due() == {"sent": 3, "retry": 0, "failed": 0, "cancelled": 0}
    assert delivery.deliver_due() == NOTHING

    assert sorted(m.to for m in mail.messages) == [r.to_address for r in rows]
    assert {m.message["Message-ID"] for m in mail.messages} == {r.message_id for r in rows}
    assert {reload(r).state for r in rows} == {"sent"}


def test_each_failed_attempt_backs_off_longer_than_the_one_before(mail, add_outbox):
    [row] = add_outbox("patient@example.org")
    mail.stop()
    delays = []
    for _ in range(3):
        started = utcnow()
        delivery.deliver_due()
        row = reload(row)
        delays.append((row.next_attempt_at - started).total_seconds())
        make_due(row)

    assert row.attempts == 3 and row.state == "pending"
    assert delays[0] < delays[1] < delays[2]
    assert [round(d / 30) for d in delays] == [1, 2, 4]  # 30 s, 1 min, 2 min


# --- what the server replies ---------------------------------------------------------------

def test_451_reply_leaves_the_row_for_a_later_retry_which_then_delivers_it(mail, add_outbox):
    mail.rules["busy"] = "451 4.3.0 Try later"
    busy, other = add_outbox("busy@example.org", "other@example.org")

    assert delivery.deliver_due() == {"sent": 1, "retry": 1, "failed": 0, "cancelled": 0}
    busy = reload(busy)
    assert busy.state == "pending" and busy.attempts == 1
    assert busy.last_error == "451 4.3.0 Try later"
    assert busy.next_attempt_at > utcnow()
    assert [m.to for m in mail.messages] == ["other@example.org"]

    mail.rules.clear()
    make_due(busy)
    assert delivery.deliver_due() == {"sent": 1, "retry": 0, "failed": 0, "cancelled": 0}
    assert sorted(m.to for m in mail.messages) == ["busy@example.org", "other@example.org"]
    assert reload(busy).state == "sent"


def test_550_reply_fails_the_row_for_good_and_the_rest_of_the_batch_is_delivered(
    mail, add_outbox
):
    mail.rules["nobody"] = "550 5.1.1 No such user"
    first, refused, last = add_outbox("first@example.org", "nobody@example.org", "last@example.org")

    assert delivery.deliver_due() == {"sent": 2, "retry": 0, "failed": 1, "cancelled": 0}

    refused = reload(refused)
    assert refused.state == "failed" and refused.attempts == 1
    assert refused.last_error == "550 5.1.1 No such user"
    assert sorted(m.to for m in mail.messages) == ["first@example.org", "last@example.org"]
    assert reload(first).state == reload(last).state == "sent"
    # A failed row is never picked up again.
    mail.rules.clear()
    make_due()
    assert delivery.deliver_due() == NOTHING


def test_row_still_failing_at_max_attempts_is_given_up_and_one_short_is_retried(
    mail, add_outbox
):
    mail.rules["busy"] = "451 4.3.0 Try later"
    [last_chance] = add_outbox("busy1@example.org", attempts=outcomes.MAX_ATTEMPTS - 1)
    [one_more] = add_outbox("busy2@example.org", attempts=outcomes.MAX_ATTEMPTS - 2)

    assert delivery.deliver_due() == {"sent": 0, "retry": 1, "failed": 1, "cancelled": 0}

    last_chance, one_more = reload(last_chance), reload(one_more)
    assert last_chance.state == "failed" and last_chance.attempts == outcomes.MAX_ATTEMPTS
    assert last_chance.last_error == "451 4.3.0 Try later"
    assert one_more.state == "pending" and one_more.attempts == outcomes.MAX_ATTEMPTS - 1
    assert mail.messages == []


def test_retry_waits_follow_the_outbox_retry_settings_up_to_the_longest(
    app, mail, add_outbox, monkeypatch
):
    monkeypatch.setitem(app.config, "OUTBOX_RETRY_SECONDS", 2)
    monkeypatch.setitem(app.config, "OUTBOX_RETRY_MAX_SECONDS", 5)
    [row] = add_outbox("patient@example.org")
    mail.stop()
    for expected in (2, 4, 5):  # doubling, then held at the longest
        started = utcnow()
        delivery.deliver_due()
        finished = utcnow()
        row = reload(row)
        wait = timedelta(seconds=expected)
        # The mark was made at some moment during the run: bound it by the run's start and end.
        assert started + wait <= row.next_attempt_at <= finished + wait
        make_due(row)


def test_a_server_that_keeps_saying_slow_down_gets_the_rest_of_the_batch_back_untried(
    mail, add_outbox
):
    mail.rules["busy"] = "451 4.3.0 Try later"
    rows = add_outbox(*(f"busy{n}@example.org" for n in range(3)), "later@example.org")

    assert delivery.deliver_due() == {"sent": 0, "retry": 3, "failed": 0, "cancelled": 0}

    *throttled, untried = [reload(r) for r in rows]
    assert [r.attempts for r in throttled] == [1, 1, 1]
    # Released without an attempt, due after the first retry wait, claimable by any worker.
    assert untried.state == "pending" and untried.attempts == 0 and untried.claimed_at is None
    assert untried.next_attempt_at > utcnow()
    assert mail.messages == []

    mail.rules.clear()
    make_due()
    assert delivery.deliver_due() == {"sent": 4, "retry": 0, "failed": 0, "cancelled": 0}
    assert sorted(m.to for m in mail.messages) == sorted(r.to_address for r in rows)
