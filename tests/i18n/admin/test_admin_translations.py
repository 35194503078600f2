"""Admins edit each petition's translations: add, edit, delete, each audit-logged, with CSRF
and the petition's own length limits."""

from __future__ import annotations

from sqlalchemy import select

from petitions.admin.models import AuditEntry
from petitions.extensions import db
from petitions.signing.translations import PetitionTranslation
from tests.admin.conftest import csrf_from
from tests.factories import PetitionFactory


def translations() -> list[PetitionTranslation]:
    db.session.expire_all()
    return list(db.session.scalars(select(PetitionTranslation).order_by(PetitionTranslation.id)))


def audit_actions() -> list[tuple[str, dict]]:
    db.session.expire_all()
    return [(e.action, e.detail) for e in db.session.scalars(
        select(AuditEntry).where(AuditEntry.action.like("petition_translation%"))
        .order_by(AuditEntry.id))]


def post_form(client, url: str, **fields):
    page = client.get(url)
    assert page.status_code == 200
    data = {"csrf_token": csrf_from(page.get_data(as_text=True)), "save": "Save", **fields}
    return client.post(url, data=data)


SPANISH = {"title": "Más parques", "summary": "Zonas verdes para todos.",
           "body": "Pedimos **parques**."}


def test_add_edit_and_delete_a_translation(admin_client):
    petition = PetitionFactory(title="More parks")
    base = f"/admin/petitions/{petition.id}/translations"

    listing = admin_client.get(base).get_data(as_text=True)
    assert "Add the Español translation" in listing
    assert "Translations" in admin_client.get(f"/admin/petitions/{petition.id}").get_data(
        as_text=True)

    response = post_form(admin_client, f"{base}/es", **SPANISH)
    assert response.status_code == 303
    [saved] = translations()
    assert (saved.locale, saved.title, saved.summary, saved.body) == (
        "es", "Más parques", "Zonas verdes para todos.", "Pedimos **parques**.")
    assert "Más parques" in admin_client.get(base).get_data(as_text=True)

    response = post_form(admin_client, f"{base}/es", **{**SPANISH, "title": "Más parques ya"})
    assert response.status_code == 303
    assert translations()[0].title == "Más parques ya"

    page = admin_client.get(base).get_data(as_text=True)
    response = admin_client.post(f"{base}/es/delete", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 303
    assert translations() == []

    assert audit_actions() == [
        ("petition_translation_added", {"locale": "es"}),
        ("petition_translation_edited", {"locale": "es", "fields": ["title"]}),
        ("petition_translation_deleted", {"locale": "es"}),
    ]


def test_the_translation_is_checked_like_the_petition(admin_client):
    petition = PetitionFactory()
    url = f"/admin/petitions/{petition.id}/translations/es"

    too_long = post_form(admin_client, url, title="x" * 201, summary="", body="")

    assert too_long.status_code == 422
    page = too_long.get_data(as_text=True)
    assert "Use 200 characters or fewer." in page
    assert "Write the translated summary." in page
    assert translations() == []


def test_a_preview_saves_nothing(admin_client):
    petition = PetitionFactory()
    url = f"/admin/petitions/{petition.id}/translations/es"
    page = admin_client.get(url).get_data(as_text=True)

    response = admin_client.post(url, data={"csrf_token": csrf_from(page), "preview": "Preview",
                                            **SPANISH})

    assert response.status_code == 200
    assert "<strong>parques</strong>" in response.get_data(as_text=True)
    assert translations() == []


def test_without_a_csrf_token_nothing_changes(admin_client):
    petition = PetitionFactory()
    response = admin_client.post(f"/admin/petitions/{petition.id}/translations/es",
                                 data={**SPANISH, "save": "Save"})
    assert response.status_code == 400
    assert translations() == []


def test_the_default_language_and_unknown_ones_have_no_translation_page(admin_client):
    petition = PetitionFactory()
    for code in ("en", "fr", "../x"):
        response = admin_client.get(f"/admin/petitions/{petition.id}/translations/{code}")
        assert response.status_code == 404, code
    assert admin_client.get("/admin/petitions/999999/translations").status_code == 404


def test_logged_out_visitors_are_sent_to_the_login(client):
    petition = PetitionFactory()
    response = client.get(f"/admin/petitions/{petition.id}/translations")
    assert response.status_code in (302, 303)
    assert "/admin/login" in response.headers["Location"]
