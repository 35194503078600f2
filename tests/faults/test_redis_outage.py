"""Redis stopped for 30 seconds while signatures arrive: nothing fails, nothing is lost.

Redis is all it is in production: the Celery broker, the rate-limit storage (limits on,
each supporter from an address of their own) and the mail pacing counter, on a private
redis-server that keeps nothing on disk, so it comes back empty and every nudge queued
before or during the outage is gone. The worker runs beat inside (`-B`): the mail held
back by the outage must reach the sink through the production schedule's own outbox sweep
(every 30 s), and beat and the worker must both survive the outage to send it. Triggering
the sweep from the test would be 20 s quicker but would not show that.
"""

from __future__ import annotations

import re
import statistics
import time
from itertools import count

import pytest
from sqlalchemy import func, select

from petitions.extensions import db
from petitions.mail.models import OutboxMessage, OutboxState
from petitions.signing.models import Signature
from tests.factories import PetitionFactory
from tests.faults.apps import production_like_app
from tests.faults.browsing import Answer, Supporter
from tests.faults.mailbox import copies_per_recipient, message_ids, wait_for_count
from tests.signing.helpers import confirm_token_in

pytestmark = [pytest.mark.fault, pytest.mark.slow]

OUTAGE_SECONDS = 30
SIGNING_INTERVAL = 0.3  # a few signatures a second
SWEPT = re.compile(r"Task outbox\.sweep\[[\w-]+\] succeeded in [\d.]+s: \{'sent': (\d+),")


@pytest.fixture
def redis_app(app, smtp_sink, private_redis, tmp_path):
    with production_like_app(
        app, smtp_sink, tmp_path / "redis-app",
        REDIS_URL=private_redis.url, RATELIMIT_STORAGE_URI=private_redis.url,
        RATELIMIT_ENABLED=True, TRUSTED_PROXIES=1,
    ) as redis_app:
        yield redis_app


def test_signing_through_a_30_second_redis_outage_loses_no_email_and_sends_none_twice(
    app, mail, private_redis, redis_app, start_worker
):
    slug = PetitionFactory().slug
    db.session.remove()
    supporter = Supporter(redis_app, slug)
    worker = start_worker(beat=True, REDIS_URL=private_redis.url,
                          INSTANCE_PATH=redis_app.instance_path)
    numbers = count()
    # Past the minimum fill time, so that no signature is flagged as too fast.
    time.sleep(max(0.0, supporter.form_shown_at + redis_app.config["MIN_FILL_SECONDS"]
                   + 0.5 - time.monotonic()))

    before = sign_for(supporter, numbers, seconds=3)
    assert wait_for_count(mail.store, len(before), timeout=20) == len(before), worker.output()
    tokens = [confirm_token_in(m.part("plain")) for m in mail.messages]

    private_redis.stop()
    during = sign_for(supporter, numbers, seconds=OUTAGE_SECONDS, confirming=tokens)
    private_redis.start()
    held_back = pending_confirmations()

    signatures = [a for a in before + during if a.email]
    outage_signatures = [a for a in during if a.email]
    assert {a.status for a in before + during} == {200, 303}, failures(before + during)
    assert {a.status for a in signatures} == {303}
    outage_seconds = [a.seconds for a in during]
    assert max(outage_seconds) < 2, f"slowest request during the outage: {max(outage_seconds):.2f}s"
    assert statistics.median(outage_seconds) < 0.25
    assert stored_signatures() == {a.email: None for a in signatures}  # all stored, none flagged
    assert confirmed_count() == len(tokens)
    # Redis came back empty: the outage's mail waits in the outbox for the sweep. (A nudge
    # the worker took just before the outage may have sent its first few.)
    assert held_back >= len(outage_signatures) - 5

    # Beat's sweep (every 30 s) after the worker and beat have reconnected.
    arrived = wait_for_count(mail.store, len(signatures), timeout=75)
    time.sleep(1)  # anything sent twice would arrive now
    messages = mail.messages
    assert arrived == len(messages) == len(signatures), worker.output()
    assert copies_per_recipient(messages) == {a.email: 1 for a in signatures}
    assert len(set(message_ids(messages))) == len(messages)
    assert pending_confirmations() == 0
    swept = [int(sent) for sent in SWEPT.findall(worker.log_path.read_text(errors="replace"))]
    assert sum(swept) >= held_back, worker.output()


def test_while_redis_is_down_the_signing_limits_count_in_memory(
    private_redis, redis_app
):
    redis_app.config["MIN_FILL_SECONDS"] = 0  # the time trap is not what this is about
    slug = PetitionFactory().slug
    db.session.remove()
    supporter = Supporter(redis_app, slug)
    private_redis.stop()

    # The same client address twice within a minute: over RATELIMIT_SIGN (1/minute).
    first = supporter.sign("first@example.org", 7)
    second = supporter.sign("second@example.org", 7)

    assert first.status == second.status == 303
    assert stored_signatures() == {"first@example.org": None, "second@example.org": "rate_limit"}


def sign_for(supporter: Supporter, numbers: count, seconds: float,
             confirming: list[str] = ()) -> list[Answer]:
    """Sign every SIGNING_INTERVAL for `seconds`; between signatures, confirm one of the
    `confirming` tokens (GET and POST, both rate limited) and read the count."""
    answers: list[Answer] = []
    to_confirm = list(confirming)
    deadline = time.monotonic() + seconds
    while (tick := time.monotonic()) < deadline:
        number = next(numbers)
        answers.append(supporter.sign(f"supporter{number}@example{number % 5}.org", number))
        if to_confirm and number % 4 == 0:
            token = to_confirm.pop()
            answers.append(supporter.get(f"/confirm/{token}"))
            answers.append(supporter.post(f"/confirm/{token}"))
            answers.append(supporter.get(f"/petitions/{supporter.slug}/count.json"))
        time.sleep(max(0.0, tick + SIGNING_INTERVAL - time.monotonic()))
    return answers


def failures(answers: list[Answer]) -> list[tuple[str, int, str]]:
    return [(a.email, a.status, a.body[:300]) for a in answers if a.status not in (200, 303)]


def stored_signatures() -> dict[str, str | None]:
    rows = db.session.execute(select(Signature.email, Signature.flag_reason)).all()
    db.session.remove()
    return dict(rows)


def confirmed_count() -> int:
    confirmed = db.session.scalar(
        select(func.count()).select_from(Signature).where(Signature.state == "confirmed"))
    db.session.remove()
    return confirmed


def pending_confirmations() -> int:
    pending = db.session.scalar(
        select(func.count()).select_from(OutboxMessage)
        .where(OutboxMessage.kind == "signature_confirmation",
               OutboxMessage.state != OutboxState.SENT))
    db.session.remove()
    return pending
