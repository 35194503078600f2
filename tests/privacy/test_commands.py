"""`flask privacy retention`: what beat's retention tasks do, run now, and said plainly."""

from __future__ import annotations

import re

from sqlalchemy import select

from petitions.admin.models import AuditEntry
from petitions.extensions import db
from petitions.signing.models import Signature
from tests.factories import SignatureFactory
from tests.privacy.test_retention import closed_petition, days_ago, fresh, sign_up


def retention(runner, *options: str):
    result = runner.invoke(args=["privacy", "retention", *options])
    assert result.exit_code == 0, result.output
    return result


def some_of_everything() -> tuple[list[int], list[int]]:
    """A petition past its retention (7 signatures, 5 with an IP address), one within it
    (its 5 IP addresses are old enough to hash) and two signatures with a recent address."""
    long_closed = sign_up(closed_petition("closed-long-ago", closed_days_ago=200), "old")
    sign_up(closed_petition("closed-lately", closed_days_ago=100), "recent")
    recent = [SignatureFactory(ip_address="203.0.113.9", created_at=days_ago(2)).id
              for _ in range(2)]
    return long_closed, recent


def test_retention_hashes_old_addresses_anonymises_and_summarises(app, runner):
    long_closed, recent = some_of_everything()

    result = retention(runner)

    assert result.stdout == "closed-long-ago: 7 signatures anonymised\n"
    assert re.fullmatch(r"Retention: 10 IP addresses hashed, 1 petition anonymised "
                        r"\(7 signatures\) in \d+\.\d s\n", result.stderr)
    assert all(fresh(Signature, i).anonymised_at is not None for i in long_closed)
    assert [fresh(Signature, i).ip_address for i in recent] == ["203.0.113.9"] * 2
    assert db.session.scalar(select(Signature.id).where(
        Signature.created_at < days_ago(30), Signature.ip_address.is_not(None))) is None


def test_a_second_run_finds_nothing_to_do(app, runner):
    some_of_everything()
    retention(runner)

    again = retention(runner)

    assert again.stdout == ""
    assert again.stderr.startswith(
        "Retention: 0 IP addresses hashed, 0 petitions anonymised (0 signatures) in ")


def test_dry_run_counts_what_is_due_and_changes_nothing(app, runner):
    long_closed, _ = some_of_everything()

    result = retention(runner, "--dry-run")

    assert result.stdout == "closed-long-ago: 7 signatures to anonymise\n"
    assert result.stderr == ("Retention (dry run): 10 IP addresses would be hashed, 1 petition "
                             "(7 signatures) would be anonymised; nothing was changed.\n")
    assert all(fresh(Signature, i).anonymised_at is None for i in long_closed)
    assert fresh(Signature, long_closed[0]).ip_address == "192.0.2.0"
    assert db.session.scalars(select(AuditEntry)).all() == []


def test_progress_hears_of_every_committed_batch(app):
    from petitions.privacy import retention as retention_module

    long_closed, _ = some_of_everything()
    hashed: list[int] = []
    anonymised: list[int] = []

    retention_module.hash_old_ip_addresses(batch_size=4, on_batch=hashed.append)
    retention_module.anonymise_closed_petitions(batch_size=3, on_batch=anonymised.append)

    assert hashed == [4, 4, 2]
    assert anonymised == [3, 3, 1]
    assert all(fresh(Signature, i).anonymised_at is not None for i in long_closed)
