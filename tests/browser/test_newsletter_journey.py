"""Journey 2: subscribe to two categories, confirm, manage from the welcome email, leave."""

from __future__ import annotations

import re

from sqlalchemy import select

from petitions.extensions import db
from petitions.newsletter.subscribers import Subscriber
from tests.browser.support import follow_mail_link, open_mail, settle
from tests.factories import CategoryFactory

READER = "reader@example.org"
PREFERENCE_CENTRE = re.compile(r"/subscription/[^/\s]+$")


def subscriber_state() -> tuple[str, list[str]]:
    try:
        subscriber = db.session.scalars(select(Subscriber)).one()
        return subscriber.state, sorted(c.name for c in subscriber.categories)
    finally:
        settle()


def test_subscribe_confirm_drop_a_category_and_unsubscribe(page, expect):
    for name, slug in (("Housing", "housing"), ("Policing", "policing"), ("Schools", "schools")):
        CategoryFactory(name=name, slug=slug)
    settle()

    page.goto("/subscribe")
    page.get_by_label("Email address").fill(READER)
    page.get_by_label("Housing").check()
    page.get_by_label("Schools").check()
    page.get_by_label("Daily: one email a day").check()
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")

    open_mail(page, READER, "Please confirm your newsletter subscription")
    follow_mail_link(page, "/subscribe/confirm/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your subscription")
    expect(page.locator("main")).to_contain_text("a daily email with new articles and "
                                                 "petitions about Housing and Schools")
    assert subscriber_state() == ("pending", ["Housing", "Schools"])
    page.get_by_role("button", name="Confirm my subscription").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you, you're subscribed")
    assert subscriber_state() == ("active", ["Housing", "Schools"])

    open_mail(page, READER, "You're subscribed")
    follow_mail_link(page, PREFERENCE_CENTRE)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your newsletter")
    choices = page.get_by_role("group", name="What would you like to hear about?")
    expect(choices.get_by_label("Housing")).to_be_checked()
    expect(choices.get_by_label("Schools")).to_be_checked()
    expect(choices.get_by_label("Policing")).not_to_be_checked()

    choices.get_by_label("Housing").uncheck()
    page.get_by_role("button", name="Save my choices").click()
    expect(page.get_by_role("status").first).to_have_text("Your choices are saved.")
    expect(page.get_by_role("region", name="You're subscribed")).to_contain_text(
        "petitions about Schools.")
    assert subscriber_state() == ("active", ["Schools"])

    page.get_by_role("region", name="Unsubscribe").get_by_role("button",
                                                                name="Unsubscribe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You're unsubscribed")
    assert subscriber_state()[0] == "unsubscribed"
