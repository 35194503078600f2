"""One real message of every kind we send, queued the way the service queues it and
delivered through the outbox to the SMTP sink: for the DKIM, standards and spam-score
tests. The words are a Story: short ones by default, a newsroom's in the spam test.
Returns {kind: recipient address}."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from petitions.database import utcnow
from petitions.delivery import service
from petitions.extensions import db
from petitions.newsletter.email import send_subscription_confirmation, send_welcome
from petitions.privacy.rights import request_link
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


@dataclass(frozen=True)
class Story:
    """What the messages say and who gets them."""

    addresses: dict[str, str] = field(default_factory=lambda: dict(ADDRESSES))
    petition: dict = field(default_factory=lambda: {
        "slug": "library", "title": "Fund the Ñandú library", "target": "Mayor"})
    category: dict = field(default_factory=lambda: {"name": "Libraries"})
    signers: tuple[str, str, str] = ("Zoë Núñez", "Old Signer", "Wants Updates")
    articles: tuple[dict, ...] = ({"title": "Library hours cut again"},)
    cover_letter: str = "Dear Mayor,\n\nHere it is.\n"
    update: tuple[str, str] = ("We delivered it", "The **Mayor** has it.")
    editor: str = "editor@example.org"
    # Weekly: the daily digest run below is for the digest reader alone.
    welcome_frequency: str = "weekly"


def send_every_kind(app, story: Story | None = None) -> dict[str, str]:
    story = story or Story()
    to = story.addresses
    now = utcnow()
    category = CategoryFactory(**story.category)
    petition = PetitionFactory(category=category, target_email=to["petition_delivery"],
                               **story.petition)
    new, old, updates = story.signers
    pending = SignatureFactory(petition=petition, name=new, email=to["signature_confirmation"])
    confirmed = SignatureFactory(petition=petition, name=old, state="confirmed",
                                 confirmed_at=now - timedelta(hours=2),
                                 email=to["signature_already_confirmed"])
    SignatureFactory(petition=petition, name=updates, state="confirmed", email_updates=True,
                     confirmed_at=now - timedelta(hours=1), email=to["petition_update"])
    new_reader = SubscriberFactory(email=to["subscription_confirmation"], state="pending",
                                   follows=[category])
    welcomed = SubscriberFactory(email=to["subscription_welcome"], follows=[category],
                                 frequency=story.welcome_frequency)
    for hours, fields in enumerate(story.articles, start=2):
        article(category, now - timedelta(hours=hours), **fields)
    SubscriberFactory(email=to["digest"], follows=[category])
    with app.test_request_context():
        send_signature_confirmation(pending)
        send_already_signed_notice(confirmed)
        send_subscription_confirmation(new_reader)
        send_welcome(welcomed)
        db.session.commit()
        request_link(to["privacy_link"])
        service.email_delivery(petition, story.cover_letter, "N" * 22,
                               AdminUserFactory(email=story.editor))
        update = PetitionUpdate(petition_id=petition.id, title=story.update[0],
                                body=story.update[1])
        db.session.add(update)
        db.session.commit()
        sending.publish(update)
        db.session.commit()
        sending.fan_out(update.id)
        db.session.commit()
    run_digest(now=now)  # queues the digest, then delivers everything due
    return dict(to)
