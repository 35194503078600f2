"""`flask digests send`: run (or resume) a digest now, or preview one subscriber's."""

from __future__ import annotations

import click
from flask import Blueprint
from sqlalchemy import select

from petitions.extensions import db
from petitions.mail import delivery
from petitions.mail.models import OutboxMessage
from petitions.mail.rendering import content_of, prepare
from petitions.newsletter import digests
from petitions.newsletter.subscribers import Subscriber
from petitions.signing.canonical import canonical_email

bp = Blueprint("digests_cli", __name__, cli_group="digests")


@bp.cli.command("send")
@click.option("--frequency", type=click.Choice(["daily", "weekly"]), required=True)
@click.option("--dry-run", is_flag=True, help="Show what would be sent; send and record nothing.")
@click.option("--to", "only_email", metavar="EMAIL", help="Only this subscriber (a preview).")
@click.option("--queue", is_flag=True, help="Hand the chunks to the workers instead.")
def send(frequency: str, dry_run: bool, only_email: str | None, queue: bool) -> None:
    """Run this period's digest now. Safe to repeat: nobody gets a second copy."""
    if only_email:
        _preview_or_send_one(frequency, only_email, dry_run)
        return
    if queue and not dry_run:
        from petitions.newsletter.digest_tasks import start_digest

        start_digest.delay(frequency)
        click.echo(f"Queued the {frequency} digest for the workers.")
        return
    run = digests.peek_run(frequency) if dry_run else digests.get_or_start_run(frequency)
    bounds = list(digests.chunk_bounds(run))
    queued = would_send = 0
    with click.progressbar(bounds, label=f"{frequency} digest {run.period_key}") as chunks:
        for first_id, last_id in chunks:
            planned = digests.plan_chunk(run, first_id, last_id)
            if dry_run:
                would_send += len(planned)
                db.session.rollback()
            else:
                queued += digests.queue_chunk(run, planned)
                delivery.deliver_due()
    if dry_run:
        click.echo(f"Dry run: {would_send} subscriber(s) would get a digest; nothing was sent.")
        return
    digests.mark_fanned_out(run)
    totals = delivery.deliver_due()
    click.echo(f"Queued {queued} digest(s); the last pass sent {totals['sent']}, "
               f"{totals['retry']} to retry, {totals['failed']} failed.")


def _preview_or_send_one(frequency: str, email: str, dry_run: bool) -> None:
    subscriber = db.session.scalar(
        select(Subscriber).where(Subscriber.canonical_email == canonical_email(email))
    )
    if subscriber is None:
        raise click.ClickException(f"No subscriber with the address {email}.")
    run = digests.peek_run(frequency) if dry_run else digests.get_or_start_run(frequency)
    planned = digests.plan_chunk(run, subscriber.id, subscriber.id)
    if not planned:
        raise click.ClickException(
            "Nothing to send: not an active subscriber of this frequency, already sent "
            "this period, or no new articles in their topics."
        )
    if not dry_run:
        queued = digests.queue_chunk(run, planned)
        delivery.deliver_due()
        click.echo(f"Sent {queued} digest to {email}.")
        return
    preview = OutboxMessage(
        id=0, kind="digest", to_address=subscriber.email, subscriber_id=subscriber.id,
        subject=digests.digest_subject(planned[0]),
        payload=digests.payload_for(run, planned[0]),
    )
    prepare([preview])
    content = content_of(preview)
    db.session.rollback()
    click.echo(f"Subject: {content.subject}\n\n{content.text}")
