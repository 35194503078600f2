"""The data-rights page speaks the reader's language all through: states, frequencies and
consent records in words, and moments in the locale's format, never raw codes."""

from __future__ import annotations

import re
from datetime import timedelta

from petitions.database import utcnow
from petitions.privacy.rights import make_token
from tests.factories import CategoryFactory, PetitionFactory, SignatureFactory, SubscriberFactory


def held_data() -> str:
    SignatureFactory(petition=PetitionFactory(), email="lector@example.org", state="pending")
    SubscriberFactory(email="lector@example.org", state="active", frequency="weekly",
                      follows=[CategoryFactory(name="Vivienda")],
                      confirmed_at=utcnow() - timedelta(days=2))
    return make_token("lector@example.org")


def test_the_data_page_in_spanish_has_words_not_codes(client, app):
    token = held_data()

    page = client.get(f"/privacy/data/{token}?lang=es").get_data(as_text=True)

    assert "pendiente de confirmación" in page
    assert "suscripción activa" in page and "cada semana" in page
    for code in ("<dd>pending</dd>", "<dd>active", "<dd>weekly</dd>"):
        assert code not in page
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d", page)  # no ISO moments ("2026-11-27T…")


def test_the_data_page_in_english_too(client, app):
    token = held_data()

    page = client.get(f"/privacy/data/{token}?lang=en").get_data(as_text=True)

    assert "waiting for confirmation" in page
    assert "subscribed" in page and "<dd>weekly</dd>" in page
