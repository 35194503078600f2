"""The look of the public pages at a phone's width (360 px) and a desktop's (1280 px).

Every page in every state (the recipes of the accessibility tests, plus the demo
petition with signers) is opened at both widths and must fit: nothing wider than the
screen, so no sideways scrolling on a phone. Each is saved as a screenshot under
test-artifacts/screenshots/; with SCREENSHOTS_DIR set (bin/screenshots), the SQLite
run also writes the README's screenshots there.

The petition page must not move while its count loads and rises: Chromium's own
layout-shift entries (the Cumulative Layout Shift measure) must add up to zero.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from petitions.database import utcnow
from petitions.demo import PETITION_SLUG, load_demo
from petitions.extensions import db
from petitions.signing.models import Petition
from tests.browser.conftest import ACTION_TIMEOUT_MS, ARTIFACTS
from tests.browser.support import fold_counts, settle
from tests.browser.test_accessibility_newsletter import PAGES as NEWSLETTER_PAGES
from tests.browser.test_accessibility_petitions import PAGES as PETITION_PAGES
from tests.factories import SignatureFactory

WIDTHS = {"phone": {"width": 360, "height": 740}, "desktop": {"width": 1280, "height": 900}}
SHOTS = ARTIFACTS.parent / "screenshots"
# The pages the README shows; every other page is still checked and saved as an artefact.
README_PAGES = ("demo-petition", "demo-petition-es", "demo-index", "petition-with-errors",
                "check-email", "confirmed", "demo-petition-closed", "petition-removed-410",
                "token-expired", "too-many-requests-429", "subscribe", "preferences",
                "unsubscribed")

SIGNERS = [("Maria", "US"), ("Jamal", "US"), ("Ana", "SV"), ("Luis", "MX"), ("Grace", "US"),
           ("Tomás", "GT"), ("Sofía", "HN"), ("Dev", "CA")]


def _demo() -> Petition:
    return db.session.scalars(select(Petition).filter_by(slug=PETITION_SLUG)).one()


def demo_petition(browser_page, app):
    """The demo petition from the news site's article, with signers who chose to be shown."""
    load_demo()
    petition = _demo()
    for index, (name, country) in enumerate(SIGNERS):
        SignatureFactory(petition=petition, name=f"{name} Example", country=country,
                         state="confirmed", show_name_publicly=True,
                         confirmed_at=utcnow() - timedelta(minutes=5 * index))
    petition.signature_count = 3_482
    settle()
    browser_page.goto(f"/petitions/{PETITION_SLUG}")


def demo_petition_in_spanish(browser_page, app):
    """The same, after the reader picked Español in the header: the demo's translation."""
    demo_petition(browser_page, app)
    browser_page.get_by_role("link", name="Español").click()
    browser_page.get_by_role("heading", level=1).filter(has_text="policía").wait_for()


def demo_index(browser_page, app):
    """The list of open petitions, with the demo's."""
    load_demo()
    settle()
    browser_page.goto("/")


def demo_petition_closed(browser_page, app):
    """The demo petition after its deadline: the result instead of the form."""
    load_demo()
    petition = _demo()
    petition.closes_at = utcnow() - timedelta(days=1)
    petition.signature_count = 12_480
    settle()
    browser_page.goto(f"/petitions/{PETITION_SLUG}")


PAGES = {"demo-petition": demo_petition, "demo-petition-es": demo_petition_in_spanish,
         "demo-index": demo_index, "demo-petition-closed": demo_petition_closed,
         **PETITION_PAGES, **NEWSLETTER_PAGES}
# The embed is a card for other sites' iframes, checked by the embed tests at its own size.
LAID_OUT = [name for name in PAGES if not name.startswith("embed")]


@pytest.fixture(params=list(WIDTHS))
def sized_page(request, browser, live_server, app):
    viewport = WIDTHS[request.param]
    phone = request.param == "phone"
    context = browser.new_context(base_url=live_server.url, viewport=viewport,
                                  is_mobile=phone, has_touch=phone)
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    page = context.new_page()
    page.width_name = request.param
    yield page
    context.close()


def _save(page, name: str, database_url: str) -> None:
    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    file_name = f"{name}-{page.width_name}.png"
    (SHOTS / backend).mkdir(parents=True, exist_ok=True)
    png = page.screenshot(full_page=True, path=str(SHOTS / backend / file_name))
    chosen = os.environ.get("SCREENSHOTS_DIR")
    if chosen and backend == "sqlite" and name in README_PAGES:
        Path(chosen).mkdir(parents=True, exist_ok=True)
        (Path(chosen) / file_name).write_bytes(png)


def _overflowing(page) -> list[str]:
    """Elements whose right edge passes the viewport's (the first few), and the page's
    scroll width when it is wider than the screen."""
    return page.evaluate("""() => {
      const width = document.documentElement.clientWidth;
      const wide = [...document.querySelectorAll("body *")]
        .filter(el => el.getClientRects().length && el.getBoundingClientRect().right > width + 1
                      && !el.closest(".hp-field, .visually-hidden, .skip-link"))
        .slice(0, 5)
        .map(el => el.tagName.toLowerCase() + (el.className ? "." + el.className : ""));
      const scroll = document.documentElement.scrollWidth;
      return scroll > width ? [`page scrolls sideways: ${scroll} > ${width}`, ...wide] : wide;
    }""")


@pytest.mark.parametrize("name", LAID_OUT)
def test_every_page_fits_phones_and_desktops(name, sized_page, app, database_url):
    PAGES[name](sized_page, app)
    sized_page.wait_for_load_state("load")
    _save(sized_page, name, database_url)
    assert _overflowing(sized_page) == []


WATCH_SHIFTS = """() => {
  window.layoutShifts = [];
  new PerformanceObserver(list => {
    for (const entry of list.getEntries()) {
      if (!entry.hadRecentInput) window.layoutShifts.push(entry.value);
    }
  }).observe({type: "layout-shift", buffered: true});
}"""


def test_the_petition_page_does_not_move_while_its_count_loads_and_rises(sized_page, app, expect):
    demo_petition(sized_page, app)
    sized_page.evaluate(WATCH_SHIFTS)
    SignatureFactory.create_batch(7, petition=_demo(), state="confirmed", confirmed_at=utcnow())
    settle()
    fold_counts()  # 3,482 + the 8 demo signers + 7: a digit more than a count.js refresh ago
    expect(sized_page.locator("[data-count]")).to_have_text("3,497", timeout=15_000)
    sized_page.wait_for_timeout(800)  # the progress bar's transition
    assert sized_page.evaluate("window.layoutShifts") == []
