"""Journey 4: a news site on another origin embeds a petition with embed.js."""

from __future__ import annotations

from datetime import timedelta

from petitions.database import utcnow
from tests.browser.servers import ArticleSite, article_html
from tests.browser.support import fold_counts, settle
from tests.factories import PetitionFactory, SignatureFactory
from tests.support.processes import free_port, wait_for


def test_an_article_on_another_site_shows_the_live_card_and_its_button_opens_the_petition(
        page, live_server, expect):
    petition = PetitionFactory(slug="quiet-streets", title="Quiet streets at night", goal=100,
                               signature_count=41)
    # Confirmed a moment ago and not yet counted: the next fold adds it.
    SignatureFactory(petition=petition, state="confirmed",
                     confirmed_at=utcnow() - timedelta(seconds=5))
    settle()

    with ArticleSite(free_port(), article_html(live_server.url, "quiet-streets")) as site:
        page.goto(f"{site.url}/2026/11/council-vote")
        expect(page.get_by_role("heading", level=1)).to_have_text("City council votes tonight")
        # The plain link became the card, framed from the petitions site.
        expect(page.get_by_role("link", name="Sign Our Petition")).to_have_count(0)
        frame_element = page.locator("iframe.petition-embed")
        expect(frame_element).to_have_attribute(
            "src", f"{live_server.url}/petitions/quiet-streets/embed")
        card = page.frame_locator("iframe.petition-embed")
        expect(card.get_by_role("heading", level=1)).to_have_text("Quiet streets at night")
        expect(card.locator("[data-count]")).to_have_text("41")
        expect(card.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "41")

        # The card tells the article how tall it is, and the frame fits it.
        def frame_fits_card() -> bool:
            card_height = card.locator("html").evaluate(
                "html => Math.ceil(html.getBoundingClientRect().height)")
            return frame_element.get_attribute("height") == str(card_height)

        assert wait_for(frame_fits_card, timeout=10), "the frame never took the card's height"

        assert fold_counts() == 1
        expect(card.locator("[data-count]")).to_have_text("42", timeout=15_000)

        with page.expect_popup() as popup_info:
            card.get_by_role("link", name="Sign this petition").click()
        petition_page = popup_info.value
        expect(petition_page).to_have_url(f"{live_server.url}/petitions/quiet-streets")
        expect(petition_page.get_by_role("heading", level=1)).to_have_text("Quiet streets at night")
        expect(petition_page.get_by_role("button", name="Sign this petition")).to_be_visible()
        expect(page).to_have_url(f"{site.url}/2026/11/council-vote")  # the article stays
