"""The privacy page says what is kept, for how long, and where to see or erase it."""

from __future__ import annotations


def text_of(client) -> str:
    response = client.get("/privacy")
    assert response.status_code == 200
    return " ".join(response.get_data(as_text=True).split())


def test_the_privacy_page_states_the_retention_periods_and_the_data_rights_link(client):
    page = text_of(client)

    assert "After 30 days we replace it with a code made from it with a secret key" in page
    assert "for 6 months after it closes" in page
    assert "SW1A 1AA becomes SW1, 20004 becomes 200" in page
    assert "7 days after the last email we sent you to confirm them" in page
    assert 'href="/privacy/request"' in page


def test_the_privacy_page_follows_the_settings(app, client):
    app.config.update(IP_RETENTION_DAYS=14, SIGNATURE_RETENTION_MONTHS=12)

    page = text_of(client)

    assert "After 14 days we replace it" in page and "for 12 months after it closes" in page
