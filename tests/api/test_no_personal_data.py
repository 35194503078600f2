"""No public endpoint shows personal data: never an email, a full or last name, a
postcode, an IP address or a comment. Only the first names and countries of signers who
chose to be shown, and only on the petition's own endpoint and page."""

from __future__ import annotations

import pytest

from petitions.database import utcnow
from tests.factories import ArticleFactory, CategoryFactory, PetitionFactory, SignatureFactory

SECRETS = [
    "zanzibarqx@", "secret-mail.example", "Quetzalcoatl", "Wobblebottom", "XQ9 7ZZ",
    "xq97zz", "203.0.113.77", "2001:db8::bad", "my private comment kumquat",
    "target.person@", "Yggdrasilia", "Bumblefoot", "98765-4321",
]
PUBLIC_SIGNER = "Ophelia"


@pytest.fixture
def petition():
    category = CategoryFactory(name="Parks", slug="parks")
    petition = PetitionFactory(slug="parks", category=category,
                               target_email="target.person@council.example")
    confirmed = {"petition": petition, "state": "confirmed", "confirmed_at": utcnow()}
    SignatureFactory(name=f"{PUBLIC_SIGNER} Wobblebottom", email="zanzibarqx@secret-mail.example",
                     postcode="XQ9 7ZZ", ip_address="203.0.113.77", country="GB",
                     comment="my private comment kumquat", show_name_publicly=True,
                     **confirmed)
    SignatureFactory(name="Quetzalcoatl Bumblefoot", email="q@secret-mail.example",
                     postcode="98765-4321", ip_address="2001:db8::bad", country="US",
                     comment="my private comment kumquat", **confirmed)
    SignatureFactory(name="Yggdrasilia Wobblebottom", email="y@secret-mail.example",
                     postcode="xq97zz", petition=petition)  # pending, never shown
    ArticleFactory(petition=petition, category=category)
    return petition


PUBLIC_URLS = ["/", "/petitions.json", "/petitions.json?q=parks", "/categories.json",
               "/petitions.csv", "/petitions.atom", "/categories/parks/petitions.atom",
               "/petitions/parks/count.json"]
OWN_URLS = ["/petitions/parks.json", "/petitions/parks"]


@pytest.mark.parametrize("url", PUBLIC_URLS + OWN_URLS)
def test_no_personal_data_in_public_endpoints(client, petition, url):
    response = client.get(url)

    assert response.status_code == 200
    text = response.get_data(as_text=True)
    for secret in SECRETS:
        assert secret.lower() not in text.lower(), f"{secret!r} leaked in {url}"


@pytest.mark.parametrize("url", PUBLIC_URLS)
def test_listings_show_no_signer_at_all(client, petition, url):
    assert PUBLIC_SIGNER not in client.get(url).get_data(as_text=True)


def test_only_the_petition_shows_signers_who_chose_to_be_shown(client, petition):
    body = client.get("/petitions/parks.json").get_json()

    assert body["recent_signers"] == [{"first_name": PUBLIC_SIGNER, "region": "United Kingdom"}]
    assert PUBLIC_SIGNER in client.get("/petitions/parks").get_data(as_text=True)
    # Postcode areas are 3 characters: not enough to find anyone.
    assert {a["area"] for a in body["counts_by_postcode_area"]} == {"XQ9", "987"}
