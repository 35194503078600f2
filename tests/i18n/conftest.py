"""Fixtures for the language tests: a small Spanish catalogue of our own, so that what
the tests read does not move while the real one is being written."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from flask_babel import get_domain

# msgid -> Spanish, for strings in the templates these tests render.
SPANISH = {
    "Please confirm your signature: %(title)s": "Confirma tu firma: %(title)s",
    "Please confirm that you want to sign this petition:":
        "Confirma que quieres firmar esta petición:",
    "You've already signed: %(title)s": "Ya has firmado: %(title)s",
    "Your daily digest": "Tu resumen diario",
    "Petitions you can sign": "Peticiones que puedes firmar",
    "Unsubscribe:": "Darse de baja:",
    "%(title)s · %(petition)s": "%(title)s · petición: %(petition)s",
    "This petition isn't available in %(language)s yet; it's shown in %(original)s.":
        "Esta petición aún no está disponible en %(language)s; se muestra en %(original)s.",
    "Language": "Idioma",
}
SPANISH_PLURALS = {
    ("%(num)d new article: %(headline)s", "%(num)d new articles: %(headline)s"):
        ("%(num)d artículo nuevo: %(headline)s", "%(num)d artículos nuevos: %(headline)s"),
}


def write_catalogue(folder: Path) -> Path:
    catalog = Catalog(locale="es", domain="messages")
    for msgid, msgstr in SPANISH.items():
        catalog.add(msgid, msgstr)
    for msgid, msgstr in SPANISH_PLURALS.items():
        catalog.add(msgid, msgstr)
    target = folder / "es" / "LC_MESSAGES"
    target.mkdir(parents=True)
    with (target / "messages.mo").open("wb") as handle:
        write_mo(handle, catalog)
    return folder


@pytest.fixture
def spanish(app, tmp_path):
    """Our catalogue, loaded after the real one, so its strings win."""
    babel = app.extensions["babel"]
    before = list(babel.translation_directories)
    babel.translation_directories.append(str(write_catalogue(tmp_path / "translations")))
    get_domain().cache.clear()
    yield SPANISH
    babel.translation_directories[:] = before
    get_domain().cache.clear()
