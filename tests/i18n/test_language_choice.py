"""Choosing the language: the switch, then the cookie it leaves, then Accept-Language, then
DEFAULT_LANGUAGE; the same URLs for every language, and Vary so caches keep them apart."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import render_template_string

from petitions.languages import local_path, numberformat
from tests.factories import PetitionFactory

HTML_LANG = re.compile(r'<html lang="([^"]+)"')


def language_cookies(response) -> list[str]:
    return [c for c in response.headers.getlist("Set-Cookie") if c.startswith("lang=")]


def page_language(response) -> str:
    match = HTML_LANG.search(response.get_data(as_text=True))
    assert match, "the page has no <html lang>"
    return match.group(1)


@pytest.fixture
def petition(app):
    return PetitionFactory(slug="sanctuary-city")


def test_with_nothing_to_go_on_the_page_is_in_the_default_language(client, petition):
    assert page_language(client.get("/petitions/sanctuary-city")) == "en"


def test_the_default_language_is_a_setting(app, client, petition):
    app.config["DEFAULT_LANGUAGE"] = "es"
    assert page_language(client.get("/petitions/sanctuary-city")) == "es"


@pytest.mark.parametrize(("header", "expected"), [
    ("es-MX,es;q=0.9,en;q=0.5", "es"),
    ("es", "es"),
    ("en-US,en;q=0.9,es;q=0.8", "en"),
    ("fr-FR,fr;q=0.9", "en"),  # nothing we have: the default
    ("fr;q=0.9,es;q=0.5", "es"),
])
def test_the_browser_language_is_used_when_nothing_was_chosen(client, petition, header, expected):
    response = client.get("/petitions/sanctuary-city", headers={"Accept-Language": header})
    assert page_language(response) == expected


def test_the_switch_remembers_the_choice_in_a_cookie_for_a_year(client, petition):
    response = client.get("/language/es?next=/petitions/sanctuary-city")

    assert response.status_code == 303
    assert response.headers["Location"] == "/petitions/sanctuary-city"
    [cookie] = language_cookies(response)
    assert cookie.startswith("lang=es;")
    assert "Max-Age=31536000" in cookie
    assert "SameSite=Lax" in cookie
    assert "HttpOnly" in cookie


def test_the_choice_persists_and_beats_the_browser_language(client, petition):
    client.get("/language/es?next=/")
    english_browser = {"Accept-Language": "en-US,en;q=0.9"}

    for path in ("/petitions/sanctuary-city", "/", "/subscribe"):
        assert page_language(client.get(path, headers=english_browser)) == "es", path

    client.post("/language/en", data={"next": "/"})
    assert page_language(client.get("/", headers={"Accept-Language": "es"})) == "en"


def test_the_switch_works_as_a_form_without_a_csrf_token(client, petition):
    response = client.post("/language/es", data={"next": "/petitions/sanctuary-city"})
    assert response.status_code == 303
    assert page_language(client.get("/petitions/sanctuary-city")) == "es"


def test_a_lang_argument_is_an_explicit_choice_that_is_remembered(client, petition):
    client.set_cookie("lang", "en")

    response = client.get("/petitions/sanctuary-city?lang=es")

    assert page_language(response) == "es"
    [cookie] = language_cookies(response)
    assert cookie.startswith("lang=es;")
    assert page_language(client.get("/petitions/sanctuary-city")) == "es"


def test_unknown_languages_are_ignored_or_refused(client, petition):
    client.set_cookie("lang", "xx")
    assert page_language(client.get("/petitions/sanctuary-city?lang=zz")) == "en"

    response = client.get("/language/fr?next=/")
    assert response.status_code == 404
    assert language_cookies(response) == []
    assert "English, Español" in response.get_data(as_text=True)


@pytest.mark.parametrize(("target", "expected"), [
    ("/petitions/sanctuary-city", "/petitions/sanctuary-city"),
    ("/petitions/x?page=2&lang=en", "/petitions/x?page=2"),
    ("//evil.example/phish", "/"),
    ("/\\evil.example", "/"),
    ("https://evil.example/", "/"),
    ("javascript:alert(1)", "/"),
    ("/ok\r\nSet-Cookie: x=1", "/"),
    ("", "/"),
    (None, "/"),
])
def test_the_switch_only_sends_people_back_to_this_site(target, expected):
    assert local_path(target) == expected


def test_an_open_redirect_through_the_switch_lands_on_the_home_page(client):
    response = client.get("/language/es?next=//evil.example/")
    assert response.headers["Location"] == "/"


def test_pages_say_they_vary_by_language(client, petition):
    response = client.get("/petitions/sanctuary-city")
    assert {"Cookie", "Accept-Language"} <= set(response.vary)


def test_the_count_is_language_free_and_stays_shared_cacheable(client, petition):
    response = client.get("/petitions/sanctuary-city/count.json",
                          headers={"Accept-Language": "es"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"].startswith("public, max-age=")
    assert "Accept-Language" not in response.vary


def test_hreflang_alternates_name_the_same_url_in_every_language(app):
    app.config["BASE_URL"] = "https://petitions.example"
    with app.test_request_context("/petitions/sanctuary-city?page=2&lang=es"):
        html = render_template_string('{% include "_hreflang.html" %}')

    links = re.findall(r'<link rel="alternate" hreflang="([^"]+)" href="([^"]+)">', html)
    assert links == [
        ("en", "https://petitions.example/petitions/sanctuary-city?page=2&amp;lang=en"),
        ("es", "https://petitions.example/petitions/sanctuary-city?page=2&amp;lang=es"),
        ("x-default", "https://petitions.example/petitions/sanctuary-city?page=2"),
    ]


def test_the_switch_names_each_language_in_itself_and_marks_the_current_one(app):
    with app.test_request_context("/petitions/sanctuary-city", headers={"Cookie": "lang=es"}):
        html = render_template_string('{% include "_language_switch.html" %}')

    assert 'aria-label="Language"' in html or 'aria-label="Idioma"' in html
    assert ('<a href="/language/es?next=/petitions/sanctuary-city" lang="es" hreflang="es" '
            'aria-current="true">Español</a>') in html
    assert ('<a href="/language/en?next=/petitions/sanctuary-city" lang="en" hreflang="en">'
            'English</a>') in html


@pytest.mark.parametrize(("language", "count", "expected"), [
    ("en", 1234, "1,234"),
    ("es", 1234, "1.234"),  # CLDR's minimum grouping would give "1234"
    ("es", 1234567, "1.234.567"),
    ("en", 999, "999"),
])
def test_counts_are_grouped_in_every_language(app, language, count, expected):
    with app.test_request_context(f"/?lang={language}"):
        assert numberformat(count) == expected
        assert render_template_string("{{ n|numberformat }}", n=count) == expected


def test_the_count_on_the_page_is_grouped_for_the_reader(client, app):
    PetitionFactory(slug="big", signature_count=12345, goal=100000)
    assert "12.345" in client.get("/petitions/big?lang=es").get_data(as_text=True)
    assert "12,345" in client.get("/petitions/big?lang=en").get_data(as_text=True)


BASE = (Path(__file__).resolve().parents[2] / "templates" / "base.html").read_text()


@pytest.mark.skipif("_hreflang.html" not in BASE or "_language_switch.html" not in BASE,
                    reason="templates/base.html does not include _hreflang.html and "
                           "_language_switch.html yet (the lead's look-and-feel pass)")
def test_every_public_page_has_the_switch_and_its_alternates(client, petition):
    for path in ("/", "/petitions/sanctuary-city", "/subscribe", "/privacy"):
        page = client.get(path).get_data(as_text=True)
        assert 'hreflang="es"' in page and 'hreflang="x-default"' in page, path
        assert 'class="language-switch"' in page and 'aria-current="true"' in page, path
