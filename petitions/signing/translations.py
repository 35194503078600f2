"""A petition's title, summary and body in other languages, and which text to show.

The petition's own columns are its text in DEFAULT_LANGUAGE. A translation adds the
three for one more language. Pages and emails ask `petition_text(petition, locale)` for
the text to show: the translation when there is one, else the petition's own text, with
`fallback` set so the page can say so and mark it up with the right `lang`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint, select, tuple_
from sqlalchemy.orm import Mapped, mapped_column

from petitions.database import UTCDateTime, utcnow
from petitions.extensions import db
from petitions.signing.models import Petition


class PetitionTranslation(db.Model):
    __tablename__ = "petition_translations"
    __table_args__ = (
        UniqueConstraint("petition_id", "locale", name="uq_petition_translations_locale"),
        CheckConstraint("locale <> ''", name="locale_not_empty"),
        CheckConstraint("title <> ''", name="title_not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(
        ForeignKey("petitions.id", ondelete="CASCADE"), index=True)
    locale: Mapped[str] = mapped_column(String(10))
    # The same limits as the petition's own columns.
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<PetitionTranslation {self.petition_id} {self.locale}>"


@dataclass(frozen=True)
class PetitionText:
    title: str
    summary: str
    body: str
    lang: str  # the language the text is actually in
    fallback: bool  # True when the wanted language had no translation


def _default_language() -> str:
    from petitions.languages import default_language

    return default_language()


def _wanted(locale: str | None) -> str:
    from petitions.languages import current_language

    return locale or current_language()


def own_text(petition, fallback: bool = False) -> PetitionText:
    return PetitionText(petition.title, petition.summary, petition.body or "",
                        _default_language(), fallback)


def petition_text(petition, locale: str | None = None) -> PetitionText:
    """The text to show in `locale` (default: the current language). Also a Jinja global:
    `{% set text = petition_text(petition) %}`."""
    if isinstance(petition, LocalizedPetition):
        if locale is None or locale == petition.text_locale:
            return petition.text
        petition = petition.original
    wanted = _wanted(locale)
    if wanted == _default_language():
        return own_text(petition)
    found = db.session.scalar(select(PetitionTranslation).where(
        PetitionTranslation.petition_id == petition.id, PetitionTranslation.locale == wanted))
    if found is None:
        return own_text(petition, fallback=True)
    return PetitionText(found.title, found.summary, found.body or "", wanted, False)


def texts_for(pairs: Iterable[tuple[int, str]]) -> dict[tuple[int, str], PetitionText]:
    """Translations for many (petition id, locale) pairs in one query, for the worker's
    renderers; a pair with no translation is left out (the caller falls back)."""
    wanted = sorted({pair for pair in pairs if pair[1] != _default_language()})
    if not wanted:
        return {}
    rows = db.session.scalars(select(PetitionTranslation).where(
        tuple_(PetitionTranslation.petition_id, PetitionTranslation.locale).in_(wanted)))
    return {(row.petition_id, row.locale):
            PetitionText(row.title, row.summary, row.body or "", row.locale, False)
            for row in rows}


class LocalizedPetition:
    """A petition whose title, summary and body read in one language; everything else is
    the petition's own. Emails and pages whose templates say `petition.title` get the
    right text without knowing about translations."""

    def __init__(self, petition: Petition, locale: str | None = None,
                 text: PetitionText | None = None) -> None:
        self.original = petition
        self.text_locale = _wanted(locale)
        self.text = text or petition_text(petition, self.text_locale)

    @property
    def title(self) -> str:
        return self.text.title

    @property
    def summary(self) -> str:
        return self.text.summary

    @property
    def body(self) -> str:
        return self.text.body

    def __getattr__(self, name: str):
        return getattr(self.original, name)

    def __repr__(self) -> str:
        return f"<LocalizedPetition {self.original!r} {self.text_locale}>"


def localized(petition: Petition | None, locale: str | None = None):
    return None if petition is None else LocalizedPetition(petition, locale)


def localized_all(petitions: Iterable[Petition], locale: str | None = None) -> list:
    """Many petitions in one language, with one query for all their translations."""
    petitions = list(petitions)
    wanted = _wanted(locale)
    if wanted == _default_language():
        return [LocalizedPetition(p, wanted, own_text(p)) for p in petitions]
    texts = texts_for((p.id, wanted) for p in petitions)
    return [LocalizedPetition(p, wanted, texts.get((p.id, wanted)) or own_text(p, fallback=True))
            for p in petitions]
