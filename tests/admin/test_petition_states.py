"""Moving petitions through their states, hiding, removing and restoring them."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
from sqlalchemy import select

from petitions.admin.models import AuditEntry
from petitions.database import utcnow
from petitions.extensions import db
from tests.admin.conftest import csrf_from
from tests.factories import PetitionFactory


def post(client, url: str, data: dict | None = None):
    return client.post(url, data={**(data or {}), "csrf_token": client.csrf})


def audit_log() -> list[tuple]:
    rows = db.session.execute(select(AuditEntry.action, AuditEntry.actor_email,
                                     AuditEntry.target_id, AuditEntry.detail)
                              .where(AuditEntry.action != "login").order_by(AuditEntry.id))
    return [tuple(row) for row in rows]


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def reload(petition):
    db.session.expire_all()
    return petition


# --- states ---------------------------------------------------------------------------------

@pytest.mark.parametrize("before, to", [
    ("draft", "open"), ("open", "closed"), ("closed", "open"), ("closed", "archived"),
])
def test_allowed_moves_change_the_state_and_are_audited(moderator_client, before, to):
    petition = PetitionFactory(state=before)

    response = post(moderator_client, f"/admin/petitions/{petition.id}/state", {"to": to})

    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/petitions/{petition.id}"
    assert reload(petition).state == to
    assert audit_log() == [("petition_state_changed", moderator_client.account.email,
                            str(petition.id), {"from": before, "to": to})]


@pytest.mark.parametrize("before, to, message", [
    ("draft", "closed", "A petition that is draft can't be made closed."),
    ("draft", "archived", "A petition that is draft can't be made archived."),
    ("open", "draft", "A petition that is open can't be made draft."),
    ("open", "archived", "A petition that is open can't be made archived."),
    ("closed", "draft", "A petition that is closed can't be made draft."),
    ("archived", "open", "A petition that is archived can't be made open."),
    ("archived", "closed", "A petition that is archived can't be made closed."),
    ("open", "open", "This petition is already open."),
])
def test_refused_moves_are_a_409_with_the_reason(admin_client, before, to, message):
    petition = PetitionFactory(state=before)

    response = post(admin_client, f"/admin/petitions/{petition.id}/state", {"to": to})

    assert response.status_code == 409
    assert message in text(response)
    assert reload(petition).state == before
    assert audit_log() == []


@pytest.mark.parametrize("before", ["draft", "closed"])
def test_opening_needs_a_closing_time_in_the_future(admin_client, before):
    petition = PetitionFactory(state=before, closes_at=utcnow() - timedelta(minutes=1))

    response = post(admin_client, f"/admin/petitions/{petition.id}/state", {"to": "open"})

    assert response.status_code == 409
    assert "Its closing time has passed. Edit the petition to set a later closing time" in text(
        response)
    assert reload(petition).state == before


def test_a_closed_petition_without_closing_time_can_be_reopened(admin_client):
    petition = PetitionFactory(state="closed", closes_at=None)

    response = post(admin_client, f"/admin/petitions/{petition.id}/state", {"to": "open"})

    assert response.status_code == 303
    assert reload(petition).state == "open"


def test_the_page_offers_only_the_allowed_moves(admin_client):
    closed = PetitionFactory(state="closed")
    archived = PetitionFactory(state="archived")

    closed_page = admin_client.get(f"/admin/petitions/{closed.id}").get_data(as_text=True)
    archived_page = admin_client.get(f"/admin/petitions/{archived.id}").get_data(as_text=True)

    assert 'name="to" value="open"' in closed_page and 'name="to" value="archived"' in closed_page
    assert 'name="to" value="closed"' not in closed_page
    assert 'name="to"' not in archived_page
    assert "This petition is archived; its state can't change any more." in html.unescape(
        archived_page)


@pytest.mark.parametrize("value", ["", "deleted", "OPEN"])
def test_an_unknown_state_is_a_400(admin_client, value):
    petition = PetitionFactory(state="draft")

    response = post(admin_client, f"/admin/petitions/{petition.id}/state", {"to": value})

    assert response.status_code == 400
    assert "A petition can be draft, open, closed or archived." in text(response)
    assert reload(petition).state == "draft"


def test_an_opened_draft_can_be_signed_publicly(admin_client, client):
    petition = PetitionFactory(slug="new-one", state="draft")
    assert client.get("/petitions/new-one").status_code == 404

    post(admin_client, f"/admin/petitions/{petition.id}/state", {"to": "open"})

    page = client.get("/petitions/new-one")
    assert page.status_code == 200 and "Sign this petition" in page.get_data(as_text=True)


# --- hide and remove ------------------------------------------------------------------------

def test_hiding_answers_404_publicly_and_unhiding_brings_it_back(moderator_client, client):
    petition = PetitionFactory(slug="quiet-one")

    hidden = post(moderator_client, f"/admin/petitions/{petition.id}/hide")

    assert hidden.status_code == 303
    assert reload(petition).hidden is True
    assert client.get("/petitions/quiet-one").status_code == 404
    assert "quiet-one" not in client.get("/").get_data(as_text=True)

    shown = post(moderator_client, f"/admin/petitions/{petition.id}/unhide")

    assert shown.status_code == 303
    assert client.get("/petitions/quiet-one").status_code == 200
    assert audit_log() == [
        ("petition_hidden", moderator_client.account.email, str(petition.id), {}),
        ("petition_unhidden", moderator_client.account.email, str(petition.id), {}),
    ]


def test_hiding_twice_is_a_409(admin_client):
    petition = PetitionFactory(hidden=True)

    again = post(admin_client, f"/admin/petitions/{petition.id}/hide")
    unhide_visible = post(admin_client, f"/admin/petitions/{PetitionFactory().id}/unhide")

    assert again.status_code == 409 and "This petition is already hidden." in text(again)
    assert unhide_visible.status_code == 409 and "This petition is not hidden." in text(
        unhide_visible)
    assert audit_log() == []


def test_removing_answers_410_with_the_reason_and_restoring_undoes_it(admin_client, client):
    petition = PetitionFactory(slug="bad-one")
    reason = "Removed at the request of the <organisers>."

    removed = post(admin_client, f"/admin/petitions/{petition.id}/remove", {"reason": reason})

    assert removed.status_code == 303
    reload(petition)
    assert petition.removal_reason == reason and petition.removed_at is not None
    public = client.get("/petitions/bad-one")
    assert public.status_code == 410
    assert "This petition has been removed" in text(public)
    assert reason in text(public)
    assert "<organisers>" not in public.get_data(as_text=True)  # escaped

    restored = post(admin_client, f"/admin/petitions/{petition.id}/restore")

    assert restored.status_code == 303
    reload(petition)
    assert (petition.removed_at, petition.removal_reason) == (None, None)
    assert client.get("/petitions/bad-one").status_code == 200
    assert audit_log() == [
        ("petition_removed", admin_client.account.email, str(petition.id), {"reason": reason}),
        ("petition_restored", admin_client.account.email, str(petition.id),
         {"removal_reason": reason}),
    ]


@pytest.mark.parametrize("reason, message", [
    ("", "Give the reason: it is shown to everyone who opens the petition."),
    ("   ", "Give the reason: it is shown to everyone who opens the petition."),
    ("r" * 501, "Use 500 characters or fewer."),
    ("null\x00byte", "Please remove special characters."),
])
def test_removing_needs_a_reason(admin_client, client, reason, message):
    petition = PetitionFactory(slug="kept")

    response = post(admin_client, f"/admin/petitions/{petition.id}/remove", {"reason": reason})

    assert response.status_code == 422
    assert message in text(response)
    assert reload(petition).removed_at is None
    assert client.get("/petitions/kept").status_code == 200
    assert audit_log() == []


def test_removing_twice_and_restoring_a_petition_not_removed_are_409(admin_client):
    removed = PetitionFactory(removed_at=utcnow(), removal_reason="Spam")
    present = PetitionFactory()

    again = post(admin_client, f"/admin/petitions/{removed.id}/remove", {"reason": "Again"})
    restore = post(admin_client, f"/admin/petitions/{present.id}/restore")

    assert again.status_code == 409 and "already been removed" in text(again)
    assert restore.status_code == 409 and "This petition has not been removed." in text(restore)
    assert reload(removed).removal_reason == "Spam"


def test_the_page_of_a_removed_petition_shows_the_reason_and_a_restore_button(admin_client):
    petition = PetitionFactory(removed_at=utcnow(), removal_reason="Duplicate of another one")

    page = admin_client.get(f"/admin/petitions/{petition.id}").get_data(as_text=True)

    assert "Duplicate of another one" in page
    assert f'action="/admin/petitions/{petition.id}/restore"' in page
    assert f'action="/admin/petitions/{petition.id}/remove"' not in page


# --- guards ---------------------------------------------------------------------------------

ACTIONS = [("state", {"to": "closed"}), ("hide", {}), ("unhide", {}),
           ("remove", {"reason": "Spam"}), ("restore", {})]


@pytest.mark.parametrize("action, data", ACTIONS)
def test_actions_without_a_csrf_token_are_refused(admin_client, action, data):
    petition = PetitionFactory(state="open")

    response = admin_client.post(f"/admin/petitions/{petition.id}/{action}", data=data)

    assert response.status_code == 400
    reload(petition)
    assert (petition.state, petition.hidden, petition.removed_at) == ("open", False, None)
    assert audit_log() == []


@pytest.mark.parametrize("action, data", ACTIONS)
def test_anonymous_visitors_cannot_act(client, action, data):
    petition = PetitionFactory(state="open")
    token = csrf_from(client.get("/admin/login").get_data(as_text=True))

    response = client.post(f"/admin/petitions/{petition.id}/{action}",
                           data={**data, "csrf_token": token})

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/login?next=")
    assert reload(petition).state == "open"


@pytest.mark.parametrize("action, data", ACTIONS)
def test_actions_on_an_unknown_petition_are_a_404(admin_client, action, data):
    response = post(admin_client, f"/admin/petitions/999999/{action}", data)

    assert response.status_code == 404
    assert "There is no petition with that number." in text(response)
