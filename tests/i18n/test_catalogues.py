"""The message catalogues: each compiles, Spanish leaves nothing untranslated or fuzzy, and
the committed template (messages.pot) holds every string the code and templates mark."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

PROJECT = Path(__file__).resolve().parents[2]
TRANSLATIONS = PROJECT / "petitions" / "translations"
SPANISH_PO = TRANSLATIONS / "es" / "LC_MESSAGES" / "messages.po"
POT = TRANSLATIONS / "messages.pot"
# Flask-Babel's lazy spellings, used by forms and the admin menu (see README, "Languages").
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "lazy_ngettext": (1, 2),
            "lazy_pgettext": ((1, "c"), 2)}


def read(path: Path, locale: str | None = None):
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def catalogues() -> list[Path]:
    return sorted(TRANSLATIONS.glob("*/LC_MESSAGES/*.po"))


def msgid_of(message) -> str:
    return message.id if isinstance(message.id, str) else message.id[0]


@pytest.mark.parametrize("po", catalogues() or [pytest.param(None, marks=pytest.mark.skip(
    reason="no catalogue under petitions/translations yet"))], ids=lambda p: str(p and p.parent.parent.name))
def test_each_catalogue_compiles_with_matching_placeholders(po):
    catalog = read(po, locale=po.parent.parent.name)
    problems = [f"{msgid_of(message)!r}: {'; '.join(map(str, errors))}"
                for message, errors in catalog.check()]
    assert problems == []
    write_mo(io.BytesIO(), catalog)


@pytest.mark.skipif(not SPANISH_PO.exists(),
                    reason="the Spanish catalogue (petitions/translations/es/LC_MESSAGES/"
                           "messages.po) has not landed yet")
def test_nothing_is_left_untranslated_or_fuzzy_in_spanish():
    catalog = read(SPANISH_PO, locale="es")
    untranslated, fuzzy = [], []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple | list) else [message.string]
        if not all(strings):
            untranslated.append(msgid_of(message))
        elif message.fuzzy:
            fuzzy.append(msgid_of(message))
    assert untranslated == [], f"{len(untranslated)} untranslated"
    assert fuzzy == [], f"{len(fuzzy)} fuzzy"


def extracted_msgids() -> set[str]:
    with (TRANSLATIONS / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    wanted_roots = {"petitions", "templates"}

    def only_sources(dirpath: str) -> bool:
        relative = Path(dirpath).relative_to(PROJECT)
        return relative == Path(".") or relative.parts[0] in wanted_roots

    found = extract_from_dir(str(PROJECT), method_map, options_map, keywords=KEYWORDS,
                             directory_filter=only_sources)
    return {message if isinstance(message, str) else message[0]
            for _file, _line, message, _comments, _context in found}


@pytest.mark.skipif(not POT.exists(), reason="petitions/translations/messages.pot is not "
                                             "committed yet")
def test_the_committed_pot_is_up_to_date():
    committed = {msgid_of(message) for message in read(POT) if message.id}
    extracted = extracted_msgids()
    assert sorted(extracted - committed) == [], "marked in the code but missing from the .pot"
    assert sorted(committed - extracted) == [], "in the .pot but no longer in the code"


@pytest.mark.skipif(not (SPANISH_PO.exists() and POT.exists()), reason="no Spanish catalogue")
def test_the_spanish_catalogue_follows_the_pot():
    wanted = {msgid_of(message) for message in read(POT) if message.id}
    spanish = {msgid_of(message) for message in read(SPANISH_PO, locale="es") if message.id}
    assert sorted(wanted - spanish) == [], "run pybabel update (see README, Languages)"
