"""Sending an update: exactly the right signers, once each, however often it is pressed
or resumed; the stop link and list headers; progress; the task wiring."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

from petitions.database import utcnow
from petitions.extensions import db
from petitions.mail import delivery
from petitions.mail.models import SuppressionReason
from petitions.mail.suppression import suppress
from petitions.updates import recipients, sending
from petitions.updates.links import read_stop_token, stop_token
from tests.factories import PetitionFactory, SignatureFactory
from tests.updates.helpers import (
    copies_per_recipient,
    draft,
    invalidate,
    ledger,
    publish_and_send,
    reload,
    send_published,
    signer,
    update_mail,
    update_outbox,
)


def test_an_update_reaches_exactly_the_consenting_confirmed_signers_once_each(app, mail):
    petition = PetitionFactory()
    signer(petition, "ana@example.org")
    signer(petition, "ben@example.org")
    signer(petition, "no-consent@example.org", email_updates=False)
    SignatureFactory(petition=petition, email="pending@example.org", email_updates=True)
    signer(petition, "stopped@example.org", email_updates=False, updates_stopped_at=utcnow())
    signer(petition, "stopped-flag-only@example.org", updates_stopped_at=utcnow())
    signer(petition, "Bounced@Example.org")
    suppress("bounced@example.org", SuppressionReason.HARD_BOUNCE)
    db.session.commit()
    signer(PetitionFactory(), "other-petition@example.org")
    update = draft(petition, title="We delivered it")

    assert publish_and_send(update) == 2

    messages = update_mail(mail)
    assert copies_per_recipient(messages) == {"ana@example.org": 1, "ben@example.org": 1}
    assert {m.subject for m in messages} == {f"We delivered it · {petition.title}"}
    assert [row.signature_id for row in ledger(update.id)] == sorted(
        row.signature_id for row in update_outbox())
    assert [row.state for row in update_outbox()] == ["sent", "sent"]
    sent = reload(update)
    assert sent.state == "sent" and sent.fanned_out_at is not None


def test_invalidated_signatures_never_get_updates(app, mail):
    petition = PetitionFactory()
    signer(petition, "kept@example.org")
    invalidate(signer(petition, "invalidated@example.org"))
    update = draft(petition)

    assert publish_and_send(update) == 1

    assert copies_per_recipient(update_mail(mail)) == {"kept@example.org": 1}


def test_running_the_send_again_or_a_chunk_twice_sends_nothing_more(app, mail):
    petition = PetitionFactory()
    emails = [signer(petition, f"s{i}@example.org").email for i in range(5)]
    update = draft(petition)
    sending.publish(update)
    db.session.commit()
    app.config["DIGEST_CHUNK_SIZE"] = 2
    bounds = list(sending.chunk_bounds(update))
    assert len(bounds) == 3

    first = sending.build_chunk(update.id, *bounds[0])
    again = sending.build_chunk(update.id, *bounds[0])  # a redelivered task
    assert (first, again) == (2, 0)
    assert send_published(update.id) == 3
    assert send_published(update.id) == 0

    assert copies_per_recipient(update_mail(mail)) == {email: 1 for email in emails}
    assert len(ledger(update.id)) == 5 and len(update_outbox()) == 5


def test_someone_who_signs_after_the_update_was_sent_does_not_get_it(app, mail):
    petition = PetitionFactory()
    signer(petition, "early@example.org")
    update = draft(petition)
    sending.publish(update)
    db.session.commit()
    signer(petition, "late@example.org", confirmed_at=utcnow() + timedelta(seconds=1))

    send_published(update.id)

    assert copies_per_recipient(update_mail(mail)) == {"early@example.org": 1}
    assert reload(update).state == "sent"


def test_a_fan_out_that_dies_mid_chunk_and_is_resumed_reaches_everyone_once(app, mail):
    petition = PetitionFactory()
    emails = [signer(petition, f"r{i}@example.org").email for i in range(10)]
    update = draft(petition)
    sending.publish(update)
    db.session.commit()
    app.config["DIGEST_CHUNK_SIZE"] = 3
    bounds = list(sending.chunk_bounds(update))

    sending.build_chunk(update.id, *bounds[0])
    delivery.deliver_due()
    # The second chunk's worker is killed before its commit: its rows vanish with it.
    planned = sending.plan_chunk(update, *bounds[1])
    db.session.execute(
        sending.insert_ignoring_duplicates(sending.UpdateDelivery.__table__, db.engine),
        [{"update_id": update.id, "signature_id": row.id, "message_id": f"<x{row.id}@t>",
          "created_at": utcnow()} for row in planned])
    db.session.rollback()
    assert len(update_mail(mail)) == 3 and len(ledger(update.id)) == 3
    stuck = reload(update)
    assert stuck.state == "sending" and stuck.fanned_out_at is None
    assert recipients.progress_of([stuck])[update.id].waiting == 7

    # Nothing moves for a while: the sweep finds it, and resuming finishes the job.
    assert sending.stalled_updates(utcnow() + timedelta(minutes=11)) == [update.id]
    assert send_published(update.id) == 7

    assert copies_per_recipient(update_mail(mail)) == {email: 1 for email in emails}
    assert reload(update).state == "sent"
    assert sending.stalled_updates(utcnow() + timedelta(minutes=11)) == []


def test_a_sweep_leaves_recent_and_finished_sends_alone(app):
    petition = PetitionFactory()
    signer(petition, "a@example.org")
    recent = draft(petition)
    sending.publish(recent)
    finished = draft(petition, title="Done")
    sending.publish(finished)
    db.session.commit()
    send_published(finished.id)

    assert sending.stalled_updates() == []
    assert sending.stalled_updates(utcnow() + timedelta(minutes=11)) == [recent.id]


def test_a_signer_who_stops_updates_after_queueing_gets_nothing(app, mail, client):
    petition = PetitionFactory()
    keep = signer(petition, "keep@example.org")
    leaver = signer(petition, "leaver@example.org")
    update = draft(petition)
    sending.publish(update)
    db.session.commit()
    assert sending.fan_out(update.id) == 2

    token = stop_token(leaver.id, leaver.canonical_email)
    assert client.post(f"/updates/stop/{token}").status_code == 200
    totals = delivery.deliver_due()

    assert (totals["sent"], totals["cancelled"]) == (1, 1)
    assert copies_per_recipient(update_mail(mail)) == {keep.email: 1}
    [_, skipped] = update_outbox()
    assert (skipped.to_address, skipped.state) == ("leaver@example.org", "failed")
    assert skipped.last_error == "not sent: stopped updates or invalidated since it was queued"
    progress = recipients.progress_of([reload(update)])[update.id]
    assert (progress.planned, progress.sent, progress.skipped, progress.queued) == (2, 1, 1, 0)
    assert progress.finished


def test_a_signature_invalidated_after_queueing_gets_nothing(app, mail):
    petition = PetitionFactory()
    keep = signer(petition, "keep@example.org")
    fraud = signer(petition, "fraud@example.org")
    update = draft(petition)
    sending.publish(update)
    db.session.commit()
    assert sending.fan_out(update.id) == 2

    invalidate(fraud)
    totals = delivery.deliver_due()

    assert (totals["sent"], totals["cancelled"]) == (1, 1)
    assert copies_per_recipient(update_mail(mail)) == {keep.email: 1}


def test_each_email_has_its_own_stop_link_and_the_list_headers(app, mail):
    petition = PetitionFactory(slug="save-the-library")
    ana = signer(petition, "ana@example.org")
    update = draft(petition, title="Hearing on Tuesday", body="Come to the **hearing**.")
    publish_and_send(update)

    [caught] = update_mail(mail)
    message = caught.message
    token = stop_token(ana.id, ana.canonical_email)
    stop = f"{app.config['BASE_URL']}/updates/stop/{token}"
    mailto = app.config["UNSUBSCRIBE_MAILTO"]
    assert message["List-Unsubscribe"] == (
        f"<{stop}>, <mailto:{mailto}?subject={quote('unsubscribe ' + token)}>")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Id"] == (
        f"Updates on save-the-library <{petition.id}.updates.{app.config['LIST_ID_DOMAIN']}>")
    assert message["Precedence"] == "bulk"
    assert message["Auto-Submitted"] is None  # a person wrote it
    text, html = caught.part("plain"), caught.part("html")
    assert stop in text and f'href="{stop}"' in html
    assert "Come to the **hearing**." in text and "<strong>hearing</strong>" in html
    assert f"{app.config['BASE_URL']}/petitions/save-the-library" in text
    assert read_stop_token(token).id == ana.id


def test_progress_counts_queued_sent_and_failed(app, mail):
    petition = PetitionFactory()
    for name in ("a", "b", "reject-me"):
        signer(petition, f"{name}@example.org")
    update = draft(petition)
    assert recipients.progress_of([update])[update.id].planned == 3
    sending.publish(update)
    db.session.commit()
    sending.fan_out(update.id)

    queued = recipients.progress_of([reload(update)])[update.id]
    assert (queued.planned, queued.queued, queued.sent, queued.finished) == (3, 3, 0, False)

    mail.rules["reject-me"] = "550 5.1.1 No such user"
    delivery.deliver_due()
    done = recipients.progress_of([reload(update)])[update.id]
    assert (done.planned, done.queued, done.sent, done.failed, done.skipped) == (3, 0, 2, 1, 0)
    assert done.finished


def test_the_workers_fan_out_in_chunks_and_deliver(app, mail, eager_tasks):
    petition = PetitionFactory()
    emails = [signer(petition, f"w{i}@example.org").email for i in range(5)]
    update = draft(petition)
    sending.publish(update)
    update_id = update.id
    db.session.commit()  # and touch nothing after it: the tasks need SQLite's write lock
    app.config["DIGEST_CHUNK_SIZE"] = 2

    assert sending.start(update_id)

    assert copies_per_recipient(update_mail(mail)) == {email: 1 for email in emails}
    assert reload(update).state == "sent"
