"""One real message of every kind we send, queued the way the service queues it and
delivered through the outbox to the SMTP sink: for the DKIM, standards (and spam-score)
tests. Returns {kind: recipient address}."""

from __future__ import annotations

from datetime import timedelta

from petitions.database import utcnow
from petitions.delivery import service
from petitions.extensions import db
from petitions.newsletter.email import send_subscription_confirmation, send_welcome
from petitions.privacy.emails import send_privacy_link
from petitions.signing.email import send_already_signed_notice, send_signature_confirmation
from petitions.updates import sending
from petitions.updates.models import PetitionUpdate
from tests.factories import (
    AdminUserFactory,
    CategoryFactory,
    PetitionFactory,
    SignatureFactory,
    SubscriberFactory,
)
from tests.newsletter.digest_helpers import article, run_digest

TRANSACTIONAL = ("signature_confirmation", "signature_already_confirmed",
                 "subscription_confirmation", "subscription_welcome", "privacy_link",
                 "petition_delivery")
LIST_MAIL = ("digest", "petition_update")
ADDRESSES = {
    "signature_confirmation": "new.signer@example.net",
    "signature_already_confirmed": "old.signer@example.net",
    "subscription_confirmation": "new.reader@example.net",
    "subscription_welcome": "jose.reader@example.net",
    "privacy_link": "asks.for.data@example.net",
    "petition_delivery": "mayor@city.example",
    "digest": "daily.reader@example.net",
    "petition_update": "wants.updates@example.net",
}


def send_every_kind(app) -> dict[str, str]:
    now = utcnow()
    petition = PetitionFactory(slug="library", title="Fund the Ñandú library",
                               target="Mayor", target_email=ADDRESSES["petition_delivery"])
    pending = SignatureFactory(petition=petition, name="Zoë Núñez",
                               email=ADDRESSES["signature_confirmation"])
    confirmed = SignatureFactory(petition=petition, state="confirmed",
                                 confirmed_at=now - timedelta(hours=2),
                                 email=ADDRESSES["signature_already_confirmed"])
    SignatureFactory(petition=petition, state="confirmed", confirmed_at=now - timedelta(hours=1),
                     email=ADDRESSES["petition_update"], email_updates=True)
    new_reader = SubscriberFactory(email=ADDRESSES["subscription_confirmation"], state="pending")
    welcomed = SubscriberFactory(email=ADDRESSES["subscription_welcome"])
    category = CategoryFactory(name="Libraries")
    article(category, now - timedelta(days=1), title="Library hours cut again")
    SubscriberFactory(email=ADDRESSES["digest"], follows=[category])
    with app.test_request_context():
        send_signature_confirmation(pending)
        send_already_signed_notice(confirmed)
        send_subscription_confirmation(new_reader)
        send_welcome(welcomed)
        send_privacy_link(ADDRESSES["privacy_link"], "a-token", 24)
        db.session.commit()
        service.email_delivery(petition, "Dear Mayor,\n\nHere it is.\n", "N" * 22,
                               AdminUserFactory())
        update = PetitionUpdate(petition_id=petition.id, title="We delivered it",
                                body="The **Mayor** has it.")
        db.session.add(update)
        db.session.commit()
        sending.publish(update)
        db.session.commit()
        sending.fan_out(update.id)
        db.session.commit()
    run_digest(now=now)  # queues the digest, then delivers everything due
    return dict(ADDRESSES)
