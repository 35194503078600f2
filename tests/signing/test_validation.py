"""Bad input gets a helpful page with the right status, never a 500 and never a row."""

from datetime import timedelta

import pytest

from petitions.database import utcnow
from tests.factories import PetitionFactory
from tests.signing.helpers import SIGNER, csrf_token, inputs, outbox, sign, signatures


def error_for(html: str, field: str) -> str | None:
    """The message shown under a field (the page marks it id="<field>-error")."""
    marker = f'id="{field}-error">'
    start = html.find(marker)
    return None if start < 0 else html[start + len(marker): html.index("<", start + len(marker))]


def test_empty_form_is_refused_with_a_message_for_each_required_field(client, petition):
    response = sign(client, "sanctuary-city", name="", email="", postcode="", country=None)

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Please check the form" in html
    assert error_for(html, "name") == "Enter your name."
    assert error_for(html, "email") == "Enter your email address."
    assert error_for(html, "postcode") == "Enter your ZIP or postal code."
    assert signatures() == [] and outbox() == []


def test_refused_form_keeps_what_the_signer_typed(client, petition):
    response = sign(client, "sanctuary-city", name="Jane Doe", email="not-an-address",
                    comment="Keep our neighbours safe", show_name_publicly="y")

    html = response.get_data(as_text=True)
    fields = inputs(html)
    assert response.status_code == 422
    assert fields["name"]["value"] == "Jane Doe"
    assert fields["email"]["value"] == "not-an-address"
    assert fields["postcode"]["value"] == "20004"
    assert "checked" in fields["show_name_publicly"]
    assert "checked" not in fields["email_updates"]
    assert "Keep our neighbours safe" in html
    assert '<option selected value="US">' in html


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "jane@", "Enter an email address like name@example.com."),
        ("email", "jane doe@example.org", "Enter an email address like name@example.com."),
        ("email", "jane\x00@example.org", "Enter an email address like name@example.com."),
        ("email", "j" * 250 + "@example.org",
         "Your email address must be 254 characters or fewer."),
        ("postcode", "2000", "Enter a 5-digit ZIP code, like 20004."),
        ("postcode", "SW1A 1AA", "Enter a 5-digit ZIP code, like 20004."),
        ("postcode", "20004-12", "Enter a 5-digit ZIP code, like 20004."),
        ("country", "ZZ", "Choose your country from the list."),
        ("country", "USA", "Choose your country from the list."),
        ("country", "", "Choose your country from the list."),
        ("name", "J" * 101, "Your name must be 100 characters or fewer."),
        ("comment", "c" * 501, "Your comment must be 500 characters or fewer."),
        ("name", "Jane\x00Doe", "Please remove special characters."),
        ("name", "Jane\x1b[31mDoe", "Please remove special characters."),
        ("comment", "Hello\x07 there", "Please remove special characters."),
        ("comment", "tab\there", "Please remove special characters."),
    ],
    ids=lambda v: repr(v)[:24],
)
def test_invalid_field_is_refused_with_its_message(client, petition, field, value, message):
    response = sign(client, "sanctuary-city", **{field: value})

    assert response.status_code == 422
    assert error_for(response.get_data(as_text=True), field) == message
    assert signatures() == [] and outbox() == []


@pytest.mark.parametrize(
    "fields",
    [
        {"country": "GB", "postcode": "sw1a  1aa"},
        {"country": "US", "postcode": "20004-1234"},
        {"name": "J" * 100, "comment": "c" * 500},
        {"comment": "Line one\r\nLine two"},
    ],
    ids=["uk-postcode", "zip-plus-4", "longest-allowed", "multi-line-comment"],
)
def test_valid_edge_cases_are_accepted(client, petition, fields):
    response = sign(client, "sanctuary-city", **fields)

    assert response.status_code == 303
    [signature] = signatures()
    assert signature.country == fields.get("country", "US")


def test_postcode_is_stored_upper_cased_with_single_spaces(client, petition):
    sign(client, "sanctuary-city", country="GB", postcode=" sw1a   1aa ")

    assert signatures()[0].postcode == "SW1A 1AA"


def test_oversize_body_gets_friendly_413_page(client, petition):
    page = client.get("/petitions/sanctuary-city").get_data(as_text=True)

    response = client.post("/petitions/sanctuary-city/sign",
                           data={**SIGNER, "csrf_token": csrf_token(page), "comment": "x" * 70_000})

    assert response.status_code == 413
    assert "That was too much to send" in response.get_data(as_text=True)
    assert signatures() == []


@pytest.mark.parametrize("slug", ["no-such-petition", "a-draft", "x" * 81])
def test_unknown_or_draft_petition_gets_404_page(client, petition, slug):
    PetitionFactory(slug="a-draft", state="draft")
    csrf = csrf_token(client.get("/petitions/sanctuary-city").get_data(as_text=True))

    for response in (
        client.get(f"/petitions/{slug}"),
        client.get(f"/petitions/{slug}/check-email"),
        client.post(f"/petitions/{slug}/sign", data={**SIGNER, "csrf_token": csrf}),
    ):
        assert response.status_code == 404
        assert "Page not found" in response.get_data(as_text=True)
    assert signatures() == []


@pytest.mark.parametrize("slug", ["no-such-petition", "a-draft"])
def test_count_json_for_unknown_or_draft_petition_is_404_json(client, slug):
    PetitionFactory(slug="a-draft", state="draft")

    response = client.get(f"/petitions/{slug}/count.json")

    assert response.status_code == 404
    assert response.is_json
    assert response.get_json()["status"] == 404


def test_count_json_reports_a_petition_past_its_deadline_as_closed(client):
    PetitionFactory(slug="ended", closes_at=utcnow() - timedelta(days=1), goal=500)

    assert client.get("/petitions/ended/count.json").get_json() == {
        "slug": "ended", "signature_count": 0, "goal": 500, "state": "closed"}
