"""The preference centre: change, pause and resume, with CSRF on; broken links."""

import pytest

from petitions.newsletter.links import manage_token
from tests.factories import CategoryFactory, SubscriberFactory
from tests.newsletter.subscription_helpers import consents, subscribers
from tests.signing.helpers import csrf_token, flip_first_character, form_actions

IP = "198.51.100.8"


@pytest.fixture
def categories(app):
    return [CategoryFactory(name="Immigration"), CategoryFactory(name="Policing")]


@pytest.fixture
def reader(categories):
    subscriber = SubscriberFactory(email="reader@example.org", frequency="weekly",
                                   follows=[categories[0]])
    return subscriber, manage_token(subscriber)


def _page(client, token: str) -> str:
    response = client.get(f"/subscription/{token}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_page_shows_current_choices_and_every_action(client, reader, categories):
    subscriber, token = reader

    html = _page(client, token)

    assert "reader@example.org" in html
    assert "weekly email with new articles and petitions about Immigration" in html
    assert f'checked id="categories-0" name="categories" type="checkbox" value="{categories[0].id}"' in html
    assert f'id="categories-1" name="categories" type="checkbox" value="{categories[1].id}"' in html
    assert 'checked id="frequency-0" name="frequency" type="radio" value="weekly"' in html
    actions = form_actions(html)
    for path in ("", "/pause", "/unsubscribe"):
        assert f"/subscription/{token}{path}" in actions
    assert f"/subscription/{token}/export.json" in html and f"/subscription/{token}/erase" in html


def test_changing_categories_and_frequency_saves_them_and_records_consent(
    client, reader, categories
):
    subscriber, token = reader
    csrf = csrf_token(_page(client, token))

    response = client.post(
        f"/subscription/{token}",
        data={"csrf_token": csrf, "categories": [str(categories[1].id)], "frequency": "daily"},
        environ_base={"REMOTE_ADDR": IP},
    )

    assert response.status_code == 303
    assert "Your choices are saved." in client.get(response.headers["Location"]).get_data(
        as_text=True)
    [subscriber] = subscribers()
    assert subscriber.frequency == "daily"
    assert [c.name for c in subscriber.categories] == ["Policing"]
    [record] = consents()
    assert (record.action, record.source, record.ip_address) == (
        "change", "preference-centre", IP)
    assert record.consent_text == (
        "Send me a daily email with new articles and petitions about Policing.")


def test_choosing_all_categories_and_saving_nothing_new_records_nothing(client, reader):
    subscriber, token = reader
    csrf = csrf_token(_page(client, token))

    client.post(f"/subscription/{token}",
                data={"csrf_token": csrf, "all_categories": "y", "frequency": "weekly"})
    client.post(f"/subscription/{token}",
                data={"csrf_token": csrf, "all_categories": "y", "frequency": "weekly"})

    assert subscribers()[0].all_categories is True
    assert [r.action for r in consents()] == ["change"]


def test_bad_choices_are_a_422_and_change_nothing(client, reader):
    subscriber, token = reader
    csrf = csrf_token(_page(client, token))

    response = client.post(f"/subscription/{token}",
                           data={"csrf_token": csrf, "frequency": "hourly"})

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Choose at least one category, or all of them." in page
    assert "Choose daily or weekly." in page
    assert subscribers()[0].frequency == "weekly" and consents() == []


def test_pause_and_resume_switch_digests_off_and_on_with_consent_records(client, reader):
    subscriber, token = reader
    csrf = csrf_token(_page(client, token))

    paused = client.post(f"/subscription/{token}/pause", data={"csrf_token": csrf},
                         environ_base={"REMOTE_ADDR": IP})
    assert paused.status_code == 303
    assert subscribers()[0].paused is True and not subscribers()[0].receives_digests
    page = _page(client, token)
    assert "Your emails are paused" in page and f"/subscription/{token}/resume" in form_actions(page)

    resumed = client.post(f"/subscription/{token}/resume", data={"csrf_token": csrf})
    assert resumed.status_code == 303
    assert subscribers()[0].receives_digests
    assert [(r.action, r.source) for r in consents()] == [
        ("pause", "preference-centre"), ("resume", "preference-centre")]
    assert consents()[0].ip_address == IP


def test_preference_posts_without_csrf_token_are_refused(client, reader):
    subscriber, token = reader
    _page(client, token)

    for path in ("", "/pause", "/resume", "/erase"):
        response = client.post(f"/subscription/{token}{path}", data={"frequency": "daily"})
        assert response.status_code == 400, path
    assert subscribers()[0].frequency == "weekly" and not subscribers()[0].paused


def test_unsubscribed_reader_can_only_subscribe_again_from_the_page(client, reader):
    subscriber, token = reader
    csrf = csrf_token(_page(client, token))
    client.post(f"/subscription/{token}/unsubscribe", data={"from": "preference-centre"})

    page = _page(client, token)
    changed = client.post(f"/subscription/{token}/pause", data={"csrf_token": csrf})

    assert "You're unsubscribed" in page and "/subscribe" in page
    assert f"/subscription/{token}/pause" not in form_actions(page)
    assert changed.status_code == 409
    assert [(r.action, r.source) for r in consents()] == [("unsubscribe", "preference-centre")]


def test_tampered_overlong_or_garbage_tokens_get_a_friendly_404(client, reader):
    subscriber, token = reader
    csrf = {"csrf_token": csrf_token(_page(client, token))}

    for bad in (flip_first_character(token), token[:-2], "x" * 300, "nothing"):
        for response in (client.get(f"/subscription/{bad}"),
                         client.post(f"/subscription/{bad}", data=csrf),
                         client.post(f"/subscription/{bad}/pause", data=csrf),
                         client.get(f"/subscription/{bad}/unsubscribe"),
                         client.get(f"/subscription/{bad}/erase"),
                         client.post(f"/subscription/{bad}/erase", data=csrf)):
            assert response.status_code == 404, bad
            assert "This link doesn't work" in response.get_data(as_text=True)
        assert client.get(f"/subscription/{bad}/export.json").status_code == 404
    assert subscribers()[0].state == "active"
