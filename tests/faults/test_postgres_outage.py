"""PostgreSQL restarts, or its connections drop, mid-load: 503s while it is down, then the
same app carries on, and nothing that was answered with success is lost.

The app reaches PostgreSQL through a TCP proxy in the test process (tests/support/
tcp_proxy.py) that plays the restart: it drops every open connection, refuses new ones
for a few seconds, then accepts again. The app is built from DATABASE_URL as production
builds itself, so it runs with production's engine options (pool_pre_ping).
"""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from petitions.errors import DATABASE_RETRY_AFTER_SECONDS
from petitions.extensions import db
from petitions.mail.models import OutboxMessage
from petitions.signing.models import Signature
from tests.factories import PetitionFactory
from tests.faults.apps import production_like_app
from tests.faults.browsing import Answer, Supporter
from tests.support.environment import RUN_ID

pytestmark = [pytest.mark.fault, pytest.mark.slow]

SUPPORTERS = 4  # threads signing at once
OUTAGE_SECONDS = 5
APPLICATION_NAME = f"pytest-faults-{RUN_ID}"  # how pg_stat_activity tells the app's connections
FRIENDLY_TITLE = "busy for a moment"


@pytest.fixture
def proxied_app(app, smtp_sink, postgres_proxy, tmp_path):
    url = (make_url(app.config["SQLALCHEMY_DATABASE_URI"])
           .set(host="127.0.0.1", port=postgres_proxy.port)
           .update_query_dict({"application_name": APPLICATION_NAME}))
    with production_like_app(
        app, smtp_sink, tmp_path / "proxied-app",
        env={"DATABASE_URL": url.render_as_string(hide_password=False)},
        # Delivery is not what this tests; nudges would only pile up in the shared queue.
        OUTBOX_NUDGE=False,
    ) as proxied:
        yield proxied


@pytest.fixture
def slug(app) -> str:
    slug = PetitionFactory().slug
    db.session.remove()
    return slug


def test_requests_while_postgresql_restarts_get_503_and_every_success_is_kept(
    proxied_app, postgres_proxy, slug
):
    reader = Supporter(proxied_app, slug)
    with SigningLoad([Supporter(proxied_app, slug) for _ in range(SUPPORTERS)]) as load:
        time.sleep(2)
        postgres_proxy.refuse()  # PostgreSQL restarts: connections dropped, new ones refused
        dropped = postgres_proxy.drop()
        time.sleep(1)
        count_json = reader.get(f"/petitions/{slug}/count.json")
        time.sleep(OUTAGE_SECONDS - 1)
        postgres_proxy.accept()
        back_at = time.monotonic()
        time.sleep(3)
    answers = load.answers

    assert dropped > 0, "no connection was open to drop"
    assert {a.status for a in answers} <= {303, 503}, unexpected(answers)
    refused = [a for a in answers if a.status == 503]
    assert refused, "no request noticed the outage"
    for answer in refused:
        assert answer.retry_after == str(DATABASE_RETRY_AFTER_SECONDS)
        assert answer.content_type == "text/html" and FRIENDLY_TITLE in answer.body
    assert not [a for a in answers if "Traceback" in a.body]
    assert count_json.status == 503 and count_json.content_type == "application/json"
    assert count_json.retry_after and '"status":503' in count_json.body.replace(" ", "")
    # Recovered without a restart: everything sent after PostgreSQL was back succeeded.
    after = [a for a in answers if a.started_at > back_at]
    assert after and {a.status for a in after} == {303}, unexpected(after)
    # Nothing that was answered with success is lost.
    accepted = {a.email for a in answers if a.status == 303}
    assert accepted <= stored_with_outbox_row(), "accepted signatures missing"


def test_a_connection_killed_while_idle_is_replaced_without_an_error(
    app, proxied_app, slug
):
    supporter = Supporter(proxied_app, slug)
    assert supporter.sign("before@example.org", 1).status == 303

    assert terminate_app_connections() >= 1  # e.g. an admin's pg_terminate_backend
    answer = supporter.sign("after@example.org", 2)

    assert answer.status == 303, answer.body[-1500:]
    assert {"before@example.org", "after@example.org"} <= stored_with_outbox_row()


def test_a_commit_that_fails_is_answered_503_and_signing_again_stores_it_once(
    proxied_app, postgres_proxy, slug
):
    supporter = Supporter(proxied_app, slug)
    postgres_proxy.drop_at(b"COMMIT")  # the connection dies as the signature commits

    answer = supporter.sign("commit@example.org", 1)

    assert postgres_proxy.dropped_at_marker == 1
    assert answer.status == 503 and answer.retry_after, answer.body[-1500:]
    assert "commit@example.org" not in stored_with_outbox_row()
    # As the 503 page says: sign again, and it counts once.
    assert supporter.sign("commit@example.org", 2).status == 303
    assert supporter.sign("commit@example.org", 3).status == 303
    assert signatures_of("commit@example.org") == 1


def test_a_connection_lost_as_a_request_ends_does_not_spoil_its_answer(
    proxied_app, postgres_proxy, slug
):
    reader = Supporter(proxied_app, slug)
    # A page only reads: its transaction ends with the ROLLBACK that closes the session.
    postgres_proxy.drop_at(b"ROLLBACK")

    answer = reader.get(f"/petitions/{slug}/count.json")

    assert postgres_proxy.dropped_at_marker == 1
    assert answer.status == 200, answer.body[-1500:]
    assert reader.get(f"/petitions/{slug}/count.json").status == 200


class SigningLoad:
    """While the block runs, each supporter signs in a thread of its own, as fast as the
    app answers; `answers` has every answer once the block has ended."""

    def __init__(self, supporters: list[Supporter]):
        self.supporters = supporters
        self.per_thread: list[list[Answer]] = [[] for _ in supporters]
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._sign, args=(n,), daemon=True)
                        for n in range(len(supporters))]

    def __enter__(self) -> SigningLoad:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(30)
        assert not any(thread.is_alive() for thread in self.threads), "a signing thread hung"

    @property
    def answers(self) -> list[Answer]:
        return [answer for answers in self.per_thread for answer in answers]

    def _sign(self, n: int) -> None:
        supporter, answers = self.supporters[n], self.per_thread[n]
        while not self.stopping.is_set() and len(answers) < 5000:
            number = n * 100_000 + len(answers)
            answers.append(supporter.sign(f"load{number}@example.org", number))
            time.sleep(0.02)


def unexpected(answers: list[Answer]) -> list[tuple[int, str]]:
    """The first few answers that were neither a success nor a 503; for an exception that
    escaped the app, the end of its traceback (the outermost frames and the error)."""
    return [(a.status, a.body[-1500:] if a.status == 0 else a.body[:500])
            for a in answers if a.status not in (303, 503)][:3]


def stored_with_outbox_row() -> set[str]:
    """Emails of the signatures that are in the database with their confirmation email."""
    emails = set(db.session.scalars(
        select(Signature.email).join(OutboxMessage, OutboxMessage.signature_id == Signature.id)
        .where(OutboxMessage.kind == "signature_confirmation")))
    db.session.remove()
    return emails


def signatures_of(email: str) -> int:
    found = len(db.session.scalars(select(Signature.id).where(Signature.email == email)).all())
    db.session.remove()
    return found


def terminate_app_connections() -> int:
    """pg_terminate_backend on every connection of the proxied app, from a direct one."""
    killed = db.session.scalars(
        text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
             "WHERE application_name = :name"), {"name": APPLICATION_NAME}).all()
    db.session.commit()
    db.session.remove()
    return sum(1 for ok in killed if ok)
