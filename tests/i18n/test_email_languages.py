"""Digests and updates go out in each recipient's language: the frame translated, the
petitions in their translation, the articles as they came in."""

from __future__ import annotations

from datetime import timedelta

from petitions.database import utcnow
from petitions.extensions import db
from petitions.signing.translations import PetitionTranslation
from petitions.updates import milestones
from petitions.updates.models import UpdateKind
from tests.factories import CategoryFactory, PetitionFactory, SubscriberFactory
from tests.newsletter.digest_helpers import article, run_digest
from tests.updates.helpers import draft, publish_and_send, send_published, signer

NOW = utcnow()
YESTERDAY = NOW - timedelta(days=1)


def test_a_spanish_subscriber_gets_a_spanish_digest_frame(app, mail, spanish):
    category = CategoryFactory(name="Immigration")
    article(category, YESTERDAY, title="ICE detention space to double")
    petition = PetitionFactory(title="Keep DC a sanctuary city", category=category)
    db.session.add(PetitionTranslation(petition_id=petition.id, locale="es",
                                       title="Que DC siga siendo santuario", summary="Resumen."))
    db.session.commit()
    lector = SubscriberFactory(email="lector@example.org", follows=[category], locale="es")
    reader = SubscriberFactory(email="reader@example.org", follows=[category], locale="en")

    assert run_digest(now=NOW) == 2

    [spanish_digest] = mail.to(lector.email)
    assert spanish_digest.subject == "1 artículo nuevo: ICE detention space to double"
    text = spanish_digest.part("plain")
    assert "Su resumen diario" in text
    assert "Peticiones que puede firmar" in text
    assert "Que DC siga siendo santuario" in text
    assert "ICE detention space to double" in text  # the article as it came in
    assert "Su resumen diario" in spanish_digest.part("html")

    [english_digest] = mail.to(reader.email)
    assert english_digest.subject == "1 new article: ICE detention space to double"
    assert "Your daily digest" in english_digest.part("plain")
    assert "Keep DC a sanctuary city" in english_digest.part("plain")


def test_an_update_reaches_each_signer_in_their_language(app, mail, spanish):
    petition = PetitionFactory(title="More parks")
    db.session.add(PetitionTranslation(petition_id=petition.id, locale="es",
                                       title="Más parques", summary="Zonas verdes."))
    db.session.commit()
    signer(petition, "ana@example.org", locale="es")
    signer(petition, "ada@example.org", locale="en")

    assert publish_and_send(draft(petition, title="We delivered it")) == 2

    [to_ana] = mail.to("ana@example.org")
    [to_ada] = mail.to("ada@example.org")
    assert to_ana.subject == "We delivered it · Más parques"
    assert "Más parques" in to_ana.part("plain")
    assert to_ada.subject == "We delivered it · More parks"


def test_a_milestone_is_written_again_in_each_signers_language(app, mail):
    """A milestone's words are generated, not an admin's: each signer reads them in their
    own language (the real catalogue), with the petition's title in that language."""
    petition = PetitionFactory(title="More parks", goal=2, signature_count=2,
                               milestone_emails=True)
    db.session.add(PetitionTranslation(petition_id=petition.id, locale="es",
                                       title="Más parques", summary="Zonas verdes."))
    db.session.commit()
    signer(petition, "ana@example.org", locale="es")
    signer(petition, "ada@example.org", locale="en")

    update_id = milestones.create(petition.id, UpdateKind.GOAL_REACHED)
    assert send_published(update_id) == 2

    [to_ana] = mail.to("ana@example.org")
    assert to_ana.subject.startswith("Alcanzamos nuestra meta de 2 firmas")
    assert "Más parques" in to_ana.part("plain")
    assert "More parks" not in to_ana.part("plain")
    [to_ada] = mail.to("ada@example.org")
    assert to_ada.subject.startswith("We reached our goal of 2 signatures")
    assert "More parks" in to_ada.part("plain")
