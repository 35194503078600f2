"""The whole signing journey in Spanish, through the real form and a real SMTP sink, and
the language stored with each signature and subscriber (the web form, the partner API,
the newsletter form)."""

from __future__ import annotations

from sqlalchemy import select

from petitions.api.keys import create_key
from petitions.extensions import db
from petitions.mail.delivery import deliver_due
from petitions.signing.models import Signature
from petitions.signing.translations import PetitionTranslation
from tests.factories import PetitionFactory
from tests.newsletter.subscription_helpers import subscribe, subscribers
from tests.signing.helpers import confirm_token_in, csrf_token, outbox, sign, signatures

SPANISH_TITLE = "Que DC siga siendo una ciudad santuario"


def translated_petition():
    petition = PetitionFactory(slug="sanctuary-city", title="Keep DC a sanctuary city")
    db.session.add(PetitionTranslation(
        petition_id=petition.id, locale="es", title=SPANISH_TITLE,
        summary="Que la policía local no colabore con ICE.", body="Pedimos al **Concejo**."))
    db.session.commit()
    return petition


def test_signing_in_spanish_from_start_to_finish(client, mail, spanish):
    translated_petition()
    client.get("/language/es?next=/petitions/sanctuary-city")

    page = client.get("/petitions/sanctuary-city").get_data(as_text=True)
    assert '<html lang="es">' in page
    assert SPANISH_TITLE in page
    assert sign(client, "sanctuary-city").status_code == 303

    [signature] = signatures()
    assert signature.locale == "es"
    [row] = outbox(kind="signature_confirmation")
    assert row.payload["locale"] == "es"
    assert row.subject == f"Confirme su firma: {SPANISH_TITLE}"

    assert deliver_due()["sent"] == 1
    [message] = mail.to("jane@example.org")
    assert message.subject == f"Confirme su firma: {SPANISH_TITLE}"
    text = message.part("plain")
    assert "Confirme que quiere firmar esta petición:" in text
    assert SPANISH_TITLE in text
    assert "Confirme que quiere firmar esta petición:" in message.part("html")

    token = confirm_token_in(text)
    confirm_page = client.get(f"/confirm/{token}").get_data(as_text=True)
    assert '<html lang="es">' in confirm_page
    response = client.post(f"/confirm/{token}", data={"csrf_token": csrf_token(confirm_page)})
    assert response.status_code == 200
    assert signatures()[0].state == "confirmed"


def test_the_email_follows_the_language_of_the_signature_not_of_the_sender(app, client, mail,
                                                                           spanish):
    translated_petition()
    client.get("/language/es?next=/")
    sign(client, "sanctuary-city")
    deliver_due()
    mail.clear()

    # Signing again from an English page: the "already signed" notice is still Spanish.
    [signature] = signatures()
    signature.state, signature.confirmed_at = "confirmed", signature.created_at
    db.session.commit()
    client.get("/language/en?next=/")
    sign(client, "sanctuary-city")
    deliver_due()

    [notice] = mail.to("jane@example.org")
    assert notice.subject == f"Usted ya firmó: {SPANISH_TITLE}"


def test_english_signers_get_english_email(client, mail, spanish):
    translated_petition()
    sign(client, "sanctuary-city", email="ada@example.org")
    deliver_due()

    [message] = mail.to("ada@example.org")
    assert message.subject == "Please confirm your signature: Keep DC a sanctuary city"
    assert signatures()[0].locale == "en"


def test_a_partner_can_say_which_language_the_supporter_used(app, client, mail):
    PetitionFactory(slug="sanctuary-city")
    key, secret = create_key("Partner site", "partner", None)
    db.session.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    signer = {"name": "Ana", "postcode": "20004", "country": "US"}

    given = client.post("/api/v1/petitions/sanctuary-city/signatures", headers=headers,
                        json={**signer, "email": "ana@example.org", "locale": "es"})
    negotiated = client.post("/api/v1/petitions/sanctuary-city/signatures",
                             headers={**headers, "Accept-Language": "es-US"},
                             json={**signer, "email": "bea@example.org"})
    plain = client.post("/api/v1/petitions/sanctuary-city/signatures", headers=headers,
                        json={**signer, "email": "cat@example.org"})
    wrong = client.post("/api/v1/petitions/sanctuary-city/signatures", headers=headers,
                        json={**signer, "email": "dan@example.org", "locale": "klingon"})

    assert [r.status_code for r in (given, negotiated, plain)] == [202, 202, 202]
    locales = dict(db.session.execute(select(Signature.email, Signature.locale)).all())
    assert locales == {"ana@example.org": "es", "bea@example.org": "es", "cat@example.org": "en"}
    assert wrong.status_code == 422
    assert wrong.get_json()["error"]["fields"] == {"locale": ["Use one of: en, es."]}


def test_a_subscriber_keeps_the_language_they_subscribed_in(client, mail):
    client.set_cookie("lang", "es")
    assert subscribe(client, email="lector@example.org", all_categories=True).status_code == 303

    [subscriber] = subscribers()
    assert subscriber.locale == "es"


def test_the_newsletter_box_ticked_in_spanish_subscribes_in_spanish(client, mail, spanish):
    translated_petition()
    client.get("/language/es?next=/")
    sign(client, "sanctuary-city", subscribe_newsletter="y")
    deliver_due()
    token = confirm_token_in(mail.to("jane@example.org")[-1].part("plain"))

    # The link opens where the language cookie is gone and the browser says English.
    client.delete_cookie("lang")
    page = client.get(f"/confirm/{token}", headers={"Accept-Language": "en"})
    assert '<html lang="en">' in page.get_data(as_text=True)
    response = client.post(f"/confirm/{token}", headers={"Accept-Language": "en"},
                           data={"csrf_token": csrf_token(page.get_data(as_text=True))})
    assert response.status_code == 200

    [subscriber] = subscribers()
    assert subscriber.locale == "es"
