"""Consent records keep what the person saw, where, from which address, and when."""

import re
from html import unescape

from petitions.database import utcnow
from petitions.mail.delivery import deliver_due
from tests.factories import CategoryFactory
from tests.newsletter.subscription_helpers import (
    confirm,
    confirm_token_in,
    consents,
    subscribe,
    subscribers,
)

FORM_IP = "192.0.2.10"
CLICK_IP = "2001:db8::7"


def _hint_sentences(html: str) -> list[str]:
    return [unescape(" ".join(m.split())) for m in re.findall(r'<p class="hint">(.*?)</p>', html, re.S)]


def _lede(html: str) -> str:
    return unescape(re.search(r'<p class="lede">(.*?)</p>', html, re.S).group(1).strip())


def test_form_and_confirmation_record_the_sentences_shown_with_ip_and_time(client, mail):
    immigration = CategoryFactory(name="Immigration")
    policing = CategoryFactory(name="Policing")
    shown_on_form = _hint_sentences(client.get("/subscribe").get_data(as_text=True))
    before = utcnow()

    subscribe(client, categories=[immigration, policing], frequency="daily", ip=FORM_IP)
    deliver_due()
    token = confirm_token_in(mail.messages[-1].part("plain"))
    shown_on_confirm = _lede(client.get(f"/subscribe/confirm/{token}").get_data(as_text=True))
    confirm(client, token, ip=CLICK_IP)

    asked, confirmed = consents(subscriber_id=subscribers()[0].id)
    assert (asked.action, asked.source, asked.ip_address) == ("subscribe", "subscribe-form",
                                                              FORM_IP)
    assert asked.consent_text in shown_on_form
    assert "change this or unsubscribe" in asked.consent_text
    assert (confirmed.action, confirmed.source, confirmed.ip_address) == (
        "confirm", "subscribe-form", CLICK_IP)
    assert confirmed.consent_text == shown_on_confirm == (
        "Send me a daily email with new articles and petitions about Immigration and Policing.")
    assert before <= asked.created_at <= confirmed.created_at <= utcnow()


def test_a_re_sent_confirmation_records_the_new_request_and_a_capped_one_records_nothing(
    client, mail
):
    category = CategoryFactory()
    for _ in range(6):
        subscribe(client, categories=[category])

    assert [c.action for c in consents()] == ["subscribe"] * 4
