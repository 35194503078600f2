"""Journey 1: sign from the petition page, read the email, confirm, watch the count move."""

from __future__ import annotations

from tests.browser.support import (
    SIGNER,
    fold_counts,
    follow_mail_link,
    open_mail,
    settle,
    sign_form,
    signature_states,
)
from tests.factories import PetitionFactory


def test_signing_confirming_and_the_count_going_up_without_a_reload(context, page, expect):
    PetitionFactory(slug="clean-air", title="Clean air for every school", goal=10)
    settle()

    page.goto("/petitions/clean-air")
    expect(page.get_by_role("heading", level=1)).to_have_text("Clean air for every school")
    count = page.locator("[data-count]")
    expect(count).to_have_text("0")
    sign_form(page)
    page.get_by_label("Show my first name and country on this petition").check()
    page.get_by_role("button", name="Sign this petition").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    assert signature_states("clean-air") == [(SIGNER["email"], "pending")]

    # The petition page stays open in its own tab while the supporter reads their mail.
    petition_tab = context.new_page()
    petition_tab.goto("/petitions/clean-air")
    petition_tab.evaluate("window.openedOnce = true")  # gone if the page reloads
    expect(petition_tab.locator("[data-count]")).to_have_text("0")

    open_mail(page, SIGNER["email"], "Please confirm your signature")
    follow_mail_link(page, "/confirm/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your signature")
    assert signature_states("clean-air") == [(SIGNER["email"], "pending")]  # looking changes nothing

    page.get_by_role("button", name="Confirm my signature").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Thank you, your signature is confirmed")
    assert signature_states("clean-air") == [(SIGNER["email"], "confirmed")]

    assert fold_counts() == 1
    petition_tab.bring_to_front()
    expect(petition_tab.locator("[data-count]")).to_have_text("1", timeout=15_000)
    expect(petition_tab.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "1")
    assert petition_tab.evaluate("window.openedOnce") is True
    # The thank-you page polls the same count.
    expect(page.locator("[data-count]")).to_have_text("1", timeout=15_000)

    petition_tab.reload()
    expect(petition_tab.get_by_role("region", name="Recent signers")).to_contain_text(
        "Jane, United States")
