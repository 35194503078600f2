"""axe-core and our accessibility rules on the newsletter, privacy and update pages:
subscribing (with errors), confirming, the preference centre, unsubscribing, erasing,
the privacy notice, the data-rights pages, stopping a petition's updates, and their
broken links.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from petitions.database import utcnow
from petitions.newsletter.links import manage_token
from petitions.newsletter.tokens import make_confirmation_token as subscription_token
from petitions.privacy.rights import make_token as data_token
from petitions.updates.links import stop_token
from tests.browser.accessibility import PageList, assert_accessible
from tests.browser.support import settle
from tests.factories import CategoryFactory, PetitionFactory, SignatureFactory, SubscriberFactory

PAGES = PageList()


def subscriber(**fields):
    housing = CategoryFactory(name="Housing", slug="housing")
    CategoryFactory(name="Schools", slug="schools")
    return SubscriberFactory(email="reader@example.org", follows=[housing], **fields)


@PAGES.add("subscribe")
def _(browser_page, app):
    subscriber(state="active")
    settle()
    browser_page.goto("/subscribe?category=housing")


@PAGES.add("subscribe-with-errors")
def _(browser_page, app):
    CategoryFactory(name="Housing", slug="housing")
    settle()
    browser_page.goto("/subscribe")
    browser_page.get_by_role("button", name="Subscribe").click()
    browser_page.locator("#error-summary").wait_for()


@PAGES.add("subscribe-check-email")
def _(browser_page, app):
    browser_page.goto("/subscribe/check-email")


@PAGES.add("subscribe-confirm")
def _(browser_page, app):
    reader = subscriber(state="pending")
    token = subscription_token(reader.id, reader.canonical_email)
    settle()
    browser_page.goto(f"/subscribe/confirm/{token}")


@PAGES.add("subscribe-confirmed")
def _(browser_page, app):
    reader = subscriber(state="pending")
    token = subscription_token(reader.id, reader.canonical_email)
    settle()
    browser_page.goto(f"/subscribe/confirm/{token}")
    browser_page.get_by_role("button", name="Confirm my subscription").click()
    browser_page.get_by_text("Thank you, you're subscribed").wait_for()


@PAGES.add("subscribe-token-problem")
def _(browser_page, app):
    browser_page.goto("/subscribe/confirm/not-a-token")


@PAGES.add("preferences")
def _(browser_page, app):
    token = manage_token(subscriber(state="active"))
    settle()
    browser_page.goto(f"/subscription/{token}")


@PAGES.add("unsubscribe")
def _(browser_page, app):
    token = manage_token(subscriber(state="active"))
    settle()
    browser_page.goto(f"/subscription/{token}/unsubscribe")


@PAGES.add("unsubscribed")
def _(browser_page, app):
    token = manage_token(subscriber(state="active"))
    settle()
    browser_page.goto(f"/subscription/{token}/unsubscribe")
    browser_page.get_by_role("button", name="Unsubscribe").click()
    browser_page.get_by_role("heading", name="You're unsubscribed").wait_for()


@PAGES.add("subscription-link-problem")
def _(browser_page, app):
    browser_page.goto("/subscription/1-abc.not-signed")


@PAGES.add("erase-subscription")
def _(browser_page, app):
    token = manage_token(subscriber(state="active"))
    settle()
    browser_page.goto(f"/subscription/{token}/erase")


@PAGES.add("subscription-erased")
def _(browser_page, app):
    token = manage_token(subscriber(state="active"))
    settle()
    browser_page.goto(f"/subscription/{token}/erase")
    browser_page.get_by_role("button", name="Yes, erase everything").click()
    browser_page.get_by_role("heading", name="Your subscription is erased").wait_for()


@PAGES.add("privacy")
def _(browser_page, app):
    browser_page.goto("/privacy")


@PAGES.add("privacy-request")
def _(browser_page, app):
    browser_page.goto("/privacy/request")


@PAGES.add("privacy-request-with-errors")
def _(browser_page, app):
    browser_page.goto("/privacy/request")
    browser_page.get_by_role("button", name="Email me the link").click()
    browser_page.locator("#error-summary").wait_for()


@PAGES.add("privacy-check-email")
def _(browser_page, app):
    browser_page.goto("/privacy/check-email")


def _held_data() -> str:
    SignatureFactory(petition=PetitionFactory(), email="reader@example.org", state="confirmed",
                     confirmed_at=utcnow() - timedelta(days=1))
    subscriber(state="active")
    return data_token("reader@example.org")


@PAGES.add("privacy-data")
def _(browser_page, app):
    token = _held_data()
    settle()
    browser_page.goto(f"/privacy/data/{token}")


@PAGES.add("privacy-erase")
def _(browser_page, app):
    token = _held_data()
    settle()
    browser_page.goto(f"/privacy/data/{token}/erase")


@PAGES.add("privacy-erased")
def _(browser_page, app):
    token = _held_data()
    settle()
    browser_page.goto(f"/privacy/data/{token}/erase")
    browser_page.get_by_role("button", name="Yes, erase everything").click()
    browser_page.get_by_role("heading", name="Your details are erased").wait_for()


def _update_stop_link() -> str:
    signature = SignatureFactory(petition=PetitionFactory(title="Clean air for every school"),
                                 state="confirmed", confirmed_at=utcnow(), email_updates=True)
    return f"/updates/stop/{stop_token(signature.id, signature.canonical_email)}"


@PAGES.add("updates-stop")
def _(browser_page, app):
    link = _update_stop_link()
    settle()
    browser_page.goto(link)


@PAGES.add("updates-stopped")
def _(browser_page, app):
    link = _update_stop_link()
    settle()
    browser_page.goto(link)
    browser_page.get_by_role("button", name="Stop updates").click()
    browser_page.get_by_role("heading", name="Updates stopped").wait_for()


@PAGES.add("updates-link-problem")
def _(browser_page, app):
    browser_page.goto("/updates/stop/u1-000000000000.not-signed-at-all")


@PAGES.add("privacy-link-problem")
def _(browser_page, app):
    browser_page.goto("/privacy/data/not-a-token")


@pytest.mark.parametrize("name", list(PAGES))
def test_newsletter_or_privacy_page_is_accessible(name, axe_page, app):
    PAGES[name](axe_page, app)
    assert_accessible(axe_page, name)
