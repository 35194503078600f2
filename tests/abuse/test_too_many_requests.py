"""Limits other than signing answer 429 with Retry-After and a friendly page (JSON on the
API), and RATELIMIT_ENABLED=false turns them all off."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from petitions.extensions import db
from petitions.newsletter.subscribers import Subscriber


def _subscribe(client, n: int):
    return client.post("/subscribe", data={"email": f"reader{n}@example.org",
                                           "frequency": "weekly", "all_categories": "y"})


def _assert_friendly_429(response, json: bool = False):
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    if json:
        assert response.get_json()["status"] == 429
        assert response.get_json()["error"] == "Too many requests"
    else:
        page = response.get_data(as_text=True)
        assert "Too many requests" in page and "Please wait 1 minute and try again." in page
        assert "Traceback" not in page


def test_subscribing_over_the_limit_is_429_and_nothing_is_stored(limits_on, no_csrf, client):
    limits_on.config["RATELIMIT_SUBSCRIBE"] = "2/minute"
    assert [_subscribe(client, n).status_code for n in range(2)] == [303, 303]
    _assert_friendly_429(_subscribe(client, 2))
    assert client.get("/subscribe").status_code == 200  # only sending the form is limited
    assert db.session.scalar(select(func.count(Subscriber.id))) == 2


def test_admin_login_over_the_limit_is_429(limits_on, no_csrf, client):
    limits_on.config["RATELIMIT_LOGIN"] = "2/minute"
    form = {"email": "nobody@example.org", "password": "wrong password"}
    assert [client.post("/admin/login", data=form).status_code for _ in range(2)] == [401, 401]
    _assert_friendly_429(client.post("/admin/login", data=form))
    assert client.get("/admin/login").status_code == 200


def test_the_api_over_the_limit_is_429_json_even_before_the_token_is_checked(limits_on, client):
    limits_on.config["RATELIMIT_API"] = "2/minute"
    answers = [client.post("/api/articles", json={}).status_code for _ in range(2)]
    assert answers == [401, 401]
    _assert_friendly_429(client.post("/api/articles", json={}), json=True)
    # Another address is not affected.
    other = client.post("/api/articles", json={}, environ_base={"REMOTE_ADDR": "192.0.2.9"})
    assert other.status_code == 401


@pytest.mark.parametrize("path", ["/confirm/not-a-token", "/subscribe/confirm/not-a-token"])
def test_confirm_pages_over_the_limit_are_429(limits_on, client, path):
    limits_on.config["RATELIMIT_CONFIRM"] = "2/minute"
    assert [client.get(path).status_code for _ in range(2)] == [404, 404]
    _assert_friendly_429(client.get(path))


def test_switched_off_there_is_no_429(limits_on, no_csrf, client):
    limits_on.config.update(RATELIMIT_ENABLED=False, RATELIMIT_SUBSCRIBE="1/minute",
                            RATELIMIT_API="1/minute", RATELIMIT_CONFIRM="1/minute")
    assert [_subscribe(client, n).status_code for n in range(3)] == [303, 303, 303]
    assert [client.post("/api/articles", json={}).status_code for _ in range(3)] == [401] * 3
    assert [client.get("/confirm/x").status_code for _ in range(3)] == [404] * 3
