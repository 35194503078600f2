"""Journey 5: errors. The signing form sent empty, with a bad email, and twice; the
subscribe form's errors; hints read out with their fields."""

from __future__ import annotations

from tests.browser.support import SIGNER, deliver_mail, settle, sign_form, signature_states
from tests.factories import CategoryFactory, PetitionFactory

MESSAGES = {
    "name": "Enter your name.",
    "email": "Enter your email address.",
    "postcode": "Enter your ZIP or postal code.",
}
DESCRIBED_BY = """([id, kind]) => {
  const field = document.getElementById(id);
  return (field.getAttribute("aria-describedby") || "").split(/\\s+/)
    .map(ref => document.getElementById(ref))
    .filter(node => node && node.classList.contains(kind))
    .map(node => node.textContent.trim()).join(" ");
}"""


def field_error(page, field_id: str) -> str:
    """The error a screen reader reads out with the field ("" if it is not invalid)."""
    if page.locator(f"#{field_id}").get_attribute("aria-invalid") != "true":
        return ""
    return page.evaluate(DESCRIBED_BY, [field_id, "error-message"])


def test_an_empty_form_lists_every_problem_and_moves_focus_to_the_summary(page, expect):
    PetitionFactory(slug="clean-air")
    settle()
    page.goto("/petitions/clean-air")

    page.get_by_role("button", name="Sign this petition").click()

    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(summary.get_by_role("heading")).to_have_text("Please check the form")
    expect(summary.get_by_role("link")).to_have_text(list(MESSAGES.values()))
    for field_id, message in MESSAGES.items():
        expect(page.locator(f"#{field_id}-error")).to_be_visible()
        assert field_error(page, field_id) == message
    assert field_error(page, "comment") == ""  # optional, and fine
    # Each summary line leads to its field.
    summary.get_by_role("link", name=MESSAGES["email"]).click()
    expect(page.get_by_label("Email address")).to_be_focused()
    assert signature_states() == []


def test_a_bad_email_address_is_explained_and_the_rest_is_kept(page, expect):
    PetitionFactory(slug="clean-air")
    settle()
    page.goto("/petitions/clean-air")

    sign_form(page, email="jane@example")
    page.get_by_label("Comment (optional)").fill("Our children breathe this air.")
    page.get_by_role("button", name="Sign this petition").click()

    expect(page.locator("#error-summary")).to_be_focused()
    message = "Enter an email address like name@example.com."
    expect(page.locator("#error-summary").get_by_role("link")).to_have_text([message])
    assert field_error(page, "email") == message
    expect(page.get_by_label("Full name")).to_have_value(SIGNER["name"])
    expect(page.get_by_label("Email address")).to_have_value("jane@example")
    expect(page.get_by_label("ZIP or postal code")).to_have_value(SIGNER["postcode"])
    expect(page.get_by_label("Comment (optional)")).to_have_value("Our children breathe this air.")
    assert signature_states() == []

    page.get_by_label("Email address").fill(SIGNER["email"])
    page.get_by_role("button", name="Sign this petition").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    assert signature_states() == [(SIGNER["email"], "pending")]


def test_a_hint_is_read_out_with_its_field_with_or_without_an_error(page, expect):
    PetitionFactory(slug="clean-air")
    settle()
    page.goto("/petitions/clean-air")
    hint = "We'll send you a link to confirm your signature."
    assert page.evaluate(DESCRIBED_BY, ["email", "hint"]) == hint

    page.get_by_role("button", name="Sign this petition").click()
    expect(page.locator("#error-summary")).to_be_focused()
    assert page.evaluate(DESCRIBED_BY, ["email", "hint"]) == hint


def test_signing_twice_gives_the_same_answer_and_one_signature(page, expect):
    PetitionFactory(slug="clean-air")
    settle()
    page.goto("/petitions/clean-air")

    sign_form(page)
    page.get_by_role("button", name="Sign this petition").dblclick()  # an impatient press
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    assert signature_states() == [(SIGNER["email"], "pending")]

    page.goto("/petitions/clean-air")  # later, having lost the email
    sign_form(page)
    page.get_by_role("button", name="Sign this petition").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    expect(page.locator("main")).to_contain_text("sign again to have the email sent once more")
    assert signature_states() == [(SIGNER["email"], "pending")]
    # The second time re-sends the confirmation link (at most 3 times).
    assert 2 <= deliver_mail() <= 3


def test_the_subscribe_form_ties_each_error_to_its_field_or_group(page, expect):
    CategoryFactory(name="Housing", slug="housing")
    settle()
    page.goto("/subscribe")

    page.get_by_role("button", name="Subscribe").click()

    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    categories = page.get_by_role("group", name="What would you like to hear about?")
    message = page.locator("#categories-error")
    expect(message).to_be_visible()
    expect(categories).to_have_attribute("aria-describedby", "categories-error")
    assert field_error(page, "email") == "Enter your email address."
    summary.get_by_role("link", name=message.inner_text()).click()
    expect(categories.get_by_role("checkbox").first).to_be_focused()
