"""A petition in several languages: the translation when there is one, else the default
language's text with a notice that says so."""

from __future__ import annotations

import pytest
from flask import render_template_string
from sqlalchemy.exc import IntegrityError

from petitions.extensions import db
from petitions.signing.translations import PetitionTranslation, localized_all, petition_text
from tests.factories import PetitionFactory

NOTICE = ('{% set text = petition_text(petition) %}'
          '{% include "signing/_translation_notice.html" %}')


@pytest.fixture
def petition(app):
    return PetitionFactory(slug="parks", title="More parks", summary="Green space for all.",
                           body="We ask for **parks**.")


def add_spanish(petition) -> None:
    db.session.add(PetitionTranslation(petition_id=petition.id, locale="es", title="Más parques",
                                       summary="Zonas verdes para todos.", body="Pedimos parques."))
    db.session.commit()


def test_a_translation_is_shown_to_readers_of_its_language(app, petition):
    add_spanish(petition)
    with app.test_request_context("/?lang=es"):
        text = petition_text(petition)
    assert (text.title, text.summary, text.body, text.lang, text.fallback) == (
        "Más parques", "Zonas verdes para todos.", "Pedimos parques.", "es", False)


def test_without_a_translation_the_default_text_is_shown_and_flagged(app, petition):
    with app.test_request_context("/?lang=es"):
        text = petition_text(petition)
    assert (text.title, text.lang, text.fallback) == ("More parks", "en", True)


def test_readers_of_the_default_language_get_the_petition_itself(app, petition):
    add_spanish(petition)
    with app.test_request_context("/?lang=en"):
        text = petition_text(petition)
    assert (text.title, text.fallback) == ("More parks", False)


def test_the_fallback_notice_says_which_language_is_shown(app, spanish, petition):
    with app.test_request_context("/?lang=es"):
        html = render_template_string(NOTICE, petition=petition)
    assert "Esta petición todavía no está disponible en español; se muestra en inglés." in html

    # A request of its own (the test holds an app context, whose `g` would carry over).
    with app.app_context(), app.test_request_context("/?lang=en"):
        assert render_template_string(NOTICE, petition=petition).strip() == ""


def test_no_notice_when_the_translation_exists(app, petition):
    add_spanish(petition)
    with app.test_request_context("/?lang=es"):
        assert render_template_string(NOTICE, petition=petition).strip() == ""


def test_the_petition_page_shows_the_translation(client, petition):
    add_spanish(petition)
    spanish_page = client.get("/petitions/parks?lang=es").get_data(as_text=True)
    english_page = client.get("/petitions/parks?lang=en").get_data(as_text=True)
    assert "Más parques" in spanish_page and "Pedimos parques." in spanish_page
    assert "More parks" in english_page and "Más parques" not in english_page


def test_the_list_of_petitions_reads_in_one_query(app, petition):
    add_spanish(petition)
    other = PetitionFactory(title="Clean air")
    with app.test_request_context("/?lang=es"):
        shown = localized_all([petition, other])
    assert [(p.title, p.text.fallback) for p in shown] == [("Más parques", False),
                                                           ("Clean air", True)]
    assert shown[0].slug == "parks"  # everything else is the petition's own


def test_one_translation_per_language(app, petition):
    add_spanish(petition)
    db.session.add(PetitionTranslation(petition_id=petition.id, locale="es", title="Otra",
                                       summary="Otra."))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
