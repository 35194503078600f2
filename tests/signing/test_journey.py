"""The double opt-in journey through the real pages, with CSRF on, and real SMTP delivery."""

from petitions.mail.delivery import deliver_due
from petitions.signing.counting import fold_confirmed_signatures
from petitions.signing.tokens import make_confirmation_token
from tests.factories import SignatureFactory
from tests.signing.helpers import (
    confirm_token_in,
    csrf_token,
    flip_first_character,
    form_actions,
    inputs,
    old_token,
    outbox,
    sign,
    signatures,
)

CONSENT_BOXES = ("show_name_publicly", "email_updates", "subscribe_newsletter")


def count_json(client, slug: str) -> int:
    response = client.get(f"/petitions/{slug}/count.json")
    assert response.status_code == 200
    return response.get_json()["signature_count"]


def test_petition_page_shows_the_form_with_consent_boxes_unticked(client, petition):
    response = client.get("/petitions/sanctuary-city")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "/petitions/sanctuary-city/sign" in form_actions(html)
    fields = inputs(html)
    assert {"csrf_token", "name", "email", "postcode"} <= fields.keys()
    for box in CONSENT_BOXES:
        assert fields[box]["type"] == "checkbox"
        assert "checked" not in fields[box], f"{box} must be unticked by default"


def test_double_opt_in_journey_from_form_to_counted_signature(client, petition, mail):
    response = sign(client, "sanctuary-city")

    assert response.status_code == 303
    assert response.headers["Location"].endswith("/petitions/sanctuary-city/check-email")
    [signature] = signatures()
    assert (signature.state, signature.counted) == ("pending", False)
    assert signature.email == "jane@example.org"
    [row] = outbox()
    assert (row.kind, row.to_address, row.signature_id) == (
        "signature_confirmation", "jane@example.org", signature.id)
    assert "Check your email" in client.get(response.headers["Location"]).get_data(as_text=True)

    assert deliver_due()["sent"] == 1
    [message] = mail.messages
    assert message.to == "jane@example.org"
    assert message.message["Message-ID"] == row.message_id
    text, html = message.part("plain"), message.part("html")
    assert text and html
    token = confirm_token_in(text)
    link = f"http://petitions.test/confirm/{token}"
    assert link in text and f'href="{link}"' in html

    confirm_page = client.get(f"/confirm/{token}")  # what a mail scanner would do
    page = confirm_page.get_data(as_text=True)
    assert confirm_page.status_code == 200
    assert "Confirm my signature" in page and f"/confirm/{token}" in form_actions(page)
    assert signatures()[0].state == "pending"

    confirmed = client.post(f"/confirm/{token}", data={"csrf_token": csrf_token(page)})
    assert confirmed.status_code == 200
    assert "your signature is confirmed" in confirmed.get_data(as_text=True)
    assert signatures()[0].state == "confirmed"

    again = client.post(f"/confirm/{token}", data={"csrf_token": csrf_token(page)})
    assert again.status_code == 200  # a double submit is harmless
    assert "already confirmed" in again.get_data(as_text=True)
    assert [s.state for s in signatures()] == ["confirmed"]
    revisit = client.get(f"/confirm/{token}")
    assert revisit.status_code == 200
    assert "already confirmed" in revisit.get_data(as_text=True)

    assert count_json(client, "sanctuary-city") == 0
    assert fold_confirmed_signatures() == 1
    assert count_json(client, "sanctuary-city") == 1


def test_expired_link_gets_friendly_410_page_on_get_and_post_and_confirms_nothing(
    app, client, petition
):
    signature = SignatureFactory(petition=petition)
    token = old_token(app.config["SECRET_KEY"], signature.id, signature.canonical_email, 8)
    csrf = csrf_token(client.get("/petitions/sanctuary-city").get_data(as_text=True))

    for response in (client.get(f"/confirm/{token}"),
                     client.post(f"/confirm/{token}", data={"csrf_token": csrf})):
        page = response.get_data(as_text=True)
        assert response.status_code == 410
        assert "This link has expired" in page and "Get a new link" in page
        assert "/petitions/sanctuary-city" in page  # where to sign again
    assert signatures()[0].state == "pending"


def test_tampered_or_garbage_link_gets_friendly_404_page_and_confirms_nothing(client, petition):
    signature = SignatureFactory(petition=petition)
    good = make_confirmation_token(signature.id, signature.canonical_email)
    csrf = csrf_token(client.get("/petitions/sanctuary-city").get_data(as_text=True))

    for token in (flip_first_character(good), good[:-3], "not-a-token", "a.b.c", "x" * 500):
        for response in (client.get(f"/confirm/{token}"),
                         client.post(f"/confirm/{token}", data={"csrf_token": csrf})):
            page = response.get_data(as_text=True)
            assert response.status_code == 404, token
            assert "This link doesn't work" in page and "Get a new link" in page
    assert signatures()[0].state == "pending"


def test_confirm_post_without_csrf_token_is_refused_with_friendly_400(client, petition):
    signature = SignatureFactory(petition=petition)
    token = make_confirmation_token(signature.id, signature.canonical_email)
    client.get(f"/confirm/{token}")  # the visitor has a session and a CSRF secret

    response = client.post(f"/confirm/{token}")

    assert response.status_code == 400
    assert "Your form expired" in response.get_data(as_text=True)
    assert signatures()[0].state == "pending"


def test_closed_petition_page_shows_no_form(client, petition, close_petition):
    close_petition(petition)

    response = client.get("/petitions/sanctuary-city")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "This petition is closed" in html
    assert form_actions(html) == []
    assert "name" not in inputs(html)


def test_signing_a_petition_that_closed_while_the_form_was_open_is_refused(
    client, petition, close_petition
):
    page = client.get("/petitions/sanctuary-city").get_data(as_text=True)
    close_petition(petition)

    response = client.post(
        "/petitions/sanctuary-city/sign",
        data={"name": "Jane Doe", "email": "jane@example.org", "postcode": "20004",
              "country": "US", "csrf_token": csrf_token(page)},
    )

    assert response.status_code == 409
    assert "This petition is closed" in response.get_data(as_text=True)
    assert signatures() == [] and outbox() == []


def test_pending_signature_cannot_be_confirmed_once_its_petition_closed(
    client, petition, close_petition
):
    signature = SignatureFactory(petition=petition)
    token = make_confirmation_token(signature.id, signature.canonical_email)
    confirm_page = client.get(f"/confirm/{token}").get_data(as_text=True)
    close_petition(petition)

    shown = client.get(f"/confirm/{token}")
    posted = client.post(f"/confirm/{token}", data={"csrf_token": csrf_token(confirm_page)})

    assert shown.status_code == posted.status_code == 409
    assert "Confirm my signature" not in shown.get_data(as_text=True)
    assert "closed before your signature was confirmed" in posted.get_data(as_text=True)
    assert signatures()[0].state == "pending"
    assert fold_confirmed_signatures() == 0
