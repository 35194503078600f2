"""/dev/mail, the development mail catcher's pages: the way into every journey's email."""

from __future__ import annotations

from tests.browser.support import SIGNER, open_mail, settle, sign_form
from tests.factories import PetitionFactory


def test_the_html_part_shows_in_the_preview_and_its_button_opens_the_page(page, expect):
    PetitionFactory(slug="clean-air")
    settle()
    page.goto("/petitions/clean-air")
    sign_form(page)
    page.get_by_role("button", name="Sign this petition").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")

    open_mail(page, SIGNER["email"], "Please confirm your signature")
    html_part = page.frame_locator("iframe.mail-frame")
    expect(html_part.get_by_role("heading", level=1)).to_have_text(
        "Please confirm your signature", timeout=1_000)
    with page.expect_navigation():
        html_part.get_by_role("link", name="Confirm my signature").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your signature")
