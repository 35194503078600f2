"""The fraud view at /admin/signatures/fraud: per petition, hour, IP and email domain."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import insert

from petitions.database import utcnow
from petitions.extensions import db
from petitions.signing.models import Signature
from tests.factories import PetitionFactory
from tests.signing.helpers import signatures

ROW = re.compile(r"<tr( class=\"flagged\")?>\s*<td><code>([^<]+)</code></td>\s*<td>([^<]+)</td>"
                 r"\s*<td>([^<]+)</td>\s*<td class=\"num\">(\d+)", re.S)


def add_signatures(petition, n: int, created_at, ip="192.0.2.1", domain="example.org",
                   state="pending", first=0):
    """n signatures in one INSERT (the factory commits one row at a time)."""
    db.session.execute(insert(Signature), [
        {"petition_id": petition.id, "name": f"Signer {first + i}", "postcode": "20004",
         "email": f"s{first + i}.{petition.id}@{domain}",
         "canonical_email": f"s{first + i}.{petition.id}@{domain}", "country": "US",
         "state": state, "ip_address": ip, "created_at": created_at,
         "invalidated_at": utcnow() if state == "invalidated" else None}
        for i in range(n)
    ])
    db.session.commit()


def tables(response) -> tuple[list[tuple], list[tuple]]:
    """(per-IP rows, per-domain rows) as (flagged, slug, hour, key, count)."""
    assert response.status_code == 200, response.get_data(as_text=True)
    page = response.get_data(as_text=True)
    ip_part, _, domain_part = page.partition("Per email domain")

    def rows(html):
        return [(bool(f), slug, hour, unescape(key), int(n))
                for f, slug, hour, key, n in ROW.findall(html)]

    return rows(ip_part), rows(domain_part)


@pytest.fixture
def hour_ago(app):
    """The start of the previous whole hour, plus five minutes, in UTC."""
    app.config["SITE_TIMEZONE"] = "UTC"
    now = utcnow()
    return now.replace(minute=5, second=0, microsecond=0) - timedelta(hours=1)


def test_busy_ips_and_domains_are_flagged_at_the_default_thresholds(moderator_client,
                                                                    hour_ago):
    petition = PetitionFactory(slug="clean-air")
    add_signatures(petition, 20, hour_ago, ip="203.0.113.5", domain="bots.example")
    add_signatures(petition, 19, hour_ago, ip="203.0.113.6", domain="bots.example", first=20)
    add_signatures(petition, 11, hour_ago + timedelta(minutes=50), ip="203.0.113.7",
                   domain="bots.example", first=39)
    add_signatures(petition, 3, hour_ago, ip="198.51.100.1", domain="people.example",
                   first=50)
    hour = hour_ago.strftime("%Y-%m-%d %H:00")

    by_ip, by_domain = tables(moderator_client.get("/admin/signatures/fraud"))

    assert by_ip == [
        (True, "clean-air", hour, "203.0.113.5", 20),
        (False, "clean-air", hour, "203.0.113.6", 19),
        (False, "clean-air", hour, "203.0.113.7", 11),
        (False, "clean-air", hour, "198.51.100.1", 3),
    ]
    assert by_domain == [
        (True, "clean-air", hour, "bots.example", 50),
        (False, "clean-air", hour, "people.example", 3),
    ]


def test_rows_are_per_petition_and_per_hour(moderator_client, hour_ago):
    first, second = PetitionFactory(slug="first"), PetitionFactory(slug="second")
    earlier = hour_ago - timedelta(hours=1)
    add_signatures(first, 4, hour_ago)
    add_signatures(first, 2, hour_ago + timedelta(minutes=54), first=4)  # same hour
    add_signatures(first, 3, earlier, first=6)
    add_signatures(second, 5, hour_ago)

    by_ip, _ = tables(moderator_client.get("/admin/signatures/fraud?ip_threshold=5"))

    assert by_ip == [
        (True, "first", hour_ago.strftime("%Y-%m-%d %H:00"), "192.0.2.1", 6),
        (True, "second", hour_ago.strftime("%Y-%m-%d %H:00"), "192.0.2.1", 5),
        (False, "first", earlier.strftime("%Y-%m-%d %H:00"), "192.0.2.1", 3),
    ]


def test_thresholds_and_the_window_come_from_the_query(moderator_client, hour_ago):
    petition = PetitionFactory(slug="clean-air")
    add_signatures(petition, 4, hour_ago, ip="203.0.113.5", domain="a.example")
    add_signatures(petition, 6, hour_ago - timedelta(hours=30), ip="203.0.113.6",
                   domain="b.example", first=4)

    by_ip, by_domain = tables(moderator_client.get(
        "/admin/signatures/fraud?ip_threshold=4&domain_threshold=5"))
    assert [(flagged, key, n) for flagged, _, _, key, n in by_ip] == [(True, "203.0.113.5", 4)]
    assert [(flagged, key, n) for flagged, _, _, key, n in by_domain] == [(False, "a.example", 4)]

    by_ip, by_domain = tables(moderator_client.get(
        "/admin/signatures/fraud?hours=72&ip_threshold=4&domain_threshold=5"))
    assert [(flagged, key, n) for flagged, _, _, key, n in by_ip] == [
        (True, "203.0.113.6", 6), (True, "203.0.113.5", 4)]
    assert [(flagged, key, n) for flagged, _, _, key, n in by_domain] == [
        (True, "b.example", 6), (False, "a.example", 4)]


def test_invalidated_signatures_are_left_out(moderator_client, hour_ago):
    petition = PetitionFactory(slug="clean-air")
    add_signatures(petition, 25, hour_ago, ip="203.0.113.5", state="invalidated")
    add_signatures(petition, 2, hour_ago, ip="203.0.113.5", first=25)

    by_ip, _ = tables(moderator_client.get("/admin/signatures/fraud"))

    assert [(flagged, key, n) for flagged, _, _, key, n in by_ip] == [(False, "203.0.113.5", 2)]


def test_a_flagged_row_links_to_the_search_for_that_petition_address_and_day(
        app, moderator_client, hour_ago):
    app.config["SITE_TIMEZONE"] = "Pacific/Kiritimati"  # UTC+14: often a different date
    petition = PetitionFactory(slug="clean-air")
    add_signatures(petition, 20, hour_ago, ip="203.0.113.5", domain="bots.example")
    add_signatures(PetitionFactory(slug="other"), 1, hour_ago, ip="203.0.113.5", first=20)
    local_day = (hour_ago + timedelta(hours=14)).date().isoformat()

    page = moderator_client.get("/admin/signatures/fraud").get_data(as_text=True)

    ip_link = (f'/admin/signatures/?petition=clean-air&amp;date_from={local_day}'
               f'&amp;date_to={local_day}&amp;ip=203.0.113.5')
    domain_link = (f'/admin/signatures/?petition=clean-air&amp;date_from={local_day}'
                   f'&amp;date_to={local_day}&amp;domain=bots.example')
    assert f'href="{ip_link}"' in page
    assert f'href="{domain_link}"' in page
    found = moderator_client.get(unescape(ip_link))
    assert found.status_code == 200
    names = re.findall(r'<a href="/admin/signatures/\d+">([^<]+)</a>', found.get_data(as_text=True))
    assert sorted(names) == sorted(f"Signer {i}" for i in range(20))
    assert len(signatures()) == 21


@pytest.mark.parametrize("query, message", [
    ("hours=5", "Choose one of the windows in the list."),
    ("hours=-1", "Choose one of the windows in the list."),
    ("ip_threshold=1", "Enter a whole number from 2 to 100000."),
    ("ip_threshold=abc", "Enter a whole number from 2 to 100000."),
    ("ip_threshold=²", "Enter a whole number from 2 to 100000."),
    ("domain_threshold=100001", "Enter a whole number from 2 to 100000."),
    ("domain_threshold=" + "9" * 40, "Enter a whole number from 2 to 100000."),
])
def test_bad_settings_get_422_and_a_message(moderator_client, query, message):
    response = moderator_client.get(f"/admin/signatures/fraud?{query}")

    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def test_admins_and_moderators_may_see_it_and_anonymous_visitors_may_not(
        admin_client, moderator_client, client):
    assert admin_client.get("/admin/signatures/fraud").status_code == 200
    page = moderator_client.get("/admin/signatures/fraud")
    assert page.status_code == 200
    assert "No signatures in this window." in page.get_data(as_text=True)
    assert client.get("/admin/signatures/fraud").status_code == 302
