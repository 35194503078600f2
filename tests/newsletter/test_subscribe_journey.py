"""The newsletter's double opt-in through the real pages, with CSRF on, and real SMTP."""

import pytest

from petitions.mail.delivery import deliver_due
from tests.factories import CategoryFactory
from tests.newsletter.subscription_helpers import (
    READER,
    confirm_token_in,
    manage_token_in,
    subscribe,
    subscribers,
)
from tests.signing.helpers import csrf_token, form_actions, inputs, outbox


@pytest.fixture
def categories(app):
    return [CategoryFactory(name="Immigration", slug="immigration"),
            CategoryFactory(name="Policing", slug="policing")]


def test_form_offers_every_category_all_categories_and_weekly_by_default(client, categories):
    response = client.get("/subscribe")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "/subscribe" in form_actions(html)
    assert "Immigration" in html and "Policing" in html
    assert "All categories, including new ones" in html
    assert html.count('name="categories"') == 2
    assert 'checked id="frequency-0" name="frequency" type="radio" value="weekly"' in html
    assert "checked" not in inputs(html)["all_categories"]


def test_category_link_preselects_its_category_and_unknown_ones_are_ignored(
    client, categories
):
    html = client.get("/subscribe?category=policing").get_data(as_text=True)
    assert f'checked id="categories-1" name="categories" type="checkbox" value="{categories[1].id}"' in html
    assert f'value="{categories[0].id}"' in html and html.count("checked") == 2  # + weekly

    unknown = client.get("/subscribe?category=" + "x" * 500)
    assert unknown.status_code == 200
    assert unknown.get_data(as_text=True).count("checked") == 1


def test_subscribe_journey_from_form_to_welcome_email_with_list_headers(
    client, categories, mail
):
    response = subscribe(client, categories=[categories[0]], frequency="daily")

    assert response.status_code == 303
    assert response.headers["Location"].endswith("/subscribe/check-email")
    assert "Check your email" in client.get(response.headers["Location"]).get_data(as_text=True)
    [subscriber] = subscribers()
    assert (subscriber.state, subscriber.frequency, subscriber.email) == (
        "pending", "daily", READER)
    assert [c.slug for c in subscriber.categories] == ["immigration"]
    [row] = outbox()
    assert (row.kind, row.subscriber_id) == ("subscription_confirmation", subscriber.id)

    assert deliver_due()["sent"] == 1
    [message] = mail.messages
    text, html = message.part("plain"), message.part("html")
    token = confirm_token_in(text)
    assert f'href="http://petitions.test/subscribe/confirm/{token}"' in html
    assert "List-Unsubscribe" not in message.message  # not on the list yet

    page = client.get(f"/subscribe/confirm/{token}")  # what a mail scanner would do
    page_html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Confirm my subscription" in page_html
    assert f"/subscribe/confirm/{token}" in form_actions(page_html)
    assert "daily email with new articles and petitions about Immigration" in page_html
    assert subscribers()[0].state == "pending"

    confirmed = client.post(f"/subscribe/confirm/{token}",
                            data={"csrf_token": csrf_token(page_html)})
    assert confirmed.status_code == 200
    assert "Thank you, you're subscribed" in confirmed.get_data(as_text=True)
    [subscriber] = subscribers()
    assert subscriber.state == "active" and subscriber.confirmed_at is not None

    again = client.post(f"/subscribe/confirm/{token}", data={"csrf_token": csrf_token(page_html)})
    assert again.status_code == 200
    assert "already confirmed" in again.get_data(as_text=True)

    assert deliver_due()["sent"] == 1  # one welcome, however often the button is pressed
    welcome = mail.messages[-1]
    assert welcome.to == READER and "subscribed" in welcome.subject
    manage = manage_token_in(welcome.part("plain"))
    assert welcome.message["List-Unsubscribe"].startswith(
        f"<http://petitions.test/subscription/{manage}/unsubscribe>, <mailto:")
    assert welcome.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert welcome.message["List-Id"].endswith("<newsletter.petitions.test>")
    assert "daily email with new articles and petitions about Immigration" in welcome.part("plain")
    assert f'href="http://petitions.test/subscription/{manage}"' in welcome.part("html")
    centre = client.get(f"/subscription/{manage}")
    assert centre.status_code == 200 and READER in centre.get_data(as_text=True)


def test_all_categories_choice_follows_every_category_including_new_ones(client, categories):
    subscribe(client, all_categories=True)

    [subscriber] = subscribers()
    assert subscriber.all_categories is True and subscriber.categories == []


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"email": ""}, "Enter your email address."),
        ({"email": "not-an-address"}, "Enter an email address like name@example.com."),
        ({"email": "a" * 250 + "@x.org"}, "254 characters or fewer"),
        ({"categories": []}, "Choose at least one category, or all of them."),
        ({"categories": ["999999"]}, "Choose categories from the list."),
        ({"categories": ["abc"]}, "Choose categories from the list."),
        ({"frequency": "hourly"}, "Choose daily or weekly."),
    ],
)
def test_bad_input_is_a_422_with_a_message_and_stores_nothing(
    client, categories, fields, message
):
    response = subscribe(client, **{"categories": [categories[0]], **fields})

    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert subscribers() == [] and outbox() == []


def test_subscribe_post_without_csrf_token_is_refused_with_friendly_400(client, categories):
    client.get("/subscribe")

    response = client.post("/subscribe", data={"email": READER, "all_categories": "y"})

    assert response.status_code == 400
    assert "Your form expired" in response.get_data(as_text=True)
    assert subscribers() == []
