"""The whole signing journey with the keyboard alone: Tab, Space and Enter, no mouse."""

from __future__ import annotations

import re

from tests.browser.support import SIGNER, deliver_mail, settle, signature_states
from tests.factories import PetitionFactory

# Counts every pointer event a page sees; keyboard activation fires none of these.
POINTER_LOG = """
window.pointerEvents = [];
for (const type of ["pointerdown", "pointerup", "mousedown", "mouseup", "touchstart"]) {
  window.addEventListener(type, event => window.pointerEvents.push(type), true);
}
"""
FOCUSED = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  return {id: el.id, tag: el.tagName.toLowerCase(), text: el.textContent.trim(),
          outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0};
}"""
MAX_TABS = 40


def tab_to(page, matches) -> dict:
    """Press Tab until the focused element matches; every stop on the way shows its focus."""
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        assert focused["outline"], f"no visible focus on {focused}"
        if matches(focused):
            return focused
    raise AssertionError(f"not reached in {MAX_TABS} presses of Tab")


def by_id(element_id: str):
    return lambda focused: focused["id"] == element_id


def button(text: str):
    return lambda focused: focused["tag"] == "button" and focused["text"] == text


def assert_no_pointer(page) -> None:
    assert page.evaluate("window.pointerEvents") == []


def test_signing_and_confirming_with_the_keyboard_alone(context, page, expect, mail):
    PetitionFactory(slug="clean-air", title="Clean air for every school")
    settle()
    context.add_init_script(POINTER_LOG)
    page.goto("/petitions/clean-air")

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")

    for field_id, value in (("name", SIGNER["name"]), ("email", SIGNER["email"]),
                            ("postcode", SIGNER["postcode"])):
        tab_to(page, by_id(field_id))
        page.keyboard.type(value)
    tab_to(page, by_id("country"))
    expect(page.get_by_label("Country", exact=True)).to_have_value("US")
    tab_to(page, by_id("show_name_publicly"))
    page.keyboard.press("Space")
    expect(page.get_by_label("Show my first name and country on this petition")).to_be_checked()
    tab_to(page, button("Sign this petition"))
    assert_no_pointer(page)
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    assert_no_pointer(page)
    assert deliver_mail() == 1
    [message] = mail.messages
    link = re.search(r"http://\S+/confirm/\S+", message.part("plain")).group(0)

    page.goto(link)  # pasted from the email
    tab_to(page, button("Confirm my signature"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Thank you, your signature is confirmed")
    assert_no_pointer(page)
    assert signature_states() == [(SIGNER["email"], "confirmed")]
