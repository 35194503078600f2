"""Invalidating signatures, one or many: counts, email, confirmation links, audit, CSRF."""

from __future__ import annotations

import re
import threading
import time

import pytest
from sqlalchemy import select

from petitions.admin import invalidation
from petitions.admin.models import AuditEntry
from petitions.database import utcnow
from petitions.extensions import db
from petitions.mail.delivery import deliver_due
from petitions.signing.counting import fold_confirmed_signatures, recount_all
from petitions.signing.models import Petition, Signature
from petitions.signing.tokens import make_confirmation_token
from tests.factories import PetitionFactory, SignatureFactory
from tests.signing.helpers import outbox, sign, signatures
from tests.support.concurrency import run_concurrently

EXPECTED_COUNT = re.compile(r'name="expected_count" type="hidden" value="(\d+)"')


def count_of(petition_id: int) -> int:
    db.session.expire_all()
    return db.session.get(Petition, petition_id).signature_count


def counted(petition, n: int, **fields) -> list[Signature]:
    """n confirmed signatures, already added to the petition's count by a fold."""
    made = SignatureFactory.create_batch(n, petition=petition, state="confirmed",
                                         confirmed_at=utcnow(), **fields)
    fold_confirmed_signatures()
    return made


def audit_entries(action: str) -> list[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
    return list(db.session.scalars(query.execution_options(populate_existing=True)))


def invalidate_one(client, signature_id: int, reason="Duplicate signer", **extra):
    data = {"reason": reason, "csrf_token": client.csrf, **extra}
    return client.post(f"/admin/signatures/{signature_id}/invalidate", data=data)


def preview(client, **filters):
    return client.get("/admin/signatures/invalidate", query_string=filters)


def previewed_count(response) -> int:
    return int(EXPECTED_COUNT.search(response.get_data(as_text=True)).group(1))


def confirm_bulk(client, expected: int, reason="Bot run from one network", **filters):
    data = {**filters, "expected_count": str(expected), "reason": reason,
            "csrf_token": client.csrf}
    return client.post("/admin/signatures/invalidate", data=data)


@pytest.fixture
def petition(app):
    return PetitionFactory(slug="clean-air")


# --- one signature ------------------------------------------------------------------------

def test_invalidating_a_counted_signature_takes_it_off_the_count_at_once(
        moderator_client, petition):
    first, second, third = counted(petition, 3)
    assert count_of(petition.id) == 3

    response = invalidate_one(moderator_client, second.id, reason="  Signed twice  ")

    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/signatures/{second.id}"
    assert count_of(petition.id) == 2
    [gone] = signatures(id=second.id)
    assert (gone.state, gone.counted, gone.invalidation_reason) == ("invalidated", False,
                                                                    "Signed twice")
    assert gone.invalidated_at is not None and gone.confirmed_at is not None
    assert {s.state for s in signatures() if s.id != second.id} == {"confirmed"}
    # The fold and the nightly recount agree with the count we left.
    assert fold_confirmed_signatures() == 0
    assert recount_all() == 0
    assert count_of(petition.id) == 2
    [entry] = audit_entries("signature_invalidated")
    assert (entry.actor_email, entry.target_type, entry.target_id) == (
        moderator_client.account.email, "signatures", str(second.id))
    assert entry.detail == {"reason": "Signed twice", "petition": "clean-air", "was_counted": True}
    page = moderator_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Signature invalidated." in page and "Signed twice" in page


def test_invalidating_a_confirmed_signature_not_yet_folded_keeps_it_out_of_the_count(
        moderator_client, petition):
    counted(petition, 2)
    fresh = SignatureFactory(petition=petition, state="confirmed", confirmed_at=utcnow())
    assert count_of(petition.id) == 2  # not folded yet

    assert invalidate_one(moderator_client, fresh.id).status_code == 303

    assert count_of(petition.id) == 2
    assert fold_confirmed_signatures() == 0
    assert recount_all() == 0
    assert count_of(petition.id) == 2
    assert audit_entries("signature_invalidated")[0].detail["was_counted"] is False


def test_invalidating_twice_changes_nothing_the_second_time(moderator_client, petition):
    [signature] = counted(petition, 1)
    invalidate_one(moderator_client, signature.id)

    again = invalidate_one(moderator_client, signature.id)

    assert again.status_code == 303
    assert "That signature was already invalidated." in moderator_client.get(
        again.headers["Location"]).get_data(as_text=True)
    assert count_of(petition.id) == 0
    assert len(audit_entries("signature_invalidated")) == 1


@pytest.mark.parametrize("reason, message", [
    ("", "Give a reason: it goes in the audit log."),
    ("   ", "Give a reason: it goes in the audit log."),
    ("x" * 501, "Keep the reason to 500 characters or fewer."),
    ("spam\x00", "That has a character that can't be saved."),
])
def test_a_reason_is_required_and_at_most_500_characters(moderator_client, petition, reason,
                                                         message):
    [signature] = counted(petition, 1)

    response = invalidate_one(moderator_client, signature.id, reason=reason)

    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert signatures()[0].state == "confirmed"
    assert count_of(petition.id) == 1
    assert audit_entries("signature_invalidated") == []


def test_a_reason_of_exactly_500_characters_is_kept_whole(moderator_client, petition):
    [signature] = counted(petition, 1)

    assert invalidate_one(moderator_client, signature.id, reason="x" * 500).status_code == 303
    assert signatures()[0].invalidation_reason == "x" * 500


def test_an_unknown_signature_is_404(moderator_client):
    assert moderator_client.get("/admin/signatures/999999").status_code == 404
    assert invalidate_one(moderator_client, 999999).status_code == 404


def test_posts_without_a_csrf_token_are_refused(moderator_client, petition):
    [signature] = counted(petition, 1)
    invalid = SignatureFactory(petition=petition, state="invalidated", invalidated_at=utcnow(),
                               invalidation_reason="spam")

    for url, data in [
        (f"/admin/signatures/{signature.id}/invalidate", {"reason": "spam"}),
        (f"/admin/signatures/{invalid.id}/restore", {}),
        ("/admin/signatures/invalidate", {"petition": "clean-air", "expected_count": "1",
                                          "reason": "spam"}),
    ]:
        response = moderator_client.post(url, data=data)
        assert response.status_code == 400, url
        assert "Your form expired" in response.get_data(as_text=True)
    assert {(s.id, s.state) for s in signatures()} == {(signature.id, "confirmed"),
                                                      (invalid.id, "invalidated")}
    assert count_of(petition.id) == 1
    assert db.session.scalars(select(AuditEntry.action)).all() == ["login"]


# --- email and the confirmation link ------------------------------------------------------

def test_pending_mail_is_cancelled_and_nothing_is_sent(app, client, moderator_client, petition,
                                                       mail):
    sign(client, "clean-air", email="bot@example.net")
    [signature] = signatures()
    [queued] = outbox()
    assert (queued.kind, queued.state) == ("signature_confirmation", "pending")

    invalidate_one(moderator_client, signature.id)

    [cancelled] = outbox()
    assert (cancelled.state, cancelled.last_error) == ("failed", "not sent: signature invalidated")
    assert deliver_due()["sent"] == 0
    assert mail.messages == []


def test_mail_claimed_before_the_invalidation_is_cancelled_at_send_time(app, client,
                                                                        moderator_client,
                                                                        petition, mail):
    sign(client, "clean-air", email="bot@example.net")
    [signature] = signatures()
    [queued] = outbox()
    queued.state = "sending"  # a sender had claimed it; the stale-claim sweep gives it back
    db.session.commit()
    invalidate_one(moderator_client, signature.id)
    assert outbox()[0].state == "sending"
    queued.state = "pending"
    db.session.commit()

    assert deliver_due() == {"sent": 0, "retry": 0, "failed": 0, "cancelled": 1}

    assert mail.messages == []
    [cancelled] = outbox()
    assert (cancelled.state, cancelled.last_error) == ("failed", "not sent: signature invalidated")


def test_other_signers_mail_is_untouched(client, moderator_client, petition, mail):
    sign(client, "clean-air", email="bot@example.net")
    sign(client, "clean-air", email="human@example.org")
    bot = signatures(email="bot@example.net")[0]

    invalidate_one(moderator_client, bot.id)

    assert deliver_due()["sent"] == 1
    assert [m.to for m in mail.messages] == ["human@example.org"]


def test_the_confirmation_link_of_an_invalidated_signature_answers_like_a_bad_link(
        client, moderator_client, petition):
    pending = SignatureFactory(petition=petition)
    token = make_confirmation_token(pending.id, pending.canonical_email)
    invalidate_one(moderator_client, pending.id, reason="Fake name")

    looked = client.get(f"/confirm/{token}")
    page = client.get("/petitions/clean-air").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    posted = client.post(f"/confirm/{token}", data={"csrf_token": csrf})

    garbage = client.get("/confirm/not-a-token").get_data(as_text=True)
    for response in (looked, posted):
        assert response.status_code == 404
        text = response.get_data(as_text=True)
        # The same page as a mistyped link, nothing about moderation (the page's own
        # address, in its hreflang alternates, aside).
        assert text.replace(token, "not-a-token") == garbage
        assert "invalidat" not in text.lower() and "Fake name" not in text
    [signature] = signatures()
    assert (signature.state, signature.confirmed_at) == ("invalidated", None)
    assert fold_confirmed_signatures() == 0 and count_of(petition.id) == 0


def test_signing_again_with_an_invalidated_address_sends_nothing(client, moderator_client,
                                                                  petition, mail):
    sign(client, "clean-air", email="bot@example.net")
    invalidate_one(moderator_client, signatures()[0].id)

    again = sign(client, "clean-air", email="bot@example.net")

    assert again.status_code == 303  # the same "check your email" page as everyone gets
    assert [(m.kind, m.state) for m in outbox()] == [("signature_confirmation", "failed")]
    assert signatures()[0].state == "invalidated"
    assert deliver_due()["sent"] == 0


# --- restoring ----------------------------------------------------------------------------

def restore(client, signature_id: int):
    return client.post(f"/admin/signatures/{signature_id}/restore",
                       data={"csrf_token": client.csrf})


def test_restoring_a_confirmed_signature_counts_it_again_at_the_next_fold(moderator_client,
                                                                          petition):
    [signature] = counted(petition, 1)
    invalidate_one(moderator_client, signature.id, reason="Looked fake")
    assert count_of(petition.id) == 0

    response = restore(moderator_client, signature.id)

    assert response.status_code == 303
    [back] = signatures()
    assert (back.state, back.counted, back.invalidated_at, back.invalidation_reason) == (
        "confirmed", False, None, None)
    assert count_of(petition.id) == 0
    assert fold_confirmed_signatures() == 1
    assert count_of(petition.id) == 1
    assert recount_all() == 0
    [entry] = audit_entries("signature_restored")
    assert entry.target_id == str(signature.id)
    assert entry.detail == {"state": "confirmed", "petition": "clean-air",
                            "invalidation_reason": "Looked fake"}


def test_restoring_a_never_confirmed_signature_makes_it_pending_and_its_link_work_again(
        client, moderator_client, petition):
    pending = SignatureFactory(petition=petition)
    token = make_confirmation_token(pending.id, pending.canonical_email)
    invalidate_one(moderator_client, pending.id)

    restore(moderator_client, pending.id)

    assert signatures()[0].state == "pending"
    assert client.get(f"/confirm/{token}").status_code == 200
    assert audit_entries("signature_restored")[0].detail["state"] == "pending"


def test_restoring_a_signature_that_is_not_invalidated_changes_nothing(moderator_client,
                                                                       petition):
    [signature] = counted(petition, 1)

    response = restore(moderator_client, signature.id)

    assert "nothing to restore" in moderator_client.get(
        response.headers["Location"]).get_data(as_text=True)
    assert (signatures()[0].state, signatures()[0].counted) == ("confirmed", True)
    assert audit_entries("signature_restored") == []


# --- many signatures ----------------------------------------------------------------------

def test_bulk_preview_shows_the_count_and_the_confirm_step_invalidates_exactly_those(
        moderator_client, petition, monkeypatch):
    monkeypatch.setattr(invalidation, "BATCH_SIZE", 3)  # several batches
    other = PetitionFactory(slug="other")
    bad_counted = counted(petition, 4, ip_address="203.0.113.5")
    bad_counted += counted(other, 2, ip_address="203.0.113.6")
    good = counted(petition, 5, ip_address="198.51.100.1")
    bad_unfolded = SignatureFactory.create_batch(2, petition=petition, state="confirmed",
                                                 confirmed_at=utcnow(), ip_address="203.0.113.7")
    bad_pending = SignatureFactory.create_batch(3, petition=other, ip_address="203.0.113.8")
    SignatureFactory(petition=petition, state="invalidated", invalidated_at=utcnow(),
                     invalidation_reason="earlier", ip_address="203.0.113.9")
    assert (count_of(petition.id), count_of(other.id)) == (9, 2)

    page = preview(moderator_client, ip="203.0.113.0/24")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "11 signatures would be invalidated." in text
    assert previewed_count(page) == 11
    assert '<input type="hidden" name="ip" value="203.0.113.0/24">' in text

    done = confirm_bulk(moderator_client, 11, ip="203.0.113.0/24")

    assert done.status_code == 303
    assert done.headers["Location"] == "/admin/signatures/?ip=203.0.113.0/24"
    bad_ids = {s.id for s in bad_counted + bad_unfolded + bad_pending}
    assert {s.id for s in signatures(state="invalidated", invalidation_reason=
                                     "Bot run from one network")} == bad_ids
    assert (count_of(petition.id), count_of(other.id)) == (5, 0)
    assert fold_confirmed_signatures() == 0
    assert recount_all() == 0
    assert (count_of(petition.id), count_of(other.id)) == (5, 0)
    assert {s.state for s in signatures() if s.id in {g.id for g in good}} == {"confirmed"}
    [entry] = audit_entries("signatures_invalidated")
    assert entry.actor_email == moderator_client.account.email
    assert entry.detail == {"filters": {"ip": "203.0.113.0/24"}, "count": 11,
                            "reason": "Bot run from one network",
                            "uncounted": {"clean-air": 4, "other": 2}}
    assert "Invalidated 11 signatures." in moderator_client.get(
        done.headers["Location"]).get_data(as_text=True)


def test_bulk_confirm_is_refused_when_the_count_changed_since_the_preview(moderator_client,
                                                                          petition):
    counted(petition, 3, postcode="SW1A 1AA")
    assert previewed_count(preview(moderator_client, postcode="SW1A")) == 3
    counted(petition, 1, postcode="SW1A 2BB")  # signed meanwhile

    refused = confirm_bulk(moderator_client, 3, postcode="SW1A")

    assert refused.status_code == 409
    text = refused.get_data(as_text=True)
    assert "You previewed 3, and now 4 match. Nothing was invalidated." in text
    assert previewed_count(refused) == 4
    assert "Bot run from one network" in text  # the reason is kept for the second try
    assert {s.state for s in signatures()} == {"confirmed"}
    assert count_of(petition.id) == 4
    assert audit_entries("signatures_invalidated") == []

    assert confirm_bulk(moderator_client, 4, postcode="SW1A").status_code == 303
    assert count_of(petition.id) == 0


def test_bulk_invalidation_needs_filters_a_reason_and_good_values(moderator_client, petition):
    counted(petition, 2)

    assert preview(moderator_client).status_code == 400
    assert "Choose at least one filter" in preview(moderator_client).get_data(as_text=True)
    assert confirm_bulk(moderator_client, 2).status_code == 400
    bad_ip = confirm_bulk(moderator_client, 2, ip="203.0.113.0/99")
    assert bad_ip.status_code == 422
    assert "Enter an IP address like" in bad_ip.get_data(as_text=True)
    assert preview(moderator_client, date_from="soon").status_code == 422
    no_reason = confirm_bulk(moderator_client, 2, reason="", petition="clean-air")
    assert no_reason.status_code == 422
    assert "Give a reason" in no_reason.get_data(as_text=True)
    bad_count = confirm_bulk(moderator_client, "two", petition="clean-air")
    assert bad_count.status_code == 422
    assert "The preview count is not a number." in bad_count.get_data(as_text=True)
    assert {s.state for s in signatures()} == {"confirmed"}
    assert count_of(petition.id) == 2


def test_already_invalidated_signatures_are_not_counted_again_in_bulk(moderator_client,
                                                                      petition):
    counted(petition, 2, name="Robot Smith")
    invalidate_one(moderator_client, signatures()[0].id)

    page = preview(moderator_client, name="robot")
    assert "1 signature would be invalidated." in page.get_data(as_text=True)
    nothing = preview(moderator_client, name="robot", state="invalidated")
    assert "Nothing to invalidate" in nothing.get_data(as_text=True)
    assert 'name="expected_count"' not in nothing.get_data(as_text=True)

    assert confirm_bulk(moderator_client, 1, name="robot").status_code == 303
    assert count_of(petition.id) == 0
    assert audit_entries("signatures_invalidated")[0].detail["count"] == 1


def test_the_search_page_links_to_the_bulk_preview_with_its_filters(moderator_client, petition):
    counted(petition, 1, postcode="AB1 2CD")

    page = moderator_client.get("/admin/signatures/?postcode=ab1").get_data(as_text=True)

    assert 'href="/admin/signatures/invalidate?postcode=AB1"' in page


def test_admins_may_invalidate_too(admin_client, petition):
    [signature] = counted(petition, 1)

    assert invalidate_one(admin_client, signature.id).status_code == 303
    assert count_of(petition.id) == 0


def test_bulk_invalidation_alongside_confirmations_and_folds_keeps_counts_exact(
        app, moderator_client, no_csrf):
    petition = PetitionFactory()
    bots = SignatureFactory.create_batch(60, petition=petition, ip_address="192.0.2.1")
    people = SignatureFactory.create_batch(60, petition=petition, ip_address="198.51.100.1")
    tokens = [make_confirmation_token(s.id, s.canonical_email) for s in bots + people]
    petition_id = petition.id
    stop = threading.Event()

    def fold_until_stopped():
        with app.app_context():
            try:
                while not stop.is_set():
                    fold_confirmed_signatures(batch_size=7)
                    time.sleep(0.002)
            finally:
                db.session.remove()

    def work(kind, share):
        if kind == "confirm":
            browser = app.test_client()
            return [browser.post(f"/confirm/{token}").status_code for token in share]
        time.sleep(0.05)  # let some confirmations and folds happen first
        with app.app_context():
            try:
                from petitions.admin.signature_search import SignatureFilters, parse_network
                filters = SignatureFilters(network=parse_network("192.0.2.1"))
                while True:
                    try:
                        return invalidation.invalidate_matching(filters, "bots", 60)
                    except invalidation.CountChanged as changed:
                        assert changed.count == 60  # the set of bots never changes
            finally:
                db.session.remove()

    db.session.commit()
    folder = threading.Thread(target=fold_until_stopped)
    folder.start()
    try:
        results = run_concurrently(work, [("confirm", tokens[i::4]) for i in range(4)]
                                   + [("invalidate", None)])
    finally:
        stop.set()
        folder.join(60)

    assert results[-1] == 60
    fold_confirmed_signatures()
    assert recount_all() == 0  # the count we kept was exact all along
    assert count_of(petition_id) == 60
    states = {(s.ip_address, s.state, s.counted) for s in signatures()}
    assert states == {("192.0.2.1", "invalidated", False), ("198.51.100.1", "confirmed", True)}
