"""Recording deliveries: a pack prepared for download, or the pack emailed to the target.

Every delivery fixes its cutoff (delivered_at) and the count at that moment; its pack is
always the signatures confirmed by then (see pack.py). The delivery email is one outbox
row of the deferred kind "petition_delivery": the row carries only {"delivery_id": ...},
and the renderer (rendering.py) builds the message, with the CSV, when it is sent.

Pressing "Send" twice sends one email. The confirmation page carries a random nonce, and
the email's Message-ID is made from it; outbox.message_id is unique, so a second request
with the same nonce (a double click, a resent form, two tabs) cannot commit a second row,
even when both arrive at the same moment: the database refuses it, and the second
request is answered with the first delivery. A new nonce needs a new confirmation page,
which warns when the same address already got this petition. A time window ("not again
within a minute") would have refused a deliberate resend and let a slow double click
through; the nonce does neither.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

from flask import current_app, render_template
from flask_babel import gettext as _
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError

from petitions.admin import audit
from petitions.database import utcnow
from petitions.delivery.models import PetitionDelivery
from petitions.delivery.pack import count_signers
from petitions.extensions import db
from petitions.mail.models import OutboxMessage, OutboxState
from petitions.mail.outbox import NUDGE_FLAG
from petitions.signing.models import Petition

KIND = "petition_delivery"


class DeliveryRefused(Exception):
    """Nothing to deliver, or a petition that must not be delivered; the text says why."""


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def check_deliverable(petition: Petition, count: int) -> None:
    """Raise DeliveryRefused for a removed petition, or one with nothing to deliver."""
    if petition.is_removed:
        raise DeliveryRefused(_("This petition has been removed, so it can't be delivered."))
    if count == 0:
        raise DeliveryRefused(_("This petition has no confirmed signatures yet."))


def prepare_download(petition: Petition, actor) -> PetitionDelivery:
    """A pack fixed at this moment, to download as PDF and CSV (not emailed)."""
    cutoff = utcnow()
    count = count_signers(petition.id, cutoff)
    check_deliverable(petition, count)
    delivery = PetitionDelivery(
        petition_id=petition.id, delivered_at=cutoff, signature_count=count,
        target_name=petition.target, target_email=None, delivered_by_id=actor.id)
    db.session.add(delivery)
    db.session.flush()
    audit.record("delivery_pack_prepared", petition, delivery_id=delivery.id,
                 signature_count=count, cutoff=_iso(cutoff))
    db.session.commit()
    return delivery


def message_id_for(nonce: str) -> str:
    domain = urlsplit(current_app.config["BASE_URL"]).hostname or "localhost"
    return f"<delivery.{nonce}@{domain}>"


def delivery_by_nonce(nonce: str) -> PetitionDelivery | None:
    return db.session.scalar(
        select(PetitionDelivery).where(PetitionDelivery.message_id == message_id_for(nonce)))


def email_delivery(petition: Petition, cover_message: str, nonce: str,
                   actor) -> tuple[PetitionDelivery, bool]:
    """Record the delivery and queue its email, once per nonce.

    Returns (delivery, True) when this call queued it, or the earlier delivery made with
    the same nonce and False.
    """
    earlier = delivery_by_nonce(nonce)
    if earlier is not None:
        return earlier, False
    cutoff = utcnow()
    count = count_signers(petition.id, cutoff)
    check_deliverable(petition, count)
    message_id = message_id_for(nonce)
    delivery = PetitionDelivery(
        petition_id=petition.id, delivered_at=cutoff, signature_count=count,
        target_name=petition.target, target_email=petition.target_email,
        cover_message=cover_message, delivered_by_id=actor.id, message_id=message_id)
    db.session.add(delivery)
    try:
        db.session.flush()
        subject = render_template(f"email/{KIND}/subject.txt", petition=petition, count=count)
        db.session.add(OutboxMessage(
            kind=KIND, to_address=delivery.target_email, subject=" ".join(subject.split())[:300],
            payload={"delivery_id": delivery.id}, headers={}, message_id=message_id))
        audit.record("petition_delivered", petition, delivery_id=delivery.id,
                     to=delivery.target_email, target_name=delivery.target_name,
                     signature_count=count, cutoff=_iso(cutoff))
        db.session.info[NUDGE_FLAG] = True
        db.session.commit()
    except IntegrityError:
        # The same nonce committed in another request meanwhile.
        db.session.rollback()
        earlier = delivery_by_nonce(nonce)
        if earlier is None:
            raise
        return earlier, False
    return delivery, True


def deliveries_of(petition: Petition) -> list[PetitionDelivery]:
    return list(db.session.scalars(
        select(PetitionDelivery).where(PetitionDelivery.petition_id == petition.id)
        .order_by(PetitionDelivery.delivered_at.desc(), PetitionDelivery.id.desc())))


def email_states(deliveries: list[PetitionDelivery]) -> dict[str, OutboxMessage]:
    """The outbox row of each emailed delivery, by Message-ID. Sent rows are purged after
    a week: an emailed delivery with no row was sent."""
    ids = [d.message_id for d in deliveries if d.message_id]
    if not ids:
        return {}
    rows = db.session.scalars(select(OutboxMessage).where(OutboxMessage.message_id.in_(ids)))
    return {row.message_id: row for row in rows}


def emailed_deliveries(petition: Petition) -> list[PetitionDelivery]:
    """Emailed deliveries whose email went out, newest first. A delivery whose email is
    still queued, or failed, is not claimed in public."""
    unsent = exists().where(OutboxMessage.message_id == PetitionDelivery.message_id,
                            OutboxMessage.state != OutboxState.SENT)
    return list(db.session.scalars(
        select(PetitionDelivery)
        .where(PetitionDelivery.petition_id == petition.id,
               PetitionDelivery.target_email.is_not(None), ~unsent)
        .order_by(PetitionDelivery.delivered_at.desc(), PetitionDelivery.id.desc())))


def public_deliveries(petition: Petition) -> list[dict]:
    """For the petition's JSON: [{"target", "delivered_at" (ISO 8601 UTC),
    "signature_count"}], newest first. Never the target's email address."""
    return [
        {"target": d.target_name,
         "delivered_at": d.delivered_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
         "signature_count": d.signature_count}
        for d in emailed_deliveries(petition)
    ]
