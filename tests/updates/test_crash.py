"""Kill a real worker in the middle of sending an update, resume it: everyone gets one copy."""

from __future__ import annotations

import pytest

from petitions.extensions import db
from petitions.updates import sending
from petitions.updates.models import PetitionUpdate
from tests.factories import PetitionFactory
from tests.support.processes import wait_for
from tests.support.smtp import slow_smtp_sink
from tests.updates.helpers import copies_per_recipient, draft, ledger, signer

SIGNERS = 40


@pytest.fixture
def slow_sink(tmp_path):
    with slow_smtp_sink(tmp_path / "slow-mail") as sink:
        yield sink


def _recipients(store) -> set[str]:
    return {message.to for message in store.all()}


@pytest.mark.fault
@pytest.mark.slow
def test_a_send_killed_mid_way_and_resumed_reaches_everyone_exactly_once(
    app, start_worker, slow_sink
):
    store, smtp_url = slow_sink
    petition = PetitionFactory()
    emails = [signer(petition, f"signer{i}@example.org").email for i in range(SIGNERS)]
    update = draft(petition)
    sending.publish(update)
    update_id = update.id
    db.session.commit()
    db.session.remove()  # release SQLite's write lock while the worker runs
    settings = {"SMTP_URL": smtp_url, "DIGEST_CHUNK_SIZE": "7", "OUTBOX_SENDING_TIMEOUT": "1"}
    celery = app.extensions["celery"]

    first = start_worker(**settings)
    celery.send_task("updates.start", args=(update_id,))
    assert wait_for(lambda: len(store.ids()) >= 8, timeout=30), first.output()
    first.process.kill()  # SIGKILL: no clean-up, mid-chunk and mid-SMTP
    first.process.wait(10)
    assert len(store.ids()) < SIGNERS, "the send finished before it could be killed"

    second = start_worker(**settings)
    celery.send_task("updates.start", args=(update_id,))  # the admin's Resume, or the sweep
    celery.send_task("outbox.sweep")  # what beat does
    assert wait_for(lambda: len(_recipients(store)) >= SIGNERS, timeout=60), second.output()

    assert copies_per_recipient(store.all()) == {email: 1 for email in emails}
    assert len(ledger(update_id)) == SIGNERS
    assert wait_for(lambda: reload_state(update_id) == "sent", timeout=20)
    # The only duplicate SMTP can produce is a message accepted in the instant before
    # the worker died; it carries the same Message-ID, so it is the same message.
    assert len(store.ids()) <= SIGNERS + 1


def reload_state(update_id: int) -> str:
    db.session.remove()
    return db.session.get(PetitionUpdate, update_id).state
