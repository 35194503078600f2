"""`flask digests send`: run (or resume) a digest now, or preview one subscriber's.

A run shows a progress bar over its subscribers and ends with a one-line summary on
standard error (petitions/cli_progress.py).
"""

from __future__ import annotations

import time
from collections import Counter

import click
from flask import Blueprint, current_app
from sqlalchemy import func, select

from petitions.cli_progress import Progress, counted, elapsed, number, summarise
from petitions.extensions import db
from petitions.mail import delivery
from petitions.mail.models import OutboxMessage
from petitions.mail.rendering import content_of, prepare
from petitions.newsletter import digests
from petitions.newsletter.digest_models import DigestDelivery, DigestRun
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
        from petitions.celery import BrokerUnavailable
        from petitions.newsletter import digest_tasks  # noqa: F401  (registers digests.start)

        try:
            current_app.extensions["quick_publisher"].send("digests.start", args=(frequency,))
        except BrokerUnavailable as exc:
            raise click.ClickException(
                f"The broker is unreachable ({exc}). Run without --queue to send from here."
            ) from None
        click.echo(f"Queued the {frequency} digest for the workers.")
        return
    started = time.monotonic()
    run = digests.peek_run(frequency) if dry_run else digests.get_or_start_run(frequency)
    audience, already_had_it = _audience(run)
    chunk_size = current_app.config["DIGEST_CHUNK_SIZE"]
    digests_made = 0
    outbox: Counter[str] = Counter()
    with Progress(f"{frequency} digest {run.period_key}", audience) as progress:
        for first_id, last_id in digests.chunk_bounds(run, chunk_size):
            planned = digests.plan_chunk(run, first_id, last_id)
            if dry_run:
                digests_made += len(planned)
                db.session.rollback()
            else:
                digests_made += digests.queue_chunk(run, planned)
                outbox.update(delivery.deliver_due())
            # Every chunk but the last holds chunk_size subscribers.
            progress.advance(chunk_size)
    if not dry_run:
        digests.mark_fanned_out(run)
        outbox.update(delivery.deliver_due())
    nothing_new = max(audience - already_had_it - digests_made, 0)
    line = (f"Digest run {frequency} {run.period_key}{' (dry run)' if dry_run else ''}: "
            f"{counted(audience, 'subscriber')}, {number(digests_made)} "
            f"{'would get a digest' if dry_run else 'queued'}, "
            f"{number(already_had_it + nothing_new)} skipped ({number(already_had_it)} already "
            f"had it, {number(nothing_new)} with nothing new) in {elapsed(started)}")
    if dry_run:
        summarise(f"{line}; nothing was sent.")
    else:
        summarise(f"{line}; the outbox sent {number(outbox['sent'])}, "
                  f"{number(outbox['retry'])} to retry, {number(outbox['failed'])} failed.")


def _audience(run: DigestRun) -> tuple[int, int]:
    """(subscribers this run is for, how many of them already have its digest)."""
    # The run's own definition of who gets a digest, so the total matches the chunks.
    eligible = digests.eligible_subscribers(run).subquery()
    audience = db.session.scalar(select(func.count()).select_from(eligible)) or 0
    if not run.id:  # a dry run before the period started: nobody has it yet
        return audience, 0
    already = db.session.scalar(
        select(func.count()).select_from(DigestDelivery)
        .where(DigestDelivery.run_id == run.id,
               DigestDelivery.subscriber_id.in_(select(eligible.c.id)))
    ) or 0
    return audience, already


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
