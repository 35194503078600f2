"""The petition list and editor in the admin: create, edit, preview, the snippet."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from petitions.admin.models import AuditEntry
from petitions.database import utcnow
from petitions.extensions import db
from petitions.signing.models import Petition
from tests.admin.conftest import csrf_from
from tests.factories import ArticleFactory, CategoryFactory, PetitionFactory, SignatureFactory


@pytest.fixture(autouse=True)
def site_settings(app):
    app.config["SITE_TIMEZONE"] = "America/New_York"
    app.config["BASE_URL"] = "https://petitions.example.org"


def post(client, url: str, data: dict | None = None):
    return client.post(url, data={**(data or {}), "csrf_token": client.csrf})


def audit_log() -> list[tuple]:
    rows = db.session.execute(select(AuditEntry.action, AuditEntry.actor_email,
                                     AuditEntry.target_type, AuditEntry.target_id,
                                     AuditEntry.detail).order_by(AuditEntry.id))
    return [tuple(row) for row in rows if row.action not in ("login",)]


def petition_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Petition))


def new_petition_form(**overrides) -> dict:
    category = CategoryFactory(name="Immigration")
    form = {
        "slug": "save-the-library",
        "title": "Save the library",
        "summary": "Keep the  Northeast library\n open on Sundays.",
        "body": "We ask the **Council** to act.\r\n\r\n<script>alert(1)</script>",
        "target": "DC Council",
        "goal": "2,500",
        "closes_at": "2031-07-01T12:00",
        "category": str(category.id),
    }
    return {**form, **overrides}


# --- anonymous visitors and CSRF ------------------------------------------------------------

@pytest.mark.parametrize("method, url", [
    ("get", "/admin/petitions/"),
    ("get", "/admin/petitions/new"),
    ("post", "/admin/petitions/new"),
    ("get", "/admin/petitions/1"),
    ("get", "/admin/petitions/1/edit"),
    ("post", "/admin/petitions/1/edit"),
])
def test_anonymous_visitors_are_sent_to_the_login_page(client, method, url):
    # With a valid CSRF token, so that it is the login check that answers.
    token = csrf_from(client.get("/admin/login").get_data(as_text=True))
    data = {"csrf_token": token} if method == "post" else None

    response = getattr(client, method)(url, data=data)

    assert response.status_code == 302
    assert response.headers["Location"] == f"/admin/login?next={url}"


def test_creating_without_a_csrf_token_is_refused(admin_client):
    form = new_petition_form()

    response = admin_client.post("/admin/petitions/new", data=form)

    assert response.status_code == 400
    assert "Your form expired" in response.get_data(as_text=True)
    assert petition_count() == 0


def test_editing_without_a_csrf_token_is_refused(admin_client):
    petition = PetitionFactory(title="Old title")

    response = admin_client.post(f"/admin/petitions/{petition.id}/edit",
                                 data={"title": "New title"})

    assert response.status_code == 400
    db.session.expire_all()
    assert petition.title == "Old title"


# --- the list -------------------------------------------------------------------------------

def test_the_list_shows_every_petition_with_its_state_count_goal_and_flags(moderator_client):
    draft = PetitionFactory(slug="a-draft", state="draft", closes_at=None, category=None)
    hidden = PetitionFactory(slug="hidden-one", hidden=True, signature_count=12, goal=500,
                             closes_at=datetime(2031, 1, 2, 17, 30, tzinfo=UTC))
    removed = PetitionFactory(slug="removed-one", state="closed", removed_at=utcnow(),
                              removal_reason="Spam")

    response = moderator_client.get("/admin/petitions/")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    rows = {slug: re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()
            for row in re.findall(r"<tr>(.*?)</tr>", page, re.S)
            for slug in re.findall(r"<code>([a-z0-9-]+)</code>", row)}
    assert rows == {
        "a-draft": f"{draft.title} a-draft draft 0 1000 — — Edit",
        "hidden-one": f"{hidden.title} hidden-one open 12 500 2031-01-02 12:30 "
                      f"{hidden.category.name} hidden Edit",
        "removed-one": f"{removed.title} removed-one closed 0 1000 "
                       f"{removed.closes_at.astimezone(_ny()).strftime('%Y-%m-%d %H:%M')} "
                       f"{removed.category.name} removed Edit",
    }
    assert f'href="/admin/petitions/{draft.id}/edit"' in page


def _ny():
    from zoneinfo import ZoneInfo

    return ZoneInfo("America/New_York")


@pytest.mark.parametrize("shown, expected", [
    ("draft", ["a-draft"]), ("open", ["hidden-one"]), ("closed", ["removed-one"]),
    ("archived", []), ("hidden", ["hidden-one"]), ("removed", ["removed-one"]),
])
def test_the_list_filters_by_state_and_flag(admin_client, shown, expected):
    PetitionFactory(slug="a-draft", state="draft")
    PetitionFactory(slug="hidden-one", hidden=True)
    PetitionFactory(slug="removed-one", state="closed", removed_at=utcnow(), removal_reason="x")

    page = admin_client.get(f"/admin/petitions/?state={shown}").get_data(as_text=True)

    assert re.findall(r"<code>([a-z0-9-]+)</code>", page) == expected


def test_an_unknown_filter_is_a_400_that_lists_the_choices(admin_client):
    response = admin_client.get("/admin/petitions/?state=<b>deleted</b>")

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Show petitions that are: draft, open, closed, archived, hidden, removed." in page
    assert "<b>deleted" not in page


# --- creating -------------------------------------------------------------------------------

def test_creating_a_petition_saves_a_draft_and_audits_it(admin_client):
    form = new_petition_form()

    response = post(admin_client, "/admin/petitions/new", form)

    assert response.status_code == 303
    petition = db.session.scalars(select(Petition)).one()
    assert response.headers["Location"] == f"/admin/petitions/{petition.id}"
    assert (petition.slug, petition.title, petition.summary, petition.target, petition.goal,
            petition.state, petition.category_id, petition.hidden, petition.removed_at) == (
        "save-the-library", "Save the library", "Keep the Northeast library open on Sundays.",
        "DC Council", 2500, "draft", int(form["category"]), False, None)
    assert petition.body == "We ask the **Council** to act.\n\n<script>alert(1)</script>"
    # 12:00 in New York in July (EDT, UTC-4) is 16:00 UTC.
    assert petition.closes_at == datetime(2031, 7, 1, 16, 0, tzinfo=UTC)
    assert audit_log() == [("petition_created", admin_client.account.email, "petitions",
                            str(petition.id), {"slug": "save-the-library"})]


def test_a_moderator_can_create_a_petition_without_closing_time_or_category(moderator_client):
    form = new_petition_form(closes_at="", category="", body="")

    response = post(moderator_client, "/admin/petitions/new", form)

    assert response.status_code == 303
    petition = db.session.scalars(select(Petition)).one()
    assert (petition.closes_at, petition.category_id, petition.body) == (None, None, "")
    assert audit_log()[0][:2] == ("petition_created", moderator_client.account.email)


@pytest.mark.parametrize("field, value, message", [
    ("slug", "Save the Library", "Use lowercase letters and digits, with single hyphens"),
    ("slug", "save--library", "Use lowercase letters and digits, with single hyphens"),
    ("slug", "-save", "Use lowercase letters and digits, with single hyphens"),
    ("slug", "a" * 81, "Use 80 characters or fewer."),
    ("slug", "", "Give the petition an address, like save-the-library."),
    ("title", "", "Give the petition a title."),
    ("title", "x" * 201, "Use 200 characters or fewer."),
    ("title", "Bell\x07", "Please remove special characters."),
    ("summary", "s" * 501, "Use 500 characters or fewer."),
    ("target", "", "Say who the petition is addressed to."),
    ("target", "t" * 201, "Use 200 characters or fewer."),
    ("body", "b" * 20_001, "Use 20000 characters or fewer."),
    ("goal", "0", "The goal must be a whole number from 1 to 2147483647."),
    ("goal", "-5", "The goal must be a whole number from 1 to 2147483647."),
    ("goal", "99999999999", "The goal must be a whole number from 1 to 2147483647."),
    ("goal", "lots", "Enter a whole number, like 1000."),
    ("goal", "", "Give a goal, like 1000."),
    ("closes_at", "next tuesday", "Enter a date and time like 2025-09-30 17:00."),
    ("closes_at", "2031-02-30T10:00", "Enter a date and time like 2025-09-30 17:00."),
    ("closes_at", "2001-01-01T10:00", "The closing time must be in the future."),
    ("category", "999999", "Choose a category from the list."),
])
def test_bad_input_is_a_422_with_a_message_and_nothing_is_saved(admin_client, field, value,
                                                                   message):
    response = post(admin_client, "/admin/petitions/new", new_petition_form(**{field: value}))

    assert response.status_code == 422
    assert message in html.unescape(response.get_data(as_text=True))
    assert petition_count() == 0
    assert audit_log() == []


def test_a_slug_in_use_is_a_form_error(admin_client):
    PetitionFactory(slug="save-the-library")

    response = post(admin_client, "/admin/petitions/new", new_petition_form())

    assert response.status_code == 422
    assert "Another petition already uses this address." in response.get_data(as_text=True)
    assert petition_count() == 1


def test_preview_renders_the_sanitised_markdown_without_saving(admin_client):
    response = post(admin_client, "/admin/petitions/new",
                    {**new_petition_form(), "preview": "Preview"})

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Preview (not saved yet)" in page
    assert "<p>We ask the <strong>Council</strong> to act.</p>" in page
    assert "<script>alert(1)</script>" not in page
    # The form keeps what was typed.
    assert 'value="save-the-library"' in page and 'value="2,500"' in page
    assert petition_count() == 0
    assert audit_log() == []


def test_preview_shows_form_errors_too(admin_client):
    response = post(admin_client, "/admin/petitions/new",
                    {**new_petition_form(slug="Bad Slug", body="*hi*"), "preview": "Preview"})

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<p><em>hi</em></p>" in page
    assert "Use lowercase letters and digits" in page
    assert petition_count() == 0


# --- editing --------------------------------------------------------------------------------

def edit_form(petition: Petition, **changes) -> dict:
    closes = petition.closes_at.astimezone(_ny()).strftime("%Y-%m-%dT%H:%M") \
        if petition.closes_at else ""
    form = {"slug": petition.slug, "title": petition.title, "summary": petition.summary,
            "body": petition.body, "target": petition.target, "goal": str(petition.goal),
            "closes_at": closes, "category": str(petition.category_id or "")}
    return {**form, **changes}


def test_the_edit_form_shows_the_stored_values(admin_client):
    petition = PetitionFactory(closes_at=datetime(2031, 1, 2, 17, 30, 12, tzinfo=UTC))

    page = admin_client.get(f"/admin/petitions/{petition.id}/edit").get_data(as_text=True)

    assert f'value="{petition.slug}"' in page and "readonly" in page
    assert 'value="2031-01-02T12:30"' in page
    assert f'<option selected value="{petition.category_id}">' in page


def test_editing_saves_the_changes_and_audits_the_changed_fields(moderator_client):
    petition = PetitionFactory(closes_at=utcnow() + timedelta(days=3, seconds=17))
    closes_before = petition.closes_at
    other = CategoryFactory()

    response = post(moderator_client, f"/admin/petitions/{petition.id}/edit",
                    edit_form(petition, title="A better title", goal="5000",
                              category=str(other.id)))

    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/petitions/{petition.id}"
    db.session.expire_all()
    assert (petition.title, petition.goal, petition.category_id) == ("A better title", 5000,
                                                                     other.id)
    assert petition.closes_at == closes_before  # untouched, seconds and all
    assert audit_log() == [("petition_edited", moderator_client.account.email, "petitions",
                            str(petition.id), {"fields": ["title", "goal", "category_id"]})]


def test_saving_without_changes_writes_no_audit_entry(admin_client):
    petition = PetitionFactory(body="Plain text.")

    response = post(admin_client, f"/admin/petitions/{petition.id}/edit", edit_form(petition))

    assert response.status_code == 303
    shown = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Nothing was changed." in shown
    assert audit_log() == []


def test_a_draft_can_change_its_slug_but_an_opened_petition_cannot(admin_client):
    draft = PetitionFactory(slug="first-idea", state="draft")
    opened = PetitionFactory(slug="live-one", state="open")

    moved = post(admin_client, f"/admin/petitions/{draft.id}/edit",
                 edit_form(draft, slug="better-idea"))
    refused = post(admin_client, f"/admin/petitions/{opened.id}/edit",
                   edit_form(opened, slug="other-address"))

    assert moved.status_code == 303
    assert refused.status_code == 422
    message = "The address can't change once the petition has been opened"
    assert message in html.unescape(refused.get_data(as_text=True))
    db.session.expire_all()
    assert (draft.slug, opened.slug) == ("better-idea", "live-one")


def test_editing_to_a_slug_in_use_is_a_form_error(admin_client):
    PetitionFactory(slug="taken")
    draft = PetitionFactory(slug="mine", state="draft")

    response = post(admin_client, f"/admin/petitions/{draft.id}/edit", edit_form(draft,
                                                                                 slug="taken"))

    assert response.status_code == 422
    assert "Another petition already uses this address." in response.get_data(as_text=True)


def test_a_closed_petition_may_keep_a_past_closing_time(admin_client):
    petition = PetitionFactory(state="closed", closes_at=utcnow() - timedelta(days=2))

    response = post(admin_client, f"/admin/petitions/{petition.id}/edit",
                    edit_form(petition, closes_at="2020-01-01T09:00", title="Renamed"))

    assert response.status_code == 303
    db.session.expire_all()
    assert petition.closes_at == datetime(2020, 1, 1, 14, 0, tzinfo=UTC)


def test_edit_preview_saves_nothing(admin_client):
    petition = PetitionFactory(body="Old text")

    response = post(admin_client, f"/admin/petitions/{petition.id}/edit",
                    {**edit_form(petition, body="## New heading"), "preview": "Preview"})

    assert response.status_code == 200
    assert "<h2>New heading</h2>" in response.get_data(as_text=True)
    db.session.expire_all()
    assert petition.body == "Old text"
    assert audit_log() == []


@pytest.mark.parametrize("url", ["/admin/petitions/999999", "/admin/petitions/999999/edit"])
def test_an_unknown_petition_is_a_404_with_a_message(admin_client, url):
    response = admin_client.get(url)

    assert response.status_code == 404
    assert "There is no petition with that number." in response.get_data(as_text=True)


# --- the petition's page --------------------------------------------------------------------

def test_the_page_offers_the_sign_our_petition_snippet_to_copy(moderator_client):
    petition = PetitionFactory(slug="save-the-library")

    page = moderator_client.get(f"/admin/petitions/{petition.id}").get_data(as_text=True)

    snippet = re.search(r'<textarea id="sign-snippet"[^>]*\breadonly\b[^>]*>(.*?)</textarea>',
                        page, re.S)
    assert snippet, "no readonly snippet textarea"
    assert html.unescape(snippet.group(1)) == (
        '<a class="petition" href="https://petitions.example.org/petitions/save-the-library">'
        'Sign Our Petition</a>')


def test_the_page_shows_counts_by_state_and_linked_articles(admin_client):
    petition = PetitionFactory(signature_count=1)
    SignatureFactory(petition=petition, state="confirmed", confirmed_at=utcnow(), counted=True)
    SignatureFactory(petition=petition)
    SignatureFactory(petition=petition)
    ArticleFactory(title="Council hears the library case", petition=petition)
    ArticleFactory(title="Unrelated story")

    page = admin_client.get(f"/admin/petitions/{petition.id}").get_data(as_text=True)

    assert "1 confirmed, 2 pending, 0 invalidated" in page
    assert "Council hears the library case" in page
    assert "Unrelated story" not in page
