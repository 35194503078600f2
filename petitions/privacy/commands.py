"""`flask privacy retention`: run the retention jobs now, and say what they did.

The very functions beat runs (privacy.hash_old_ips hourly, privacy.anonymise_closed
daily): IP addresses older than IP_RETENTION_DAYS become keyed hashes, then the
signatures of petitions closed SIGNATURE_RETENTION_MONTHS ago are anonymised. Both are
idempotent, so running this while beat runs them too is safe.
"""

from __future__ import annotations

import time

import click
from flask.cli import with_appcontext

from petitions.cli_progress import Progress, counted, elapsed, summarise
from petitions.database import utcnow
from petitions.extensions import db
from petitions.privacy import retention


@click.command("retention")
@click.option("--dry-run", is_flag=True, help="Count what is due; change nothing.")
@with_appcontext
def retention_command(dry_run: bool) -> None:
    """Hash old IP addresses and anonymise the signatures of petitions long closed."""
    started = time.monotonic()
    now = utcnow()
    old_addresses = retention.count_old_ip_addresses(now)
    due = retention.petitions_due(now)
    waiting = retention.signatures_to_anonymise(due)
    if dry_run:
        for petition in due:
            click.echo(f"{petition.slug}: {counted(waiting[petition.id], 'signature')} "
                       "to anonymise")
        db.session.rollback()
        summarise(f"Retention (dry run): {_addresses(old_addresses)} would be hashed, "
                  f"{counted(len(due), 'petition')} "
                  f"({counted(sum(waiting.values()), 'signature')}) would be anonymised; "
                  "nothing was changed.")
        return
    with Progress("Hashing IP addresses", old_addresses) as progress:
        hashed = retention.hash_old_ip_addresses(now, on_batch=progress.advance)
    with Progress("Anonymising signatures", sum(waiting.values())) as progress:
        anonymised = retention.anonymise_closed_petitions(now, on_batch=progress.advance)
    for slug, signatures in anonymised.items():
        click.echo(f"{slug}: {counted(signatures, 'signature')} anonymised")
    summarise(f"Retention: {_addresses(hashed)} hashed, "
              f"{counted(len(anonymised), 'petition')} anonymised "
              f"({counted(sum(anonymised.values()), 'signature')}) in {elapsed(started)}")


def _addresses(count: int) -> str:
    return counted(count, "IP address", "IP addresses")
