"""A petition's translations in the admin: list them, add or edit one per language, delete.

The petition's own text is its text in DEFAULT_LANGUAGE; each other language in LANGUAGES
may have a translation (petitions/signing/translations.py). Every change is audit-logged
and committed with the entry. Views register on the petitions area's blueprint, so their
endpoints read "admin.petitions.translation...".
"""

from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from petitions.admin import audit
from petitions.admin.petition_forms import BODY_MAX, TranslationForm
from petitions.admin.petitions import _petition, bp
from petitions.errors import render_error
from petitions.extensions import db
from petitions.languages import default_language, languages, own_name
from petitions.signing.models import Petition
from petitions.signing.translations import PetitionTranslation
from petitions.text import render_markdown


def _other_languages() -> list[str]:
    return [code for code in languages() if code != default_language()]


def _language(locale: str) -> str:
    if locale not in _other_languages():
        abort(make_response(render_error(
            404, _("Language not available"),
            _("Translations can be added in: %(names)s.",
              names=", ".join(own_name(code) for code in _other_languages()) or "—"))))
    return locale


def _translation(petition: Petition, locale: str) -> PetitionTranslation | None:
    return db.session.scalar(select(PetitionTranslation).where(
        PetitionTranslation.petition_id == petition.id, PetitionTranslation.locale == locale))


@bp.get("/<int:petition_id>/translations")
def translations(petition_id: int):
    petition = _petition(petition_id)
    found = {t.locale: t for t in db.session.scalars(
        select(PetitionTranslation).where(PetitionTranslation.petition_id == petition.id))}
    rows = [{"code": code, "name": own_name(code), "translation": found.get(code)}
            for code in _other_languages()]
    return render_template("admin/petitions/translations.html", petition=petition, rows=rows,
                           default_name=own_name(default_language()))


def _render_form(form: TranslationForm, petition: Petition, locale: str,
                 translation: PetitionTranslation | None, status: int = 200):
    preview = None
    if form.preview.data and len(form.body.data or "") <= BODY_MAX:
        preview = render_markdown(form.body.data)
    page = render_template("admin/petitions/translation_form.html", form=form,
                           petition=petition, locale=locale, language=own_name(locale),
                           translation=translation, preview=preview)
    return page, status


@bp.route("/<int:petition_id>/translations/<locale>", methods=["GET", "POST"])
def translation(petition_id: int, locale: str):
    petition = _petition(petition_id)
    locale = _language(locale)
    existing = _translation(petition, locale)
    form = TranslationForm(obj=existing)
    if not form.is_submitted():
        return _render_form(form, petition, locale, existing)
    valid = form.validate()
    if form.preview.data:
        return _render_form(form, petition, locale, existing)
    if not valid:
        return _render_form(form, petition, locale, existing, status=422)
    values = form.values()
    if existing is None:
        db.session.add(PetitionTranslation(petition_id=petition.id, locale=locale, **values))
        audit.record("petition_translation_added", petition, locale=locale)
    else:
        changed = [name for name, value in values.items() if getattr(existing, name) != value]
        if not changed:
            flash(_("Nothing was changed."))
            return redirect(url_for(".translations", petition_id=petition.id), code=303)
        for name in changed:
            setattr(existing, name, values[name])
        audit.record("petition_translation_edited", petition, locale=locale, fields=changed)
    try:
        db.session.commit()
    except IntegrityError:  # another admin added this language meanwhile
        db.session.rollback()
        form.form_errors.append(_("Someone else added this translation just now. Open it "
                                  "again to see their text."))
        return _render_form(form, petition, locale, None, status=409)
    flash(_("The %(language)s translation was saved.", language=own_name(locale)))
    return redirect(url_for(".translations", petition_id=petition.id), code=303)


@bp.post("/<int:petition_id>/translations/<locale>/delete")
def delete_translation(petition_id: int, locale: str):
    petition = _petition(petition_id)
    locale = _language(locale)
    existing = _translation(petition, locale)
    if existing is None:
        flash(_("There was no %(language)s translation to delete.", language=own_name(locale)))
        return redirect(url_for(".translations", petition_id=petition.id), code=303)
    db.session.delete(existing)
    audit.record("petition_translation_deleted", petition, locale=locale)
    db.session.commit()
    flash(_("The %(language)s translation was deleted: the petition shows in %(default)s "
            "there now.", language=own_name(locale), default=own_name(default_language())))
    return redirect(url_for(".translations", petition_id=petition.id), code=303)
