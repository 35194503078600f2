"""IP addresses become keyed hashes; signatures are anonymised after their petition closed."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from petitions.admin.models import AuditEntry
from petitions.database import utcnow
from petitions.extensions import db
from petitions.mail.models import OutboxMessage
from petitions.privacy import retention
from petitions.privacy.tasks import anonymise_closed, hash_old_ips
from petitions.signing.counting import fold_confirmed_signatures, recount_all
from petitions.signing.models import Petition, Signature
from tests.factories import PetitionFactory, SignatureFactory


def days_ago(days: float) -> datetime:
    return utcnow() - timedelta(days=days)


def fresh(model, row_id):
    return db.session.scalar(select(model).where(model.id == row_id)
                             .execution_options(populate_existing=True))


def expected_hash(app, ip: str) -> str:
    key = hmac.new(app.config["SECRET_KEY"].encode(), b"petitions.privacy.ip-hash.v1",
                   hashlib.sha256).digest()
    return hmac.new(key, ip.encode(), hashlib.sha256).hexdigest()


# --- IP addresses ---------------------------------------------------------------------------

def test_ip_addresses_older_than_30_days_become_a_keyed_hash(app):
    old = SignatureFactory(ip_address="203.0.113.9", created_at=days_ago(31))
    same_ip = SignatureFactory(ip_address="203.0.113.9", created_at=days_ago(40))
    other_ip = SignatureFactory(ip_address="2001:db8::1", created_at=days_ago(45))
    recent = SignatureFactory(ip_address="203.0.113.9", created_at=days_ago(29))
    ids = [s.id for s in (old, same_ip, other_ip, recent)]

    assert hash_old_ips.run() == 3

    old, same_ip, other_ip, recent = (fresh(Signature, i) for i in ids)
    assert (old.ip_address, old.ip_hash) == (None, expected_hash(app, "203.0.113.9"))
    assert same_ip.ip_hash == old.ip_hash  # stable: the same address, the same hash
    assert other_ip.ip_address is None and other_ip.ip_hash == expected_hash(app, "2001:db8::1")
    assert other_ip.ip_hash != old.ip_hash
    assert (recent.ip_address, recent.ip_hash) == ("203.0.113.9", None)


def test_hashing_again_changes_nothing(app):
    signature = SignatureFactory(ip_address="198.51.100.7", created_at=days_ago(60))
    assert hash_old_ips.run() == 1
    first = fresh(Signature, signature.id).ip_hash

    assert hash_old_ips.run() == 0

    assert fresh(Signature, signature.id).ip_hash == first == expected_hash(app, "198.51.100.7")


def test_an_ipv4_mapped_address_hashes_like_the_ipv4_address(app):
    mapped = SignatureFactory(ip_address="::ffff:192.0.2.1", created_at=days_ago(31))
    plain = SignatureFactory(ip_address="192.0.2.1", created_at=days_ago(31))

    hash_old_ips.run()

    assert fresh(Signature, mapped.id).ip_hash == fresh(Signature, plain.id).ip_hash


def test_hashing_works_through_every_batch_and_follows_ip_retention_days(app):
    petition = PetitionFactory()
    ids = [SignatureFactory(petition=petition, ip_address=f"192.0.2.{n}",
                            created_at=days_ago(10)).id for n in range(7)]
    assert retention.hash_old_ip_addresses(batch_size=3) == 0  # younger than 30 days

    app.config["IP_RETENTION_DAYS"] = 7

    assert retention.hash_old_ip_addresses(batch_size=3) == 7
    rows = [fresh(Signature, i) for i in ids]
    assert [r.ip_address for r in rows] == [None] * 7
    assert [r.ip_hash for r in rows] == [expected_hash(app, f"192.0.2.{n}") for n in range(7)]


def test_a_hashed_address_is_no_longer_found_by_address(app):
    SignatureFactory(ip_address="203.0.113.50", created_at=days_ago(31))
    hash_old_ips.run()

    assert db.session.scalar(
        select(Signature.id).where(Signature.ip_address == "203.0.113.50")) is None


# --- anonymising after a petition closed ---------------------------------------------------

SIGNERS = [
    # name, postcode, country, days before now it was confirmed, comment
    ("Zelda Quixotic", "SW1A 1AA", "GB", 250, "Stand together"),
    ("Barnaby Hiddenstone", "sw1a 2bb", "GB", 250, None),
    ("Carmen Ortega", "20004", "US", 240, "For my family"),
    ("Dmitri Volkov", "90210-1234", "US", 239, None),
    ("Esi Mensah", " ab1 2cd", "GH", 239, "Yes"),
]


def closed_petition(slug: str, closed_days_ago: float) -> Petition:
    return PetitionFactory(slug=slug, state="closed", closes_at=days_ago(closed_days_ago))


def sign_up(petition: Petition, prefix: str) -> list[int]:
    ids = []
    for n, (name, postcode, country, confirmed, comment) in enumerate(SIGNERS):
        ids.append(SignatureFactory(
            petition=petition, name=name, email=f"{prefix}{n}@example.org", postcode=postcode,
            country=country, comment=comment, state="confirmed",
            confirmed_at=days_ago(confirmed), created_at=days_ago(confirmed + 1),
            show_name_publicly=True, email_updates=True, ip_address=f"192.0.2.{n}").id)
    ids.append(SignatureFactory(
        petition=petition, email=f"{prefix}-fake@example.org", state="invalidated",
        invalidated_at=days_ago(230), confirmed_at=days_ago(240), postcode="10001").id)
    ids.append(SignatureFactory(
        petition=petition, email=f"{prefix}-flagged@example.org", state="confirmed",
        confirmed_at=days_ago(245), flagged=True, flag_reason="rate_limit",
        postcode="E1 6AN", country="GB").id)
    return ids


def all_exports(runner) -> dict[str, str]:
    outputs = {}
    for by in ("petition", "day", "country", "postcode"):
        for fmt in ("csv", "json"):
            result = runner.invoke(args=["export", "counts", "--by", by, "--format", fmt])
            assert result.exit_code == 0, result.output
            outputs[f"{by}.{fmt}"] = result.output
    return outputs


def test_anonymising_keeps_counts_and_every_breakdown_identical(app, runner):
    old = closed_petition("closed-long-ago", closed_days_ago=200)
    ids = sign_up(old, "old")
    recent = closed_petition("closed-lately", closed_days_ago=100)
    recent_ids = sign_up(recent, "recent")
    fold_confirmed_signatures()
    counts = {p.slug: p.signature_count for p in db.session.scalars(select(Petition))}
    assert counts == {"closed-long-ago": 5, "closed-lately": 5}  # flagged never counted
    before = all_exports(runner)
    assert "closed-long-ago,SW1,2" in before["postcode.csv"]

    assert anonymise_closed.run() == {"closed-long-ago": 7}

    assert all_exports(runner) == before
    assert recount_all() == 0
    assert {p.slug: p.signature_count
            for p in db.session.scalars(select(Petition).execution_options(
                populate_existing=True))} == counts
    rows = [fresh(Signature, i) for i in ids]
    assert [(r.name, r.email, r.comment, r.ip_address, r.ip_hash, r.show_name_publicly,
             r.email_updates) for r in rows] == [("", "", None, None, None, False, False)] * 7
    assert [r.canonical_email for r in rows] == [f"anonymised-{i}" for i in ids]
    assert [r.postcode for r in rows] == ["SW1", "SW1", "200", "902", "AB1", "100", "E16"]
    assert all(r.anonymised_at is not None for r in rows)
    # What makes the counts: untouched.
    assert [(r.state, r.counted, r.flagged, r.country) for r in rows] == [
        ("confirmed", True, False, "GB"), ("confirmed", True, False, "GB"),
        ("confirmed", True, False, "US"), ("confirmed", True, False, "US"),
        ("confirmed", True, False, "GH"), ("invalidated", False, False, "US"),
        ("confirmed", False, True, "GB")]
    # Within its retention: untouched.
    assert [fresh(Signature, i).name for i in recent_ids[:5]] == [s[0] for s in SIGNERS]
    assert all(fresh(Signature, i).anonymised_at is None for i in recent_ids)


def test_anonymising_cancels_the_signatures_waiting_emails_only(app):
    old = closed_petition("closed-long-ago", closed_days_ago=200)
    [signature_id, *_] = sign_up(old, "old")
    other = SignatureFactory(email="open@example.org")
    for owner in (signature_id, other.id):
        db.session.add(OutboxMessage(kind="petition_update", to_address="x@example.org",
                                     subject="News", text_body="Hi", html_body="<p>Hi</p>",
                                     message_id=f"<{owner}@petitions.test>", signature_id=owner))
    db.session.commit()

    anonymise_closed.run()

    assert db.session.scalars(select(OutboxMessage.signature_id)).all() == [other.id]


def test_anonymising_runs_in_batches_and_once(app):
    old = closed_petition("closed-long-ago", closed_days_ago=200)
    ids = sign_up(old, "old")

    assert retention.anonymise_closed_petitions(batch_size=2) == {"closed-long-ago": 7}
    assert all(fresh(Signature, i).anonymised_at is not None for i in ids)
    [entry] = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "signatures_anonymised")).all()
    assert (entry.target_id, entry.actor_id, entry.detail) == (
        str(old.id), None, {"signatures": 7, "months": 6})

    assert anonymise_closed.run() == {}


def test_retention_follows_signature_retention_months(app):
    old = closed_petition("closed-long-ago", closed_days_ago=100)
    sign_up(old, "old")
    assert anonymise_closed.run() == {}

    app.config["SIGNATURE_RETENTION_MONTHS"] = 3

    assert anonymise_closed.run() == {"closed-long-ago": 7}


def close_entry(petition: Petition, at: datetime, to: str = "closed") -> None:
    db.session.add(AuditEntry(action="petition_state_changed", target_type="petitions",
                              target_id=str(petition.id), at=at,
                              detail={"from": "open", "to": to}))
    db.session.commit()


def test_the_clock_starts_when_the_audit_log_says_it_closed(app):
    # Closing time long past, but it was reopened and closed again a month ago.
    reclosed = closed_petition("reclosed", closed_days_ago=300)
    close_entry(reclosed, days_ago(299))
    close_entry(reclosed, days_ago(30))
    # No closing time: closed by hand seven months ago.
    by_hand = PetitionFactory(slug="by-hand", state="archived", closes_at=None)
    close_entry(by_hand, days_ago(215))
    close_entry(by_hand, days_ago(200), to="archived")
    for petition in (reclosed, by_hand):
        SignatureFactory(petition=petition, state="confirmed", confirmed_at=days_ago(320))

    assert [p.slug for p in retention.petitions_due()] == ["by-hand"]


def test_without_audit_or_closing_time_the_clock_starts_at_the_last_change(app):
    stale = PetitionFactory(slug="stale", state="closed", closes_at=None)
    fresh_one = PetitionFactory(slug="fresh", state="closed", closes_at=None)
    stale.updated_at = days_ago(190)
    db.session.commit()

    assert [p.slug for p in retention.petitions_due()] == ["stale"]
    assert fresh_one.updated_at > days_ago(1)


def test_open_petitions_are_never_anonymised(app):
    petition = PetitionFactory(slug="still-open", state="open", closes_at=None)
    petition.updated_at = days_ago(400)
    db.session.commit()
    SignatureFactory(petition=petition, state="confirmed", confirmed_at=days_ago(399))

    assert anonymise_closed.run() == {}


@pytest.mark.parametrize(("moment", "months", "expected"), [
    (datetime(2026, 8, 31, 12, tzinfo=UTC), 6, datetime(2026, 2, 28, 12, tzinfo=UTC)),
    (datetime(2026, 3, 15, tzinfo=UTC), 6, datetime(2025, 9, 15, tzinfo=UTC)),
    (datetime(2026, 1, 1, tzinfo=UTC), 13, datetime(2024, 12, 1, tzinfo=UTC)),
])
def test_months_before(moment, months, expected):
    assert retention.months_before(moment, months) == expected
