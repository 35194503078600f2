"""axe-core and our accessibility rules on the main admin pages, logged in through the form."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from petitions.database import utcnow
from petitions.extensions import db
from petitions.signing.models import Petition
from tests.browser.accessibility import assert_accessible
from tests.browser.support import settle
from tests.factories import ADMIN_PASSWORD, AdminUserFactory, PetitionFactory, SignatureFactory

EDITOR = "editor@example.org"


def log_in(page, password: str = ADMIN_PASSWORD) -> None:
    page.goto("/admin/login")
    page.get_by_label("Email address").fill(EDITOR)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


def petition_id(slug: str) -> int:
    try:
        return db.session.scalar(select(Petition.id).where(Petition.slug == slug))
    finally:
        settle()


@pytest.fixture
def admin_data(app):
    AdminUserFactory(email=EDITOR)
    petition = PetitionFactory(slug="clean-air", title="Clean air for every school",
                               signature_count=2)
    for minutes in range(2):
        SignatureFactory(petition=petition, state="confirmed", counted=True,
                         confirmed_at=utcnow() - timedelta(minutes=minutes + 1))
    SignatureFactory(petition=petition)
    PetitionFactory(slug="draft-one", title="A draft", state="draft")
    settle()


def _login_page(page):
    page.goto("/admin/login")


def _login_error(page):
    log_in(page, password="not the password at all")
    page.get_by_role("alert").wait_for()


def _dashboard(page):
    log_in(page)
    page.goto("/admin/")


def _petitions(page):
    log_in(page)
    page.goto("/admin/petitions/")


def _petition(page):
    log_in(page)
    page.goto(f"/admin/petitions/{petition_id('clean-air')}")


def _petition_edit(page):
    log_in(page)
    page.goto(f"/admin/petitions/{petition_id('clean-air')}/edit")


def _petition_edit_with_errors(page):
    _petition_edit(page)
    page.get_by_label("Title").fill("")
    page.get_by_role("button", name="Save").click()
    page.locator("#error-summary").wait_for()


def _petition_charts(page):
    log_in(page)
    page.goto("/admin/petition-stats/clean-air")


def _moderation_search(page):
    log_in(page)
    page.goto("/admin/signatures/?petition=clean-air")


def _exports(page):
    log_in(page)
    page.goto("/admin/exports/")


PAGES = {
    "admin-login": _login_page,
    "admin-login-error": _login_error,
    "admin-dashboard": _dashboard,
    "admin-petitions": _petitions,
    "admin-petition": _petition,
    "admin-petition-edit": _petition_edit,
    "admin-petition-edit-with-errors": _petition_edit_with_errors,
    "admin-petition-charts": _petition_charts,
    "admin-moderation-search": _moderation_search,
    "admin-exports": _exports,
}


@pytest.mark.parametrize("name", list(PAGES))
def test_admin_page_is_accessible(name, axe_page, admin_data):
    PAGES[name](axe_page)
    assert_accessible(axe_page, name)
