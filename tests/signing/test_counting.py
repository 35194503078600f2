"""Counts are folded in batches from confirmed signatures: exact, never doubled, repairable."""

import threading
import time

import pytest
from sqlalchemy import func, select, update

from petitions.database import utcnow
from petitions.extensions import db
from petitions.signing import counting
from petitions.signing.counting import fold_confirmed_signatures, recount_all
from petitions.signing.models import Petition
from petitions.signing.tokens import make_confirmation_token
from tests.factories import PetitionFactory, SignatureFactory
from tests.signing.helpers import signatures
from tests.support.concurrency import run_concurrently


def confirmed(petition, n: int):
    return SignatureFactory.create_batch(n, petition=petition, state="confirmed",
                                         confirmed_at=utcnow())


def count_of(petition_id: int) -> int:
    db.session.expire_all()
    return db.session.get(Petition, petition_id).signature_count


def test_fold_adds_confirmed_signatures_and_ignores_pending_ones(app):
    first, second = PetitionFactory(), PetitionFactory()
    confirmed(first, 3)
    confirmed(second, 1)
    SignatureFactory.create_batch(2, petition=first)  # pending
    first_id, second_id = first.id, second.id

    assert fold_confirmed_signatures() == 4
    assert (count_of(first_id), count_of(second_id)) == (3, 1)
    assert {(s.state, s.counted) for s in signatures()} == {("confirmed", True), ("pending", False)}

    assert fold_confirmed_signatures() == 0  # nothing new: counts stay put
    assert (count_of(first_id), count_of(second_id)) == (3, 1)


def test_fold_in_small_batches_counts_every_signature_once(app):
    petition = PetitionFactory()
    confirmed(petition, 7)

    assert fold_confirmed_signatures(batch_size=3) == 7
    assert count_of(petition.id) == 7


def test_confirm_request_does_not_change_the_petition_count(app, client, no_csrf):
    petition = PetitionFactory(slug="counted")
    signature = SignatureFactory(petition=petition)
    token = make_confirmation_token(signature.id, signature.canonical_email)

    assert client.post(f"/confirm/{token}").status_code == 200

    assert signatures()[0].state == "confirmed"
    assert count_of(petition.id) == 0
    assert client.get("/petitions/counted/count.json").get_json()["signature_count"] == 0
    fold_confirmed_signatures()
    assert count_of(petition.id) == 1


def test_concurrent_confirmations_while_folding_end_in_an_exact_count(app, no_csrf):
    petition = PetitionFactory()
    pending = SignatureFactory.create_batch(120, petition=petition)
    tokens = [make_confirmation_token(s.id, s.canonical_email) for s in pending]
    petition_id = petition.id
    stop_folding = threading.Event()
    folded_meanwhile = []

    def fold_until_stopped():
        with app.app_context():
            try:
                while not stop_folding.is_set():
                    folded_meanwhile.append(fold_confirmed_signatures())
                    time.sleep(0.005)  # let SQLite's waiting writers in
            finally:
                db.session.remove()

    def confirm_in_own_browser(share):
        browser = app.test_client()
        return [browser.post(f"/confirm/{token}").status_code for token in share]

    db.session.commit()  # don't hold SQLite's write lock while the folder starts
    folder = threading.Thread(target=fold_until_stopped)
    folder.start()
    try:
        statuses = run_concurrently(confirm_in_own_browser, [(tokens[i::8],) for i in range(8)])
    finally:
        stop_folding.set()
        folder.join(60)
    assert not folder.is_alive()

    assert sum(statuses, []) == [200] * 120
    final = fold_confirmed_signatures()
    assert sum(folded_meanwhile) + final == 120
    assert count_of(petition_id) == 120
    assert {(s.state, s.counted) for s in signatures()} == {("confirmed", True)}


def test_concurrent_folds_never_count_a_signature_twice(app):
    first, second = PetitionFactory(), PetitionFactory()
    confirmed(first, 90)
    confirmed(second, 60)
    first_id, second_id = first.id, second.id

    def fold_in_own_context():
        with app.app_context():
            try:
                return fold_confirmed_signatures(batch_size=7)
            finally:
                db.session.remove()

    folded = run_concurrently(fold_in_own_context, [()] * 6)
    folded.append(fold_confirmed_signatures())  # anything a fold left for the next one

    assert sum(folded) == 150
    assert (count_of(first_id), count_of(second_id)) == (90, 60)


def test_recount_repairs_a_wrong_count_and_reports_no_changes_when_counts_are_right(app):
    wrong, right, empty = PetitionFactory(), PetitionFactory(), PetitionFactory()
    confirmed(wrong, 3)
    confirmed(right, 2)
    SignatureFactory(petition=wrong)  # pending: never counted
    ids = (wrong.id, right.id, empty.id)
    fold_confirmed_signatures()
    db.session.execute(update(Petition).where(Petition.id == ids[0]).values(signature_count=99))
    db.session.commit()

    assert recount_all() == 1
    assert [count_of(i) for i in ids] == [3, 2, 0]
    assert recount_all() == 0
    assert [count_of(i) for i in ids] == [3, 2, 0]


def test_recount_counts_confirmations_not_yet_folded_without_calling_them_drift(app):
    petition = PetitionFactory()
    confirmed(petition, 4)

    assert recount_all() == 0  # its own fold counted them: no count was wrong
    assert count_of(petition.id) == 4
    assert {s.counted for s in signatures()} == {True}


def test_flagged_signatures_are_stored_but_never_counted(app):
    petition = PetitionFactory()
    SignatureFactory(petition=petition, state="confirmed", confirmed_at=utcnow())
    SignatureFactory(petition=petition, state="confirmed", confirmed_at=utcnow(),
                     flagged=True, flag_reason="rate_limit")

    assert fold_confirmed_signatures() == 1
    recount_all()
    db.session.refresh(petition)
    assert petition.signature_count == 1


def test_a_fold_never_waits_for_another_fold(app):
    """Beat sends a fold every COUNT_REFRESH_SECONDS; one that finds another still at work
    (slow, on a busy machine) leaves at once instead of queueing on its rows."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite lets one writer in at a time: folds cannot overlap")
    petition = PetitionFactory()
    confirmed(petition, 5)
    db.session.commit()
    with db.engine.connect() as other_fold:  # holds the fold's lock, as a fold at work does
        assert other_fold.execute(select(func.pg_try_advisory_xact_lock(
            counting.FOLD_LOCK, func.hashtext(func.current_schema())))).scalar()
        started = time.monotonic()
        assert fold_confirmed_signatures() == 0
        assert time.monotonic() - started < 1
        other_fold.rollback()
    assert fold_confirmed_signatures() == 5
    assert count_of(petition.id) == 5
